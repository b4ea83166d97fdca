"""`python -m navan_voice.web [--host H]`: serve the web app on NAVAN_WEB_PORT."""

from __future__ import annotations

import argparse
import logging

from navan_voice.config import load_settings
from navan_voice.web.app import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m navan_voice.web")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    args = parser.parse_args()
    settings = load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(name)s %(message)s")
    serve(settings, host=args.host)


if __name__ == "__main__":
    main()
