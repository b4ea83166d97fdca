"""Slot extraction from caller utterances: codes, flight numbers, dates, names, yes/no, numbers.

Everything here is pure text processing on what the speech-to-text heard, so it is written for
spoken forms too ("N V N 7 Q 2", "next Tuesday", "the second one", "five five five ...").
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip
_MONTH_ABBR = {m[:3]: i + 1 for i, m in enumerate(_MONTHS)} | {"sept": 9}
_DIGIT_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
    "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5, "last": -1,
}  # fmt: skip
_SMALL_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10,
}  # fmt: skip

_YES = re.compile(
    r"^\s*((actually|well|um|uh|oh|hmm),?\s+)?"
    r"(yes|yeah|yep|yup|sure|correct|right|ok(ay)?|please do|go ahead|do it|confirm(ed)?|"
    r"that'?s (right|correct|fine|good)|sounds (good|great|fine)|absolutely|of course|"
    r"affirmative|please|agreed|i agree|let'?s do (it|that)|perfect)\b",
    re.IGNORECASE,
)
_NO = re.compile(
    r"^\s*((actually|well|um|uh|oh|hmm|sorry),?\s+)?"
    r"(no|nope|nah|don'?t|do not|cancel that|never ?mind|not (now|really|that)|"
    r"wait|stop|hold on)\b",
    re.IGNORECASE,
)
# words that look like codes but are ordinary speech in capitals
_CODE_STOP = {"HELLO", "THANKS", "PLEASE", "FLIGHT", "CHANGE", "CANCEL", "HOTELS", "TRAVEL"}
_NOT_NAMES = {
    "calling", "looking", "trying", "here", "going", "flying", "traveling", "travelling", "not",
    "just", "the", "a", "an", "in", "on", "at", "so", "very", "sorry", "fine", "good", "ok",
    "okay", "from", "with", "about", "your", "my", "still", "also", "and", "i",
    "confirmation", "code", "phone", "number", "last", "first", "name",
}  # fmt: skip


def normalize(text: str) -> str:
    """Lower-case, collapse whitespace, strip trailing punctuation."""
    return re.sub(r"\s+", " ", text.strip().lower()).strip(" .!?,")


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def is_yes(text: str) -> bool:
    return bool(_YES.search(text)) and not bool(_NO.search(text))


def is_no(text: str) -> bool:
    return bool(_NO.search(text))


# words that say a "yes" is not (yet) one: "yes, but ...", "okay wait", "sure, how much ...?"
_HEDGE = re.compile(
    r"\?|\b(but|wait|hold|hang|instead|rather|except|however|though|although|first|before|"
    r"what|how|why|when|where|which|who|not|don'?t|no)\b",
    re.IGNORECASE,
)
# assent that happens to use a question or negative word ("that's what I want", "no problem")
_PLAIN_ASSENT = re.compile(
    r"\b(that'?s|that is|exactly|just) what i (want|wanted|need|needed|asked for)\b"
    r"|\bno (problem|worries)\b|\bnot a problem\b",
    re.IGNORECASE,
)
_HOTEL_WORDS = re.compile(
    r"\b(hotels?|rooms?|stays?|nights?|check[\s-]?(in|out)|checkout)\b", re.IGNORECASE
)
_FLIGHT_WORDS = re.compile(r"\b(flights?|planes?|fly|flying|seats?)\b", re.IGNORECASE)


def is_plain_yes(text: str, question: str = "", today: dt.date | None = None) -> bool:
    """A "yes" to ``question`` (a read-back) that is only that: no hedge ("yes, but Friday",
    "okay wait", a question) and nothing the read-back did not say: no option, flight number,
    code, date or airport of its own, and no hotel in answer to a flight (or the reverse).
    Only a plain yes confirms a change (speech/dialogue/rules.py); "yes, I'm sure", "yes,
    cancel my flight", "yes, change the dates" are plain."""
    text = _PLAIN_ASSENT.sub(" ", text)
    if not is_yes(text) or _HEDGE.search(text):
        return False
    if ordinal(text) is not None or flight_numbers(text) or confirmation_codes(text):
        return False
    day = today or dt.date.today()
    if set(dates(text, day)) - set(dates(question, day)):
        return False
    said = set(airport_codes(text) + city_airports(text))
    if said - set(airport_codes(question) + city_airports(question)):
        return False
    about_hotel = bool(_HOTEL_WORDS.search(question))
    other = _FLIGHT_WORDS if about_hotel else _HOTEL_WORDS
    return not other.search(text)


