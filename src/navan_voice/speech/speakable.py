"""Text as the local piper voice should read it: money, clock times and flight numbers.

Piper's phonemizer (espeak-ng) reads "$425" as "dollar four hundred twenty-five", "8:00 AM" as
"eight zero zero AM" and "UA 1542" as "you-a one thousand five hundred forty-two". The replies'
text stays as the services wrote it (chat, transcripts, cloud voices read it well); only what
piper is given is rewritten. Fewer words also mean less audio to render before the first word.
"""

from __future__ import annotations

import re

_MONEY = re.compile(r"\$(\d{1,3}(?:,\d{3})*|\d+)(?:\.(\d{2}))?\b")
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})\b(\s*[AaPp]\.?[Mm]\b\.?)?")
# an airline's two-character code, then a flight number of 3 or 4 digits: "UA 1542", "B6 915"
_FLIGHT = re.compile(r"\b([A-Z][A-Z0-9]|[0-9][A-Z])[ -]?(\d{3,4})\b")


def _money(match: re.Match[str]) -> str:
    whole, cents = match.group(1), match.group(2)
    amount = f"{whole} dollar" + ("" if whole == "1" else "s")
    if cents and cents != "00":
        amount += f" {int(cents)} cent" + ("" if cents == "01" else "s")
    return amount


def _time(match: re.Match[str]) -> str:
    hour, minute, half = match.group(1), match.group(2), match.group(3) or ""
    if minute == "00":
        said = hour if half else f"{hour} o'clock"
    else:
        said = f"{hour} oh {minute[1]}" if minute.startswith("0") else f"{hour} {minute}"
    return said + half


def _pair(digits: str) -> str:
    """Two digits as a flight crew reads them: "42", "oh 5", "hundred" for "00"."""
    if digits == "00":
        return "hundred"
    return f"oh {digits[1]}" if digits.startswith("0") else digits


def _flight(match: re.Match[str]) -> str:
    code, number = match.group(1), match.group(2)
    # letters spelled: piper says "UA" as one word ("you-a") and "AA" as "ah", but "U.A" as
    # "U A" without the sentence break "U.A." would make; "B6" as "B 6"
    spelled = f"{code[0]}.{code[1]}" if code.isalpha() else f"{code[0]} {code[1]}"
    head, tail = number[:-2], number[-2:]
    return f"{spelled} {head} {_pair(tail)}"


def speakable(text: str) -> str:
    """``text`` with money, clock times and flight numbers written the way they are said."""
    text = _MONEY.sub(_money, text)
    text = _TIME.sub(_time, text)
    return _FLIGHT.sub(_flight, text)
