"""The web app: the traveler's call page, its token endpoint, and the dashboard.

``build_app(settings)`` makes the FastAPI app (no I/O until a request arrives); ``serve``
runs it with uvicorn on ``settings.web_port``; ``readiness_url`` is what a supervisor polls.
Errors from ``navan_voice.domain.errors`` become HTTP errors here, with their message.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from navan_voice.config import Settings
from navan_voice.db.engine import SessionFactory, make_session_factory
from navan_voice.domain import errors
from navan_voice.web.auth import Signer

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
READY_PATH = "/healthz"

# domain error → HTTP status; the most specific class wins (checked in order)
STATUS_BY_ERROR: list[tuple[type[errors.NavanError], int]] = [
    (errors.CallerNotIdentifiedError, 401),
    (errors.NotAuthorizedError, 403),
    (errors.NotFoundError, 404),
    (errors.ConflictError, 409),
    (errors.InvalidRequestError, 422),
    (errors.DomainError, 400),
    (errors.DataUnavailableError, 503),
    (errors.ServerNotRunningError, 503),
]


def http_status(error: errors.NavanError) -> int:
    """The HTTP status for a domain error (500 for anything unexpected)."""
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500


class WebContext:
    """What the routes share: settings, signer, templates and the database (opened lazily)."""

    def __init__(self, settings: Settings, session_factory: SessionFactory | None) -> None:
        self.settings = settings
        self.signer = Signer(settings)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.filters["bounded"] = _bounded
        self._session_factory = session_factory

    @property
    def db(self) -> SessionFactory:
        if self._session_factory is None:
            self._session_factory = make_session_factory(self.settings.effective_database_url)
        return self._session_factory


def _bounded(value: Any, limit: int = 200) -> str:
    """A value as text, cut to ``limit`` characters (templates escape it as well)."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_app(settings: Settings, *, session_factory: SessionFactory | None = None) -> FastAPI:
    """The FastAPI app; ``session_factory`` overrides the database (tests)."""
    from navan_voice.web import calls, dashboard

    app = FastAPI(title="navan-voice", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = WebContext(settings, session_factory)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(calls.router)
    app.include_router(dashboard.router)

    @app.get(READY_PATH, include_in_schema=False)
    def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.exception_handler(errors.NavanError)
    async def _navan_error(request: Request, exc: errors.NavanError) -> JSONResponse:
        status = http_status(exc)
        if status >= 500:
            logger.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc)
        return JSONResponse({"error": str(exc)}, status_code=status)

    return app


def readiness_url(settings: Settings, host: str = "127.0.0.1") -> str:
    """The URL that answers 200 once the app serves requests."""
    return f"http://{host}:{settings.web_port}{READY_PATH}"


def serve(settings: Settings, host: str = "127.0.0.1") -> None:
    """Serve the app in the foreground until SIGINT/SIGTERM."""
    import uvicorn

    uvicorn.run(
        build_app(settings),
        host=host,
        port=settings.web_port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )
