"""Programs the project builds from their Go modules and caches under .cache/bin by version."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

from navan_voice.config import Settings
from navan_voice.domain.errors import SetupError

logger = logging.getLogger(__name__)


def cached_binary(settings: Settings, name: str, version: str) -> Path:
    return settings.cache_dir / "bin" / f"{name}-{version}"


def ensure_binary(
    settings: Settings, *, name: str, version: str, script: Path, needs: str = "Go 1.26"
) -> Path:
    """``name`` at ``version``: the cached binary, or built once by ``script`` (which prints the
    binary's path last on stdout) and cached for every later run."""
    binary = cached_binary(settings, name, version)
    if binary.exists():
        return binary
    logger.info("%s %s is not built yet; building it", name, version)
    try:
        out = subprocess.run(
            ["bash", str(script), version],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "NAVAN_CACHE_DIR": str(settings.cache_dir)},
        )
    except subprocess.CalledProcessError as e:
        raise SetupError(
            f"building {name} {version} failed (exit {e.returncode}); it needs {needs}; "
            f"run {script} by hand to see why"
        ) from e
    path = Path(out.stdout.strip().splitlines()[-1])
    if not path.exists():
        raise SetupError(f"the install script {script} did not produce {path}")
    return path
