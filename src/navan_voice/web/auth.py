"""Sign-in for the web app: signed, expiring cookies for travelers and for the dashboard.

Two kinds of session, kept apart by the salt they are signed with:

- a *traveler* session, made when someone signs in on the call page with a trip confirmation code
  and the last name on it (checked against the travel services, the same check the phone agent
  uses). It names the traveler; the token endpoint only ever issues tokens for that traveler's
  own rooms.
- a *dashboard* session, made by the dashboard's password (``NAVAN_DASHBOARD_PASSWORD``). With no
  password set, nobody can sign in: recordings are never shown anonymously.

Cookies are signed with ``NAVAN_WEB_SECRET`` (a random key per process when it is empty, so every
sign-in ends when the app restarts) and carry their own expiry.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from navan_voice.config import Settings

logger = logging.getLogger(__name__)

TRAVELER_COOKIE = "navan_traveler"
DASHBOARD_COOKIE = "navan_dashboard"
TRAVELER_MAX_AGE_S = 8 * 3600
DASHBOARD_MAX_AGE_S = 12 * 3600


@dataclass(frozen=True)
class TravelerSession:
    """Who is signed in on the call page."""

    traveler_id: int
    name: str
    company: str
    confirmation_code: str


class Signer:
    """Signs and checks the app's cookies."""

    def __init__(self, settings: Settings) -> None:
        key = settings.web_secret.get_secret_value()
        if not key:
            key = secrets.token_urlsafe(32)
            logger.warning(
                "NAVAN_WEB_SECRET is not set: using a random key, so sign-ins end when the web "
                "app restarts (set it to keep them, and to run more than one web process)"
            )
        self._traveler = URLSafeTimedSerializer(key, salt="navan-traveler")
        self._dashboard = URLSafeTimedSerializer(key, salt="navan-dashboard")
        self._password = settings.dashboard_password.get_secret_value()

    # --- travelers -------------------------------------------------------------------------
    def traveler_cookie(self, session: TravelerSession) -> str:
        return self._traveler.dumps(
            {
                "id": session.traveler_id,
                "name": session.name,
                "company": session.company,
                "code": session.confirmation_code,
            }
        )

    def read_traveler(self, cookie: str | None) -> TravelerSession | None:
        """The traveler the cookie names, or None when it is missing, forged or expired."""
        data = _loads(self._traveler, cookie, TRAVELER_MAX_AGE_S)
        if not isinstance(data, dict):
            return None
        try:
            return TravelerSession(
                traveler_id=int(data["id"]),
                name=str(data["name"]),
                company=str(data["company"]),
                confirmation_code=str(data["code"]),
            )
        except (KeyError, TypeError, ValueError):
            return None

    # --- dashboard ------------------------------------------------------------------------
    @property
    def dashboard_enabled(self) -> bool:
        return bool(self._password)

    def check_password(self, password: str) -> bool:
        """True when ``password`` is the dashboard's; always False when none is configured."""
        if not self._password:
            return False
        return hmac.compare_digest(password.encode(), self._password.encode())

    def dashboard_cookie(self) -> str:
        return self._dashboard.dumps({"role": "dashboard"})

    def read_dashboard(self, cookie: str | None) -> bool:
        data = _loads(self._dashboard, cookie, DASHBOARD_MAX_AGE_S)
        return isinstance(data, dict) and data.get("role") == "dashboard"


def _loads(serializer: URLSafeTimedSerializer, cookie: str | None, max_age: int) -> object:
    if not cookie:
        return None
    try:
        return serializer.loads(cookie, max_age=max_age)
    except SignatureExpired:
        return None
    except BadSignature:
        logger.warning("refused a cookie with a bad signature")
        return None
