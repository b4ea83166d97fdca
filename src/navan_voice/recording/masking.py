"""The caller's number, masked for storage and display: ``+14155550123`` → ``+1415•••0123``."""

from __future__ import annotations

MASK = "•••"


def mask_phone(number: str | None) -> str:
    """Keep a leading ``+``, the first four and the last four digits; hide the rest.

    Numbers of eight digits or fewer keep only their last two; a value with no digits (an
    anonymous caller, a web identity) becomes ``""``.
    """
    if not number:
        return ""
    digits = "".join(ch for ch in number if ch.isdigit())
    if not digits:
        return ""
    plus = "+" if number.strip().startswith("+") else ""
    if len(digits) <= 8:
        return f"{plus}{MASK}{digits[-2:]}"
    return f"{plus}{digits[:4]}{MASK}{digits[-4:]}"
