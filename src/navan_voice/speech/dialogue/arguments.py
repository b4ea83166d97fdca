"""Filling a tool's arguments from the conversation, guided by its JSON schema.

Each parameter is matched by its name, type, enum and docstring description to a slot
extractor; the caller's latest turn wins, then earlier turns, then the arguments of earlier
tool calls with the same parameter name (so the caller never repeats themselves).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from . import slots
from .context import Conversation, ToolSpec
from .intents import is_information_question

# parameters whose value is the caller's own words (a question, a summary, a reason)
_FREE_TEXT_HINTS = ("question", "query", "topic", "summary", "reason", "request", "issue",
                    "message", "text", "description", "details", "note")  # fmt: skip


# who the caller is carries over from earlier tool calls; which flight or date does not (the
# tools default to "the one being discussed", and a stale flight number would be worse)
_CARRIED_KINDS = ("code", "last_name", "first_name", "name", "phone")
_THIS_REQUEST_KINDS = ("reference", "hotel", "flight_number")


def _kind(name: str, prop: dict[str, Any]) -> str:
    """Which extractor serves a parameter, from its name first and its description second."""
    n = name.lower()
    desc = str(prop.get("description", "")).lower()
    typ = prop.get("type")
    if "enum" in prop:
        return "enum"
    if typ == "boolean":
        return "bool"
    checks: list[tuple[str, tuple[str, ...]]] = [
        ("time", ("time", "hour")),
        ("phone", ("phone", "caller_id", "msisdn")),
        ("hotel", ("hotel", "stay", "property")),
        ("code", ("confirmation", "record_locator", "locator", "pnr", "booking_code", "code")),
        ("last_name", ("last_name", "surname", "family_name", "lastname")),
        ("first_name", ("first_name", "given_name", "firstname")),
        ("flight_number", ("flight_number", "flight_no")),
        ("reference", ("flight", "reference", "segment", "which", "booking", "trip")),
        ("date", ("date", "day", "when")),
        ("airport", ("airport", "origin", "destination", "from_", "to_")),
        ("city", ("city", "location")),
        ("option", ("option", "choice", "index", "alternative", "selection")),
        ("name", ("name", "traveler")),
    ]
    for kind, keys in checks:
        if any(k in n for k in keys):
            return kind
    for kind, keys in checks:
        if any(k.strip("_") in desc for k in keys if len(k) > 3):
            return kind
    if typ in ("integer", "number"):
        return "number"
    if any(h in n for h in _FREE_TEXT_HINTS) or any(h in desc for h in _FREE_TEXT_HINTS):
        return "free_text"
    return "unknown"


def _enum_value(values: list[Any], text: str) -> Any:
    low = text.lower()
    for v in values:
        label = str(v).lower().replace("_", " ")
        if re.search(rf"\b{re.escape(label)}\b", low):
            return v
    return None


def extract(kind: str, prop: dict[str, Any], text: str, today: dt.date) -> Any:
    """The value of one parameter of ``kind`` found in ``text``, or None."""
    typ = prop.get("type")
    value: Any = None
    if kind == "enum":
        value = _enum_value(list(prop.get("enum", [])), text)
    elif kind == "bool":
        value = True if slots.is_yes(text) else False if slots.is_no(text) else None
    elif kind == "phone":
        value = next(iter(slots.phone_numbers(text)), None)
    elif kind == "code":
        value = next(iter(slots.confirmation_codes(text)), None)
    elif kind in ("last_name", "first_name", "name"):
        first, last = slots.person_names(text)
        value = {"last_name": last, "first_name": first}.get(kind)
        if kind == "name" and (first or last):
            value = " ".join(p for p in (first, last) if p)
    elif kind == "hotel":
        # a hotel's code ("HTL-48213") or the city of the stay ("my hotel in New York")
        codes = re.findall(r"\b[A-Z]{3,4}-?\d{4,6}\b", text.upper())
        value = codes[0] if codes else next(iter(slots.city_names(text)), None)
    elif kind == "flight_number":
        value = next(iter(slots.flight_numbers(text)), None)
    elif kind == "reference":
        value = booking_reference(prop, text)
    elif kind == "date":
        found = slots.dates(text, today)
        value = found[0].isoformat() if found else None
    elif kind == "time":
        value = next(iter(slots.times_of_day(text)), None)
    elif kind == "airport":
        value = next(iter(slots.airport_codes(text)), None)
    elif kind == "option":
        value = slots.ordinal(text)
    elif kind == "number":
        nums = slots.numbers(text)
        value = nums[0] if nums else None
    if value is not None and typ == "integer" and isinstance(value, float | int):
        value = int(value)
    if value is not None and typ == "string" and not isinstance(value, str):
        value = str(value)
    return value


def flight_reference(text: str) -> str | None:
    """What a caller calls a flight: "UA 1542", a booking code, "SFO to JFK", "to JFK" (the
    flight to New York), "from JFK" (the one out of it), "JFK" (either), "return" (the flight
    back) or "outbound"."""
    for found in (slots.flight_numbers(text), slots.confirmation_codes(text)):
        if found:
            return found[0]
    airports = slots.airport_codes(text) or slots.city_airports(text)
    if len(airports) >= 2:
        return f"{airports[0]} to {airports[1]}"
    if not airports:
        return slots.trip_leg(text)
    direction = slots.airport_direction(text)
    return f"{direction} {airports[0]}" if direction else airports[0]


def booking_reference(prop: dict[str, Any], text: str) -> str | None:
    """A flight reference, else the kind of booking named ("hotel", "flight") when the
    parameter's description offers that choice."""
    found = flight_reference(text)
    if found is not None:
        return found
    desc = str(prop.get("description", "")).lower()
    for kind, pattern in (("hotel", r"\b(hotels?|rooms?|stays?)\b"), ("flight", r"\bflights?\b")):
        if f'"{kind}"' in desc and re.search(pattern, text, re.I):
            return kind
    return None


