"""The traveler's side: sign-in, the call page and the token endpoint.

Sign-in is the check the phone agent makes: a trip confirmation code and the last name on it,
against the travel services. It yields a signed cookie naming the traveler (see ``auth``).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Cookie, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from navan_voice.domain.errors import CallerNotIdentifiedError, DomainError
from navan_voice.services.identity import identify_by_confirmation
from navan_voice.web.app import WebContext, http_status
from navan_voice.web.auth import TRAVELER_COOKIE, TRAVELER_MAX_AGE_S, TravelerSession
from navan_voice.web.tokens import issue_token

logger = logging.getLogger(__name__)
router = APIRouter()


class TokenRequest(BaseModel):
    room: str | None = Field(None, max_length=100, description="rejoin this room; None: new call")


def _web(request: Request) -> WebContext:
    web: WebContext = request.app.state.web
    return web


def signed_in(request: Request, cookie: str | None) -> TravelerSession:
    """The signed-in traveler; raises CallerNotIdentifiedError (401) when there is none."""
    traveler = _web(request).signer.read_traveler(cookie)
    if traveler is None:
        raise CallerNotIdentifiedError(
            "You are not signed in (or your sign-in expired); sign in on /call with your trip "
            "confirmation code and last name"
        )
    return traveler


@router.get("/", include_in_schema=False)
def index() -> RedirectResponse:
    return RedirectResponse("/call", status_code=303)


@router.get("/call", response_class=HTMLResponse)
def call_page(request: Request, navan_traveler: Annotated[str | None, Cookie()] = None) -> Response:
    web = _web(request)
    traveler = web.signer.read_traveler(navan_traveler)
    return web.templates.TemplateResponse(
        request, "call.html", {"traveler": traveler, "error": None}
    )


@router.post("/signin", response_class=HTMLResponse)
def sign_in(
    request: Request,
    confirmation_code: Annotated[str, Form(max_length=40)],
    last_name: Annotated[str, Form(max_length=80)],
) -> Response:
    web = _web(request)
    try:
        found = identify_by_confirmation(
            db=web.db, confirmation_code=confirmation_code, last_name=last_name
        )
    except DomainError as e:
        return web.templates.TemplateResponse(
            request, "call.html", {"traveler": None, "error": str(e)}, status_code=http_status(e)
        )
    session = TravelerSession(
        traveler_id=found.id,
        name=found.full_name,
        company=found.company_name,
        confirmation_code=confirmation_code.strip().upper(),
    )
    logger.info("web sign-in: traveler %s", found.id)
    response = RedirectResponse("/call", status_code=303)
    response.set_cookie(
        TRAVELER_COOKIE,
        web.signer.traveler_cookie(session),
        max_age=TRAVELER_MAX_AGE_S,
        httponly=True,
        samesite="strict",
    )
    return response


@router.post("/signout")
def sign_out() -> RedirectResponse:
    response = RedirectResponse("/call", status_code=303)
    response.delete_cookie(TRAVELER_COOKIE)
    return response


@router.post("/api/token")
def token(
    request: Request,
    body: TokenRequest | None = None,
    navan_traveler: Annotated[str | None, Cookie()] = None,
) -> dict[str, object]:
    """A short-lived LiveKit token for the traveler's own (new or existing) call room."""
    traveler = signed_in(request, navan_traveler)
    issued = issue_token(_web(request).settings, traveler, body.room if body else None)
    logger.info("token issued for room %s", issued.room_name)
    return asdict(issued)
