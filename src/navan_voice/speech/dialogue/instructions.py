"""Turning a one-turn instruction (``generate_reply(instructions=...)``) into the words to say.

Agents give the model instructions such as "Tell the caller you opened case N V 4 2 and a
colleague will follow up by email" or "Greet Alex by name as Navan travel support and ask how
you can help". A language model would paraphrase them; this module does the same with patterns:
each clause becomes a spoken sentence, with the instruction's pronouns turned round.
"""

from __future__ import annotations

import re

# instruction voice -> agent voice ("you" the agent becomes "I", "the caller" becomes "you")
_SWAPS = {
    "you are": "I'm", "you have": "I've", "you will": "I'll", "you": "I", "your": "my",
    "yourself": "myself", "they are": "you are", "they have": "you have", "they": "you",
    "them": "you", "their": "your", "theirs": "yours", "the caller's": "your",
    "the caller": "you", "he or she": "you", "themselves": "yourself",
}  # fmt: skip
_SWAP_RE = re.compile(
    r"\b(" + "|".join(re.escape(k) for k in sorted(_SWAPS, key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)


def swap_pronouns(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        return _SWAPS[m.group(1).lower()]

    return _SWAP_RE.sub(repl, text)


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".;,")
    if not text:
        return ""
    return text[0].upper() + text[1:] + ("" if text[-1] in "?!" else ".")


def _clause(clause: str, brand: str) -> str | None:
    """One instruction clause as a spoken sentence, or None when it is no speech act."""
    c = clause.strip().rstrip(".")
    low = c.lower()
    if m := re.match(r"greet (\w+) by name", c, re.I):
        name = m.group(1) if m.group(1).lower() not in ("the", "caller") else ""
        return f"Hi{' ' + name if name else ''}, this is {brand}."
    if low.startswith(("greet", "welcome", "say hello")):
        return f"Hi, this is {brand}."
    if re.fullmatch(r"(and )?ask (how|what) (you|I) can (help|do)( for (them|the caller))?", low):
        return "How can I help you today?"
    if m := re.match(r"(?:and )?ask (?:them |the caller )?for (?:their |the )(.+)", c, re.I):
        return f"Could you give me your {swap_pronouns(m.group(1)).strip()}?"
    if m := re.match(r"(?:and )?ask (?:them|the caller) to (.+)", c, re.I):
        return _sentence("please " + swap_pronouns(m.group(1)))
    if m := re.match(r"(?:and )?ask (?:them |the caller )?(whether|if) (.+)", c, re.I):
        return _sentence(swap_pronouns(m.group(2))).rstrip(".") + "?"
    if m := re.match(r"(?:and )?(?:tell|inform|let) (?:the caller|them)(?: know)?(?: that)? (.+)",
                     c, re.I):  # fmt: skip
        return _sentence(swap_pronouns(m.group(1)))
    if m := re.match(r"apologi[sz]e(?: for| that)?:?\s*(.*)", c, re.I):
        rest = swap_pronouns(m.group(1)).strip()
        return "I'm sorry" + (": " + rest if rest else "") + "."
    if m := re.match(r"(?:and )?(?:say|explain)(?: that)? (.+)", c, re.I):
        return _sentence(swap_pronouns(m.group(1)))
    return None


def render(instructions: str, *, brand: str = "Navan travel support") -> str | None:
    """The spoken form of a one-turn instruction, or None when it has no speech act."""
    clauses = re.split(r";|\.\s+|,\s*(?=and |ask |tell |then )|\s+and (?=ask |tell )", instructions)
    spoken: list[str] = []
    for clause in (c for c in clauses if c.strip()):
        said = _clause(clause, brand)
        if said is not None:
            spoken.append(said)
        elif spoken and not spoken[-1].endswith("?"):
            # a plain statement after "Apologise: ..." or "Tell ...": more of the same message
            spoken.append(_sentence(swap_pronouns(clause)))
    return " ".join(spoken) if spoken else None