def is_garbled(text: str) -> bool:
    """True for an utterance with nothing usable: empty, noise marks, or no real word."""
    # speech-to-text marks for what it could not transcribe: "[noise]", "(inaudible)", "<unk>"
    toks = words(re.sub(r"\[[^\]]*\]|\([^)]*\)|<[^>]*>", " ", text))
    if not toks:
        return True
    if all(len(t) == 1 and t not in ("i", "a") and not t.isdigit() for t in toks):
        return True
    return all(t in ("um", "uh", "hmm", "mm", "er", "ah", "eh") for t in toks)


def _collapse_spelled(text: str) -> str:
    """Join spelled-out runs ("N V N 7 Q 2", "n-v-n seven q two") into one token."""
    parts = re.split(r"[\s\-.,]+", text.strip())
    out: list[str] = []
    run: list[str] = []
    for part in parts:
        low = part.lower()
        piece = _DIGIT_WORDS.get(low) if low not in ("o", "oh") or run else None
        if piece is None and len(part) == 1 and part.isalnum():
            piece = part
        if piece is not None:
            run.append(piece)
            continue
        if len(run) >= 4:
            out.append("".join(run).upper())
        else:
            out.extend(run)
        run = []
        out.append(part)
    if len(run) >= 4:
        out.append("".join(run).upper())
    else:
        out.extend(run)
    return " ".join(out)


def _joined_groups(text: str) -> list[str]:
    """Six-character codes written in groups by speech-to-text: "NVN 7Q2", "NVN-7-Q-2"."""
    toks = [t for t in re.split(r"[\s\-.,]+", text) if t]
    out: list[str] = []
    for i in range(len(toks)):
        joined = ""
        for tok in toks[i : i + 6]:
            if not (tok.isalnum() and len(tok) <= 3 and (tok.isupper() or tok.isdigit())):
                break
            joined += tok
            if len(joined) == 6 and joined != tok:
                out.append(joined)
                break
            if len(joined) > 6:
                break
    return out


def confirmation_codes(text: str) -> list[str]:
    """Booking codes: 5-8 letters/digits with at least one letter and one digit ("NVN7Q2")."""
    found: list[str] = []
    for source in (text, _collapse_spelled(text), " ".join(_joined_groups(text))):
        for tok in re.findall(r"\b[A-Za-z0-9]{5,8}\b", source):
            up = tok.upper()
            has_digit = any(c.isdigit() for c in up)
            has_alpha = any(c.isalpha() for c in up)
            all_caps = tok.isupper() and up not in _CODE_STOP
            if has_alpha and (has_digit or (all_caps and len(up) == 6)) and up not in found:
                if re.fullmatch(r"[A-Z]{2}\d{1,4}", up) or re.fullmatch(r"\d+(ST|ND|RD|TH)", up):
                    continue  # a flight number or an ordinal, not a booking code
                found.append(up)
    return found


def flight_numbers(text: str) -> list[str]:
    """Flight numbers such as "UA 123", "ua123", "United 123" is left to the tool."""
    out: list[str] = []
    for m in re.finditer(r"\b([A-Za-z]{2}|[A-Za-z]\d|\d[A-Za-z])\s?(\d{1,4})\b", text):
        carrier = m.group(1).upper()
        if carrier.lower() in ("at", "on", "in", "to", "is", "by", "of", "or", "an", "am", "pm"):
            continue
        out.append(f"{carrier}{m.group(2)}")
    return out


def airport_codes(text: str) -> list[str]:
    """Three-letter airport codes spoken or typed in capitals ("SFO", "J F K")."""
    collapsed = re.sub(r"\b([A-Z])[\s.-]([A-Z])[\s.-]([A-Z])\b", r"\1\2\3", text)
    return [c for c in re.findall(r"\b[A-Z]{3}\b", collapsed) if c not in ("THE", "AND", "YES")]