def _all_of(kind: str, text: str, today: dt.date) -> list[str]:
    """Every date (ISO) or airport code in ``text``, in the order said."""
    if kind == "date":
        return [d.isoformat() for d in slots.dates(text, today)]
    codes = slots.confirmation_codes(text)
    # "N V N 7 Q 2" is a booking code being spelled, not the airport NVN
    airports = [a for a in slots.airport_codes(text) if not any(c.startswith(a) for c in codes)]
    return airports or slots.city_airports(text)


# words that say which end of a stay a date is
_ROLE_WORDS = re.compile(
    r"\b(?P<in>check(?:ing)?[\s-]?in|arriv\w*)\b|\b(?P<out>check(?:ing)?[\s-]?out|checkout)\b",
    re.IGNORECASE,
)


def _date_role(name: str) -> str | None:
    """ "in" for a check-in (start) date parameter, "out" for a check-out (end) one."""
    low = name.lower()
    if "check_in" in low or "checkin" in low or low.startswith("start"):
        return "in"
    if "check_out" in low or "checkout" in low or low.startswith("end"):
        return "out"
    return None


def _role_dates(text: str, today: dt.date) -> tuple[dict[str, str], list[str]]:
    """Dates the caller tied to an end of the stay: "check out on the 20th" -> {"out": ...}:
    the last date after each role word, before the next one ("change my checkout from the
    20th to the 22nd": the 22nd); and the dates said before the first role word."""
    marks = list(_ROLE_WORDS.finditer(text))
    tagged: dict[str, str] = {}
    free = _all_of("date", text[: marks[0].start()], today) if marks else []
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        found = _all_of("date", text[mark.end() : end], today)
        role = "in" if mark.group("in") else "out"
        if found and role not in tagged:
            tagged[role] = found[-1]
    return tagged, free


def fill_arguments(
    spec: ToolSpec, conv: Conversation, today: dt.date
) -> tuple[dict[str, Any], list[str]]:
    """Arguments for ``spec`` from the conversation, and the required ones still missing."""
    args: dict[str, Any] = {}
    users = [t for t in conv.user_turns if t.strip()]
    previous = [e.arguments for e in reversed(conv.tool_events())]
    latest = users[-1] if users else ""
    request = _current_request(conv) or users[-1:]
    seen: dict[str, int] = {}  # kind -> how many parameters of that kind came before
    for name, prop in spec.properties.items():
        kind = _kind(name, prop)
        nth = seen.get(kind, 0)
        seen[kind] = nth + 1
        value: Any = None
        role = _date_role(name) if kind == "date" else None
        if kind in ("date", "airport"):
            # the n-th date / airport parameter (check-out, destination) takes the n-th one said,
            # unless the caller said which date is which ("check out on the 20th instead")
            for text in reversed(users if kind == "date" else users[-1:]):
                found = _all_of(kind, text, today)
                tagged, free = _role_dates(text, today) if role else ({}, [])
                if role in tagged:
                    value = tagged[role]
                    break
                if tagged:
                    # "move it to May 12 and check out May 15": the date said before the role
                    # words is the other end; none ("check out from the 20th to the 22nd"):
                    # this end was said earlier
                    if free:
                        value = free[0]
                        break
                    continue
                if len(found) > nth:
                    value = found[nth]
                    break
        elif kind in _THIS_REQUEST_KINDS:
            # which booking: only from the words of this request; a flight or city from an
            # earlier, answered question is stale (the tools default to the one discussed)
            for text in reversed(request):
                value = extract(kind, prop, text, today)
                if value is not None:
                    break
        elif kind == "free_text":
            value = latest or None
        elif kind in ("bool", "option"):
            value = extract(kind, prop, latest, today)  # only meaningful for this turn
        else:
            for text in reversed(users):
                value = extract(kind, prop, text, today)
                if value is not None:
                    break
        if value is None and kind in ("last_name", "name"):
            value = _bare_name(conv)
        if value is None and kind in _CARRIED_KINDS:
            value = next((p[name] for p in previous if p.get(name) is not None), None)
        if value is not None:
            args[name] = value
    missing = [r for r in spec.required if r not in args]
    return args, missing


