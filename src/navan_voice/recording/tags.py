"""Custom call tags any agent or tool can set at any time, bounded and cleaned.

``tag(target, "refund_requested", {"amount_cents": 18900})`` stores a tag on the call. ``target``
is the call state (anything with a ``tags`` dict), or whatever holds it as ``userdata`` (an
AgentSession, a RunContext). Keys are lower-case ``[a-z0-9_.-]``, at most 64 characters; values
are JSON (text, numbers, booleans, lists, maps) at most 2 KB once serialized (longer ones are cut
to text), with control characters stripped and card numbers redacted; at most 50 tags per call.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from typing import Any

from navan_voice.recording.redaction import redact_value

logger = logging.getLogger(__name__)

MAX_KEY = 64
MAX_TEXT = 500
MAX_VALUE_BYTES = 2048
MAX_TAGS = 50
MAX_DEPTH = 3
MAX_ITEMS = 20

_KEY_BAD = re.compile(r"[^a-z0-9_.\-]+")


def clean_key(key: str) -> str:
    """``key`` folded to ``[a-z0-9_.-]`` (other runs become ``_``), at most 64 characters."""
    folded = _KEY_BAD.sub("_", strip_control(str(key)).strip().lower()).strip("_")
    return folded[:MAX_KEY]


def strip_control(text: str) -> str:
    """``text`` without control or format characters (newlines and tabs become spaces)."""
    out = []
    for ch in text:
        if ch in "\n\r\t":
            out.append(" ")
        elif unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co"):
            out.append(ch)
    return "".join(out)


def clean_value(value: Any, *, depth: int = 0) -> Any:
    """``value`` as bounded JSON: text cut and cleaned, containers cut, others as text."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        # a long digit run as a number could be a card: store it as redacted text
        if isinstance(value, int) and abs(value) >= 10**12:
            return redact_value(str(value))
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, str):
        return redact_value(strip_control(value))[:MAX_TEXT]
    if depth >= MAX_DEPTH:
        return clean_value(str(value)[:MAX_TEXT], depth=depth)
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ITEMS]
        return {clean_key(str(k)) or "_": clean_value(v, depth=depth + 1) for k, v in items}
    if isinstance(value, list | tuple | set | frozenset):
        return [clean_value(v, depth=depth + 1) for v in list(value)[:MAX_ITEMS]]
    return clean_value(str(value), depth=depth)


def bounded(value: Any) -> Any:
    """``clean_value`` and then, if still over 2 KB serialized, cut to text of that size."""
    cleaned = clean_value(value)
    text = json.dumps(cleaned, ensure_ascii=False, default=str)
    if len(text.encode("utf-8")) <= MAX_VALUE_BYTES:
        return cleaned
    return text.encode("utf-8")[: MAX_VALUE_BYTES - 3].decode("utf-8", errors="ignore") + "..."


def tags_of(target: Any) -> dict[str, Any]:
    """The tags dict of a call state, or of the call state held as ``target.userdata``."""
    for obj in (target, _userdata(target)):
        if obj is None:
            continue
        tags = getattr(obj, "tags", None)
        if isinstance(tags, dict):
            return tags
    obj = _userdata(target) or target
    try:
        obj.tags = {}
    except (AttributeError, TypeError) as e:
        raise TypeError(
            f"cannot tag {type(target).__name__}: pass the call state (with a `tags` dict), "
            "the AgentSession or the RunContext"
        ) from e
    tags_dict: dict[str, Any] = obj.tags
    return tags_dict


def tag(target: Any, key: str, value: Any = True) -> bool:
    """Set tag ``key`` on the call; False (and a warning) when the key is empty or the call
    already has the maximum number of tags. Never raises on a bad value: it is bounded."""
    tags = tags_of(target)
    name = clean_key(key)
    if not name:
        logger.warning("tag key %r is empty once cleaned; use letters, digits, _ . -", key[:80])
        return False
    if name not in tags and len(tags) >= MAX_TAGS:
        logger.warning("call already has %d tags; tag %r dropped", MAX_TAGS, name)
        return False
    tags[name] = bounded(value)
    return True


def _userdata(target: Any) -> Any:
    try:
        return getattr(target, "userdata", None)
    except (ValueError, RuntimeError):  # AgentSession.userdata raises when it was never set
        return None