# main airport of cities callers name instead of a code ("my Denver flight")
CITY_AIRPORTS = {
    "san francisco": "SFO", "new york": "JFK", "chicago": "ORD", "seattle": "SEA",
    "boston": "BOS", "london": "LHR", "austin": "AUS", "denver": "DEN", "los angeles": "LAX",
    "atlanta": "ATL", "dallas": "DFW", "miami": "MIA", "washington": "IAD", "houston": "IAH",
    "las vegas": "LAS", "phoenix": "PHX", "paris": "CDG", "frankfurt": "FRA", "toronto": "YYZ",
    "san diego": "SAN", "portland": "PDX", "philadelphia": "PHL", "newark": "EWR",
}  # fmt: skip


def city_airports(text: str) -> list[str]:
    """Airport codes for the cities named in ``text``, in the order said."""
    low = text.lower()
    hits = [(m.start(), code) for city, code in CITY_AIRPORTS.items()
            for m in re.finditer(rf"\b{city}\b", low)]  # fmt: skip
    return [code for _, code in sorted(hits)]


def city_names(text: str) -> list[str]:
    """The cities of ``CITY_AIRPORTS`` named in ``text``, as written on bookings ("New York")."""
    low = text.lower()
    hits = [(m.start(), city) for city in CITY_AIRPORTS
            for m in re.finditer(rf"\b{city}\b", low)]  # fmt: skip
    return [city.title() for _, city in sorted(hits)]


_TOWARDS = r"to|into|for|arriving (?:in|at)|landing (?:in|at)|going to|flying to"
_AWAY = r"from|out of|leaving|departing|back from"


def airport_direction(text: str) -> str | None:
    """ "to" when the one airport or city said is where the flight goes ("my flight to New
    York", "flying into JFK"), "from" when it leaves it ("the flight out of Denver")."""
    low = text.lower()
    names = [re.escape(c) for c in CITY_AIRPORTS] + [
        re.escape(c.lower()) for c in airport_codes(text)
    ]
    if not names:
        return None
    place = "(?:" + "|".join(names) + ")"
    if re.search(rf"\b(?:{_AWAY})\s+(?:the\s+)?{place}\b", low):
        return "from"
    if re.search(rf"\b(?:{_TOWARDS})\s+(?:the\s+)?{place}\b", low):
        return "to"
    return None


def phone_numbers(text: str) -> list[str]:
    """Phone numbers of 10+ digits, written or spoken digit by digit, in E.164-ish form."""
    spoken = " ".join(_DIGIT_WORDS.get(w, w) for w in re.split(r"\s+", text.lower()))
    out: list[str] = []
    for source in (text, spoken):
        for m in re.finditer(r"\+?\d[\d\s().-]{8,}\d", source):
            digits = re.sub(r"\D", "", m.group(0))
            if 10 <= len(digits) <= 15:
                num = "+1" + digits if len(digits) == 10 else "+" + digits  # 10 digits: US
                if num not in out:
                    out.append(num)
    return out


def person_names(text: str) -> tuple[str | None, str | None]:
    """(first, last) from "my name is Ada Lovelace", "last name Lovelace", "this is Ada"."""
    m = re.search(
        r"\b(?:last name|surname|family name)(?: is|'s)?[\s:,]+([A-Za-z'\-]+)", text, re.I
    )
    last = m.group(1).capitalize() if m else None
    m = re.search(r"\b(?:first name)(?: is|'s)?[\s:,]+([A-Za-z'\-]+)", text, re.I)
    first = m.group(1).capitalize() if m else None
    m = re.search(
        r"\b(?:my name is|my name's|name is|this is|i am|i'm|it's|it is)\s+"
        r"([A-Za-z'\-]+)(?:\s+([A-Za-z'\-]+))?",
        text,
        re.I,
    )
    if m and m.group(1).lower() not in _NOT_NAMES:
        second = m.group(2)
        if second and second.lower() not in _NOT_NAMES:
            first = first or m.group(1).capitalize()
            last = last or second.capitalize()
        elif last is None:
            # one name after "my name is": treat as the last name only if nothing else given
            first = first or m.group(1).capitalize()
    return first, last


