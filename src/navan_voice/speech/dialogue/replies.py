"""Spoken replies: tool outputs made speakable, and the fixed sentences the engine may say.

No sentence here states a fare, a date or a policy: those only ever come from tool outputs.
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

from .context import ToolEvent, ToolSpec

NOT_CAUGHT = "Sorry, I didn't catch that. Could you say it again?"
ANYTHING_ELSE = "Is there anything else I can help you with?"
GOODBYE = "Thanks for calling Navan. Have a great trip. Goodbye!"
YOU_ARE_WELCOME = "You're welcome. " + ANYTHING_ELSE
DECLINED = "Okay, I won't make that change. " + ANYTHING_ELSE
WHAT_ELSE = "Sure, what can I help you with?"
OFFER_COLLEAGUE = "Would you like me to connect you with a colleague?"
INTERNAL_ERROR = (
    "Sorry, something went wrong on my side and I couldn't finish that. " + OFFER_COLLEAGUE
)
# the caller was not understood twice in a row: often another language (speech/unclear.py)
NOT_CAUGHT_AGAIN = (
    "Sorry, I still couldn't make that out. I can only help in English for now. " + OFFER_COLLEAGUE
)
NO_COLLEAGUE = "Okay. What can I help you with?"
NO_COLLEAGUE_HERE = "Sorry, I can't connect you to a colleague from here. What can I help you with?"
ASK_PREFIX = "Sure. Could you give me"  # how every question for missing arguments starts
ENGINE_FAILED = "Sorry, I lost track for a moment there. Could you say that again?"
DEFAULT_GREETING = "Hi, thanks for calling Navan. How can I help you with your travel today?"
_MAX_SPOKEN = 700  # characters: a reply longer than this is cut at a sentence boundary

# what a tool's name says it does, spoken as "I can help you ..." (first matching words win)
_ABILITIES: list[tuple[tuple[str, ...], str]] = [
    (("change", "rebook", "alternative"), "flight changes"),
    (("cancel",), "cancellations"),
    (("trip", "itinerar", "booking"), "your trips"),
    (("flight",), "flights"),
    (("hotel", "car"), "hotels and cars"),
    (("expense",), "expenses"),
    (("policy",), "travel policy questions"),
    (("human", "escalat", "case", "person", "support"), "getting you to a colleague"),
]


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def clip(text: str) -> str:
    """At most ~_MAX_SPOKEN characters, cut after a whole sentence."""
    if len(text) <= _MAX_SPOKEN:
        return text
    out = ""
    for sentence in _sentences(text):
        if len(out) + len(sentence) > _MAX_SPOKEN and out:
            break
        out = f"{out} {sentence}".strip()
    return out


def _speak_value(value: Any) -> str:
    if isinstance(value, dict):
        parts = [
            f"{k.replace('_', ' ')}: {v}"
            for k, v in value.items()
            if isinstance(v, str | int | float) and not isinstance(v, bool)
        ]
        return "; ".join(parts[:6]) + "."
    if isinstance(value, list):
        return " ".join(_speak_value(v) for v in value[:4])
    return str(value)


def speak_tool_output(event: ToolEvent) -> str:
    """What to say after a tool ran: its (short, speakable) output, or a fitting apology."""
    output = (event.output or "").strip()
    if event.is_error:
        if not output or output in ("An internal error occurred",) or "invalid output" in output:
            return INTERNAL_ERROR
        return clip(output)
    if not output:
        return "Done. " + ANYTHING_ELSE
    if output[0] in "[{":
        with contextlib.suppress(json.JSONDecodeError):
            output = _speak_value(json.loads(output))
    return clip(output)


def abilities(specs: list[ToolSpec]) -> str:
    """ "change a flight, cancel a booking or reach a colleague" from the tool names."""
    found: list[str] = []
    for spec in specs:
        name = spec.name.lower()
        for keys, phrase in _ABILITIES:
            if any(k in name for k in keys) and phrase not in found:
                found.append(phrase)
                break
    if "flight changes" in found and "flights" in found:
        found.remove("flights")
    found = found[:4]  # a spoken list longer than four is lost on a caller
    if not found:
        return ""
    return found[0] if len(found) == 1 else ", ".join(found[:-1]) + " or " + found[-1]


def quoted_line(instructions: str) -> str | None:
    """A sentence the instructions ask to say verbatim: the first double-quoted sentence."""
    for m in re.finditer(r"[\"“]([^\"”]{12,240})[\"”]", instructions):
        line = m.group(1).strip()
        if re.search(r"[a-zA-Z]", line) and line[-1] in ".!?":
            return line
    return None


def greeting(instructions: str, extra: str, specs: list[ToolSpec]) -> str:
    """The first words of an agent: a quoted line from its prompt, else built from its tools."""
    for source in (extra, instructions):
        line = quoted_line(source)
        if line:
            return line
    can = abilities(specs)
    if extra and re.search(r"\b(greet|welcome|introduce)\b", extra, re.I):
        return DEFAULT_GREETING
    if can:
        return f"I can help with {can}. What would you like to do?"
    return DEFAULT_GREETING


def not_understood(specs: list[ToolSpec]) -> str:
    can = abilities(specs)
    if can:
        return f"Sorry, I didn't quite get that. I can help with {can}. What would you like to do?"
    return NOT_CAUGHT


def ask_for(params: list[str]) -> str:
    """ "Could you give me your confirmation code and your last name?" """
    body = params[0] if len(params) == 1 else ", ".join(params[:-1]) + " and " + params[-1]
    return f"{ASK_PREFIX} {body}?"
