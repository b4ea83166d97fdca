"""Who is calling: by the phone number the call came from, else confirmation code + last name."""

from __future__ import annotations

import logging
import re
import unicodedata

from navan_voice.db import repositories as repo
from navan_voice.db.engine import SessionFactory, transaction
from navan_voice.domain.errors import CallerNotIdentifiedError, InvalidRequestError
from navan_voice.domain.models import Traveler

logger = logging.getLogger(__name__)


def normalize_phone(raw: str) -> str | None:
    """A phone number in E.164 (+14155550123), from SIP URIs and spoken or dialled forms.

    Ten-digit numbers are taken as North American; returns None when no number is in ``raw``.
    """
    text = raw.strip().lower()
    text = re.sub(r"^(sip:|tel:)", "", text).split("@", 1)[0]
    plus = text.startswith("+")
    digits = re.sub(r"\D", "", text)
    if not 7 <= len(digits) <= 15:
        return None
    if not plus and len(digits) == 10:
        digits = "1" + digits
    return "+" + digits


def identify_by_phone(*, db: SessionFactory, phone: str) -> Traveler | None:
    """The traveler whose profile holds ``phone``; None when the number is unknown."""
    e164 = normalize_phone(phone)
    if e164 is None:
        return None
    with transaction(db) as session:
        row = repo.traveler_by_phone(session, e164)
        found = repo.to_traveler(row) if row else None
    logger.info("caller identified by phone: %s", bool(found))
    return found


def traveler_by_id(*, db: SessionFactory, traveler_id: int) -> Traveler | None:
    """The traveler with this id (e.g. signed in on the web app); None when there is none."""
    with transaction(db) as session:
        row = repo.traveler_by_id(session, traveler_id)
        return repo.to_traveler(row) if row else None


def identify_by_confirmation(
    *, db: SessionFactory, confirmation_code: str, last_name: str
) -> Traveler:
    """The traveler on the trip ``confirmation_code`` if their last name matches.

    Both a wrong code and a wrong name get the same answer, so a caller cannot probe which
    codes exist.
    """
    code = re.sub(r"[^A-Za-z0-9]", "", confirmation_code).upper()
    name = _name_key(last_name)
    if len(code) != 6 or not name:
        raise InvalidRequestError(
            "A confirmation code has six letters and digits, like N V N 7 Q 2; please read it "
            "from your itinerary email, together with your last name."
        )
    with transaction(db) as session:
        trip = repo.trip_by_code(session, code)
        traveler = repo.traveler_by_id(session, trip.traveler_id) if trip else None
        if traveler is None or _name_key(traveler.last_name) != name:
            raise CallerNotIdentifiedError(
                f"I could not find a booking with code {' '.join(code)} under the name "
                f"{last_name.strip()}. Please check the code on your itinerary email."
            )
        return repo.to_traveler(traveler)


def _name_key(name: str) -> str:
    """A last name as compared: accents, case, spaces and punctuation dropped, so "González",
    "gonzalez." (as a transcript writes it) and "Gonzalez" are one name, as are "O'Brien" and
    "OBrien"."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", name).casefold() if ch.isalnum())
