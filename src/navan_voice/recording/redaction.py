"""Card numbers, CVV and expiry dates out of transcripts, tags and logs.

``redact(text)`` replaces:

- a run of 13–19 digits that passes the Luhn check, written as digits in any grouping
  ("4111 1111-1111 1111") or spoken as words ("four one one one …", "oh", "double four"),
  with ``[card number]``;
- the 3–4 digits after "CVV", "CVC", "security code" … with ``[cvv]``;
- the month/year after "exp", "expiry", "expires", "expiration" … with ``[expiry]``.

``install_log_redaction()`` makes every log record created afterwards pass through ``redact``
(a log-record factory, so records from every logger and handler are covered, including handlers
livekit's CLI adds later); ``RedactingFilter`` does the same for one handler or logger.
"""

from __future__ import annotations

import logging
import re
from typing import Any

CARD = "[card number]"
CVV = "[cvv]"
EXPIRY = "[expiry]"

_DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "one": "1",
    "won": "1",
    "two": "2",
    "to": "2",
    "too": "2",
    "three": "3",
    "four": "4",
    "for": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_REPEAT = {"double": 2, "triple": 3}
_TENS = {
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "thirteen": "13",
    "fourteen": "14",
    "fifteen": "15",
    "sixteen": "16",
    "seventeen": "17",
    "eighteen": "18",
    "nineteen": "19",
    "twenty": "20",
    "thirty": "30",
}
_WORD = "|".join(sorted([*_DIGIT_WORDS, *_REPEAT], key=len, reverse=True))
_TOKEN = rf"(?:\d+|(?:{_WORD})\b)"
# a run of number tokens joined by spaces, dashes, dots or commas
_RUN = re.compile(rf"(?<![\w])({_TOKEN}(?:[\s,.\-–/]+{_TOKEN})*)", re.IGNORECASE)
_TOKEN_RE = re.compile(_TOKEN, re.IGNORECASE)

_NUM_ANY = rf"(?:\d+|(?:{_WORD}|{'|'.join(_TENS)})\b)"
_CVV_RE = re.compile(
    r"\b(cvv2?|cvc2?|cid|security\s+code|verification\s+(?:code|number)|card\s+code)\b"
    rf"(\W+(?:(?:is|it's|its|was|the|number|code|:)\W+){{0,3}})"
    rf"({_NUM_ANY}(?:[\s,.\-]+{_NUM_ANY}){{0,3}})",
    re.IGNORECASE,
)
_EXPIRY_RE = re.compile(
    r"\b(exp(?:iry|iration|ires?|\.)?|valid\s+(?:thru|through|until)|good\s+thru)\b"
    rf"(\W+(?:(?:date|is|on|in|at|of|the|:)\W+){{0,3}})"
    rf"({_NUM_ANY}(?:[\s,.\-/]+{_NUM_ANY}){{0,3}})",
    re.IGNORECASE,
)


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` (only 0-9) passes the Luhn checksum."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _token_digits(tokens: list[str]) -> list[str]:
    """The digits each token stands for ("double" repeats the next token's digits)."""
    out: list[str] = []
    repeat = 1
    for tok in tokens:
        low = tok.lower()
        if low in _REPEAT:
            repeat = _REPEAT[low]
            out.append("")
            continue
        digits = tok if tok.isdigit() else _DIGIT_WORDS.get(low, "")
        out.append(digits * repeat)
        repeat = 1
    return out


def _redact_cards(text: str) -> str:
    pieces: list[str] = []
    last = 0
    for run in _RUN.finditer(text):
        matches = list(_TOKEN_RE.finditer(run.group(1)))
        digits = _token_digits([m.group(0) for m in matches])
        if sum(len(d) for d in digits) < 13:
            continue
        hidden = [False] * len(matches)
        for i in range(len(matches)):
            count, joined = 0, ""
            for j in range(i, len(matches)):
                joined += digits[j]
                count = len(joined)
                if count > 19:
                    break
                if count >= 13 and luhn_valid(joined):
                    for k in range(i, j + 1):
                        hidden[k] = True
        if not any(hidden):
            continue
        base = run.start(1)
        k = 0
        while k < len(matches):
            if not hidden[k]:
                k += 1
                continue
            end = k
            while end + 1 < len(matches) and hidden[end + 1]:
                end += 1
            pieces.append(text[last : base + matches[k].start()])
            pieces.append(CARD)
            last = base + matches[end].end()
            k = end + 1
    pieces.append(text[last:])
    return "".join(pieces)


def redact(text: str) -> str:
    """``text`` with card numbers, CVV and expiry dates replaced by placeholders."""
    if not text:
        return text
    text = _redact_cards(text)
    text = _CVV_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{CVV}", text)
    text = _EXPIRY_RE.sub(lambda m: f"{m.group(1)}{m.group(2)}{EXPIRY}", text)
    return text


def redact_value(value: Any) -> Any:
    """``value`` with every string inside it (dict values and keys, list items) redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_value(k): redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's message (and its arguments) in place."""

    def filter(self, record: logging.LogRecord) -> bool:
        _redact_record(record)
        return True


def _redact_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string is the logger's problem, not ours
        return
    cleaned = redact(message)
    if cleaned != message or record.args:
        record.msg, record.args = cleaned, None
    if record.exc_text:
        record.exc_text = redact(record.exc_text)


_installed = False


def install_log_redaction() -> None:
    """Redact every log record created from now on (idempotent); the worker calls it once."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        _redact_record(record)
        return record

    logging.setLogRecordFactory(factory)
    root = logging.getLogger()
    if not any(isinstance(f, RedactingFilter) for f in root.filters):
        root.addFilter(RedactingFilter())
    _installed = True