def dates(text: str, today: dt.date) -> list[dt.date]:
    """Dates in ``text`` resolved against ``today``: ISO, "May 3rd", "3 May", "tomorrow",
    "next Tuesday", "on Friday", "in 3 days", "the 14th". Past dates resolve to next year, and a
    month and day said after another one is not before it: on December 7, "check in December 4
    and check out December 7" is 2027-12-04 to 2027-12-07, not a check-out before the check-in.
    A date ruled out ("not on Friday, Saturday") is not one of them."""
    low = ruled_out_removed(text.lower())
    found: list[dt.date] = []

    def add(d: dt.date) -> None:
        if d not in found:
            found.append(d)

    for m in re.finditer(r"\b(\d{4})-(\d{2})-(\d{2})\b", low):
        try:
            add(dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        except ValueError:
            continue
    if re.search(r"\bday after tomorrow\b", low):
        add(today + dt.timedelta(days=2))
    elif re.search(r"\btomorrow\b", low):
        add(today + dt.timedelta(days=1))
    if re.search(r"\btoday|tonight\b", low):
        add(today)
    for m in re.finditer(r"\bin (\w+) (day|week)s?\b", low):
        n = _SMALL_NUMBERS.get(m.group(1)) or (int(m.group(1)) if m.group(1).isdigit() else None)
        if n:
            add(today + dt.timedelta(days=n * (7 if m.group(2) == "week" else 1)))
    for m in re.finditer(r"\b(next|this|on|coming)?\s*(" + "|".join(_WEEKDAYS) + r")\b", low):
        wd = _WEEKDAYS.index(m.group(2))
        # "Tuesday" / "next Tuesday": the first such day after today (one to seven days on)
        add(today + dt.timedelta(days=(wd - today.weekday()) % 7 or 7))
    month_names = "|".join(sorted(list(_MONTHS) + list(_MONTH_ABBR), key=len, reverse=True))
    day_pat = r"(\d{1,2})(?:st|nd|rd|th)?"
    named: list[tuple[int, dt.date]] = []  # (where it was said, the date) of "May 3"-style dates
    for pat, mi, di in (
        (rf"\b({month_names})\.?\s+(?:the\s+)?{day_pat}\b", 1, 2),
        (rf"\b(?:the\s+)?{day_pat}\s+(?:of\s+)?({month_names})\b", 2, 1),
    ):
        for m in re.finditer(pat, low):
            month_word = m.group(mi)
            month = (
                _MONTHS.index(month_word) + 1
                if month_word in _MONTHS
                else _MONTH_ABBR.get(month_word[:4].rstrip("."), _MONTH_ABBR.get(month_word[:3]))
            )
            if month is None:
                continue
            try:
                d = dt.date(today.year, month, int(m.group(di)))
            except ValueError:
                continue
            named.append((m.start(), d if d >= today else d.replace(year=today.year + 1)))
    previous: dt.date | None = None
    for _, d in sorted(named):  # in the order said
        if previous is not None and d < previous:
            with contextlib.suppress(ValueError):  # February 29th has no next year
                d = d.replace(year=d.year + 1)
        add(d)
        previous = d
    if not found:
        nth = re.search(r"\bthe (\d{1,2})(?:st|nd|rd|th)\b", low)
        if nth:
            day = int(nth.group(1))
            year, month = today.year, today.month
            if day < today.day:
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            with contextlib.suppress(ValueError):
                add(dt.date(year, month, day))
    return found


def times_of_day(text: str) -> list[str]:
    """Clock times "9 am", "9:30", "14:05" as HH:MM, and parts of day ("morning")."""
    out: list[str] = []
    for m in re.finditer(r"\b(\d{1,2})(?::(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)", text.lower()):
        hour = int(m.group(1)) % 12 + (12 if m.group(3).startswith("p") else 0)
        out.append(f"{hour:02d}:{m.group(2) or '00'}")
    for m in re.finditer(r"\b(\d{1,2}):(\d{2})\b(?!\s*[ap]\.?m)", text.lower()):
        out.append(f"{int(m.group(1)):02d}:{m.group(2)}")
    for part in ("early morning", "morning", "afternoon", "evening", "night"):
        if part in text.lower():
            out.append(part)
            break
    return out


_RETURN_LEG = re.compile(
    r"\b(return (flight|leg|trip)|flights? (back|home)|way (back|home)|coming back|fly(ing)? "
    r"(back|home))\b",
    re.IGNORECASE,
)
_OUTBOUND_LEG = re.compile(
    r"\b(outbound|outgoing|flights? out|way there|going out|first leg)\b", re.IGNORECASE
)


def trip_leg(text: str) -> str | None:
    """ "my return flight", "the flight back" -> "return"; "the outbound" -> "outbound"."""
    if _RETURN_LEG.search(text):
        return "return"
    if _OUTBOUND_LEG.search(text):
        return "outbound"
    return None


# What a caller rules out ("not that one, the third", "it's not the 14th it's the 15th", "I do
# not want option 1 give me option 3") is never their pick. After a "not", the words up to where
# the sentence turns are read for the first option or date they name, and "not" through it is
# dropped; a "not" naming none ("I'm not flexible so the first one") drops nothing, and neither
# does "why not", "not later than", "not sure" and the like.
_NOT = re.compile(
    r"\bnot\b(?!\s+(?:only|later|until|till|before|after|sure|really|more|earlier|sooner|"
    r"certain|able|going|possible|quite|exactly|yet)\b)",
    re.IGNORECASE,
)
_TURNS = re.compile(
    r"[,;.!?]|\b(?:but|rather|instead|then|and|so|it'?s|it\s+is|give|maybe|make|i|i'?m|"
    r"please|because)\b",
    re.IGNORECASE,
)
_DAY_REF = (
    r"(?:day after tomorrow|tomorrow|today|tonight|" + "|".join(_WEEKDAYS) + r"|"
    r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}|\d{1,2}(?:st|nd|rd|th)|"
    r"(?:" + "|".join(_MONTHS) + r")(?:\s+\d{1,2}(?:st|nd|rd|th)?)?)"
)
_PICK_REF = re.compile(
    r"\b(?:(?:that|this|the)\s+one(?:\s+(?:on|at|for|from|leaving|departing)\s+"
    r"(?:the\s+)?" + _DAY_REF + r")?"
    r"|(?:option|number|choice)\s*(?:\d{1,2}|" + "|".join(_SMALL_NUMBERS) + r")"
    r"|(?:" + "|".join(w for w in _ORDINALS if w.isalpha()) + r")(?:\s+(?:one|option|flight))?"
    r"|" + _DAY_REF + r")\b",
    re.IGNORECASE,
)