def _current_request(conv: Conversation) -> list[str]:
    """The caller's turns since the last tool that answered something (a hand-off answers
    nothing: the request that led to it goes on). A latest turn that is an information
    question of its own ("What is the cancellation policy?") starts a new request: the words
    of an unanswered one before it (a misheard "WAP Hotel, LMI" on a phone call) are not its
    booking."""
    users = [t for t in conv.user_turns if t.strip()]
    if users and is_information_question(users[-1]):
        return users[-1:]
    turns: list[str] = []
    for item in reversed(conv.items):
        if item.kind == "tool" and item.tool is not None and (item.tool.output or "").strip():
            break
        if item.kind == "user" and item.text.strip():
            turns.append(item.text)
    return list(reversed(turns))


def picks_option(spec: ToolSpec) -> bool:
    """Whether a required argument of the tool is a choice from a list read out before."""
    return any(_kind(r, spec.properties.get(r, {})) == "option" for r in spec.required)


def _bare_name(conv: Conversation) -> str | None:
    """A name said on its own ("Rivera") right after the agent asked for a name."""
    asked = conv.assistant_before_last_user().lower()
    users = conv.user_turns
    if "name" not in asked or not users:
        return None
    toks: list[str] = re.findall(r"[A-Za-z'\-]+", users[-1])
    if 1 <= len(toks) <= 2 and len(toks) == len(users[-1].split()):
        return str(toks[-1]).capitalize()
    return None


def evidence(spec: ToolSpec, text: str, today: dt.date, *, required_only: bool = False) -> float:
    """How many of the tool's parameters the words ``text`` supply (free text excluded); an
    optional parameter counts half: "New York" fits every tool that takes a flight or a city,
    so it says less about which tool is meant than a value the tool cannot do without.
    ``required_only``: count only the values the tool cannot do without."""
    found = 0.0
    for name, prop in spec.properties.items():
        if required_only and name not in spec.required:
            continue
        kind = _kind(name, prop)
        if kind in ("free_text", "unknown", "bool"):
            continue
        # the bare kind of a booking ("hotel") names a topic, not a value: no evidence
        value = flight_reference(text) if kind == "reference" else extract(kind, prop, text, today)
        if value is not None:
            found += 1.0 if name in spec.required else 0.5
    return found


def describe_param(spec: ToolSpec, name: str) -> str:
    """A short spoken name for a parameter ("your confirmation code")."""
    prop = spec.properties.get(name, {})
    kind = _kind(name, prop)
    if kind in ("date", "time", "number") and name not in ("date", "time", "number"):
        words = (
            name.replace("_", " ").replace("check in", "check-in").replace("check out", "check-out")
        )
        return "the " + (words if kind in words else f"{words} {kind}")
    spoken = {
        "phone": "the phone number on your profile",
        "code": "your six-character confirmation code",
        "last_name": "your last name",
        "first_name": "your first name",
        "name": "your full name",
        "flight_number": "the flight number",
        "reference": "the flight number or the route",
        "date": "the date",
        "time": "the time you prefer",
        "option": "which option you'd like",
    }.get(kind)
    if spoken:
        return spoken
    desc = str(prop.get("description", "")).strip().rstrip(".")
    if desc and len(desc) < 60:
        return "the " + desc[0].lower() + desc[1:]
    return "the " + name.replace("_", " ")
