"""The dashboard: calls list, one call (audio synced to the transcript), overview.

Everything here needs a dashboard sign-in (``NAVAN_DASHBOARD_PASSWORD``); recordings are never
served anonymously. Data comes from ``navan_voice.recording.index``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from navan_voice.domain.errors import NotAuthorizedError, NotFoundError
from navan_voice.recording import index
from navan_voice.web.app import WebContext
from navan_voice.web.auth import DASHBOARD_COOKIE, DASHBOARD_MAX_AGE_S
from navan_voice.web.charts import buckets_svg, turn_latency_svg

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/dashboard")
Session = Annotated[str | None, Cookie(alias=DASHBOARD_COOKIE)]
OGG_MAGIC = b"OggS"


@dataclass(frozen=True)
class RecordingState:
    """Whether the call's audio can be played, and if not, why (shown on the page)."""

    playable: bool
    message: str


def recording_state(detail: index.CallDetail) -> RecordingState:
    path_text = detail.local_path or detail.recording_uri
    if not path_text:
        return RecordingState(False, "This call has no recording.")
    if "://" in path_text:
        return RecordingState(
            False, f"The recording is in object storage ({path_text}); no local copy is kept."
        )
    path = Path(path_text)
    if not path.is_file():
        return RecordingState(False, "The recording file is missing from storage.")
    try:
        with path.open("rb") as f:
            head = f.read(4)
    except OSError as e:
        return RecordingState(False, f"The recording file cannot be read ({e.strerror}).")
    if head != OGG_MAGIC:
        return RecordingState(False, "The recording file is corrupt (not an Ogg/Opus file).")
    return RecordingState(True, "")


def _web(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


def _authed(request: Request, cookie: str | None) -> bool:
    return _web(request).signer.read_dashboard(cookie)


def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/dashboard/login?next={request.url.path}", status_code=303)


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    return _web(request).templates.TemplateResponse(request, name, context, status_code=status)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/dashboard/calls") -> Response:
    enabled = _web(request).signer.dashboard_enabled
    return _page(request, "dash_login.html", {"error": None, "next": next, "enabled": enabled})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str, Form(max_length=200)] = "/dashboard/calls",
) -> Response:
    signer = _web(request).signer
    if not signer.check_password(password):
        error = (
            "Wrong password."
            if signer.dashboard_enabled
            else "The dashboard is off: set NAVAN_DASHBOARD_PASSWORD and restart the web app."
        )
        logger.warning("dashboard sign-in refused")
        ctx = {"error": error, "next": next, "enabled": signer.dashboard_enabled}
        return _page(request, "dash_login.html", ctx, status=401)
    target = next if next.startswith("/dashboard") else "/dashboard/calls"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        DASHBOARD_COOKIE,
        signer.dashboard_cookie(),
        max_age=DASHBOARD_MAX_AGE_S,
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/logout")
def logout() -> RedirectResponse:
    response = RedirectResponse("/dashboard/login", status_code=303)
    response.delete_cookie(DASHBOARD_COOKIE)
    return response


@router.get("", include_in_schema=False)
def home() -> RedirectResponse:
    return RedirectResponse("/dashboard/calls", status_code=303)


def _day(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@router.get("/calls", response_class=HTMLResponse)
def calls(
    request: Request,
    session: Session = None,
    since: Annotated[str | None, Query(max_length=32)] = None,
    until: Annotated[str | None, Query(max_length=32)] = None,
    outcome: Annotated[str | None, Query(max_length=40)] = None,
    agent: Annotated[str | None, Query(max_length=80)] = None,
    traveler: Annotated[str | None, Query(max_length=120)] = None,
    tag: Annotated[str | None, Query(max_length=80)] = None,
    page: Annotated[int, Query(ge=1, le=10000)] = 1,
) -> Response:
    if not _authed(request, session):
        return _login_redirect(request)
    until_dt = _day(until)
    if until_dt is not None and len(until or "") <= 10:
        until_dt += timedelta(days=1)  # a date means "through the end of that day"
    filters: dict[str, Any] = {
        "since": _day(since),
        "until": until_dt,
        "outcome": outcome or None,
        "agent": agent or None,
        "traveler": traveler or None,
        "tag": tag or None,
    }
    per_page = 50
    rows = index.list_calls(
        _web(request).db, limit=per_page, offset=(page - 1) * per_page, **filters
    )
    total = index.count_calls(_web(request).db, **filters)
    form = {
        "since": since or "",
        "until": until or "",
        "outcome": outcome or "",
        "agent": agent or "",
        "traveler": traveler or "",
        "tag": tag or "",
    }
    return _page(
        request,
        "dash_calls.html",
        {
            "calls": rows,
            "total": total,
            "form": form,
            "outcomes": index.OUTCOMES,
            "page": page,
            "pages": max(1, -(-total // per_page)),
        },
    )


def _detail(request: Request, call_id: str) -> index.CallDetail:
    detail = index.get_call(_web(request).db, call_id)
    if detail is None:
        raise NotFoundError(f"There is no call {call_id[:80]!r}; pick one from the calls list")
    return detail


@router.get("/calls/{call_id}", response_class=HTMLResponse)
def call(request: Request, call_id: str, session: Session = None) -> Response:
    if not _authed(request, session):
        return _login_redirect(request)
    detail = index.get_call(_web(request).db, call_id)
    if detail is None:
        return _page(request, "dash_missing.html", {"call_id": call_id}, status=404)
    return _page(
        request,
        "dash_call.html",
        {
            "d": detail,
            "c": detail.call,
            "recording": recording_state(detail),
            "latency_svg": turn_latency_svg(detail.turns),
        },
    )


@router.get("/calls/{call_id}/audio")
def audio(request: Request, call_id: str, session: Session = None) -> FileResponse:
    if not _authed(request, session):
        raise NotAuthorizedError("Sign in to the dashboard to play recordings")
    detail = _detail(request, call_id)
    state = recording_state(detail)
    if not state.playable:
        raise NotFoundError(state.message)
    return FileResponse(detail.local_path or detail.recording_uri, media_type="audio/ogg")


@router.get("/overview", response_class=HTMLResponse)
def overview(
    request: Request,
    session: Session = None,
    hours: Annotated[int, Query(ge=1, le=24 * 90)] = 24 * 7,
    bucket_minutes: Annotated[int, Query(ge=5, le=24 * 60)] = 60,
) -> Response:
    if not _authed(request, session):
        return _login_redirect(request)
    since = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=hours)
    ov = index.overview(
        _web(request).db,
        since=since if hours < 24 * 90 else None,
        bucket=timedelta(minutes=bucket_minutes),
    )
    charts = {stage: buckets_svg(ov.buckets, stage) for stage in ("e2e", "llm_ttft")}
    return _page(
        request,
        "dash_overview.html",
        {
            "ov": ov,
            "charts": charts,
            "hours": hours,
            "bucket_minutes": bucket_minutes,
            "stages": index.STAGES,
        },
    )