def ruled_out_removed(text: str) -> str:
    """``text`` without what it rules out: "not that one, the third" -> " , the third"."""
    out, end = [], 0
    for m in _NOT.finditer(text):
        if m.start() < end or re.search(r"\bwhy\s*$", text[: m.start()], re.IGNORECASE):
            continue
        turn = _TURNS.search(text, m.end())
        window = text[m.end() : turn.start() if turn else len(text)]
        pick = _PICK_REF.search(window)
        if pick is None:
            continue
        out.append(text[end : m.start()])
        end = m.end() + pick.end()
    return "".join(out) + " " + text[end:] if out else text


def ordinal(text: str) -> int | None:
    """ "the second one", "option 2", "number three" -> 2, 2, 3; "the last one" -> -1.

    An ordinal word picks an option only as one ("the first", "second one", "third please"),
    not as an adverb or a measure ("let me first check", "hold on a second"), and not when
    ruled out ("not the first one, the second" -> 2; "not that one" -> None)."""
    low = ruled_out_removed(text.lower())
    for word, n in _ORDINALS.items():
        if re.search(rf"\b{word} (name|class)\b", low):
            continue
        if re.search(
            rf"\b(the|that|this) {word}\b|\b{word} (one|option|flight|choice)\b", low
        ) or re.fullmatch(rf"\W*{word}\b[\w\s,]{{0,12}}\W*", low):
            return n
    bare = re.fullmatch(r"\W*(?:the )?(\d{1,2}|\w+)(?: one)?(?: please)?\W*", low)
    if bare and (bare.group(1).isdigit() or bare.group(1) in _SMALL_NUMBERS):
        return int(bare.group(1)) if bare.group(1).isdigit() else _SMALL_NUMBERS[bare.group(1)]
    m = re.search(r"\b(?:option|number|choice|flight|#)\s*(\d{1,2}|\w+)\b", low)
    if m:
        tok = m.group(1)
        if tok.isdigit():
            return int(tok)
        if tok in _SMALL_NUMBERS:
            return _SMALL_NUMBERS[tok]
    return None


def numbers(text: str) -> list[float]:
    """Plain numbers and amounts ("$250", "three nights")."""
    out = [float(x.replace(",", "")) for x in re.findall(r"\d[\d,]*(?:\.\d+)?", text)]
    out.extend(float(_SMALL_NUMBERS[w]) for w in words(text) if w in _SMALL_NUMBERS)
    return out
