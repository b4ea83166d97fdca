"""Choosing a tool for the caller's words: keyword overlap with each tool's name and description,
widened by a small travel-support synonym table, plus boosts for slots the tool can use."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .context import ToolSpec

# concept -> words a caller uses for it; a tool "has" a concept when its name or description does
SYNONYMS: dict[str, tuple[str, ...]] = {
    "change": ("change", "move", "switch", "rebook", "reschedule", "earlier", "later",
               "different", "modify", "push", "swap", "alternative", "alternatives", "options",
               "missed", "connection", "delayed"),
    "cancel": ("cancel", "cancelled", "canceled", "cancelling", "cancellation", "drop",
               "scrap", "refund", "don't need", "call off"),
    "confirm": ("confirm", "yes", "go ahead", "book it", "do it", "proceed"),
    "trip": ("trip", "trips", "itinerary", "booking", "bookings", "reservation", "upcoming",
             "travel", "flight", "flights"),
    "flight": ("flight", "flights", "fly", "flying", "plane", "airline", "depart", "departure",
               "land", "landing", "lands", "arrive", "arrival", "take off", "takeoff"),
    "hotel": ("hotel", "hotels", "room", "stay", "check in", "check out", "checkout", "night",
              "nights", "car", "rental", "lodging"),
    "expense": ("expense", "expenses", "reimburse", "reimbursement", "receipt", "report",
                "claim", "paid back", "refunded"),
    "policy": ("policy", "allowed", "allow", "permitted", "entitled", "rule", "rules",
               "limit", "cap", "maximum", "business class", "first class", "upgrade", "per diem",
               "premium economy", "economy", "cabin", "approval"),
    "human": ("human", "person", "agent", "representative", "operator", "someone", "somebody",
              "real person", "supervisor", "escalate", "transfer me", "live", "speak with",
              "speak to", "talk to", "talk with"),
    "identify": ("confirmation", "code", "phone", "my name", "last name", "verify", "identify"),
    "upcoming": ("upcoming", "next", "coming up", "scheduled", "when am i", "my trips", "list",
                 "itinerary"),
    "lookup": ("look up", "find", "check", "status", "what", "when", "details", "show"),
    "screen": ("screen", "see my", "can you see", "showing", "error message", "web page",
               "look at"),
    "case": ("case", "ticket", "complaint", "support"),
    # where a request for approval stands; never a bare "approved" ("was my expense approved?",
    # "is business class approved?") or "approval" ("do I need approval?": that is policy)
    "decision": ("manager approved", "boss approved", "did my manager approve",
                 "did my boss approve", "approve my change", "approve my flight",
                 "approved my change", "approved my flight", "approve the change",
                 "change approve", "change been approve", "flight approve", "flight been approve",
                 "signed off on my", "still pending", "pending approval", "approval request",
                 "approval status", "status of the approval", "status of my approval",
                 "happened with the approval", "approval come through", "approval came through",
                 "approval stand", "update on the approval", "update on my approval",
                 "status of my flight change", "status of my change", "change reject",
                 "reject my change", "rejected my change", "rejected the change",
                 "waiting for approval", "waiting for my manager", "waiting on my manager"),
}  # fmt: skip

# generic concepts count for less than specific ones ("cancel" beats "flight")
WEIGHTS: dict[str, float] = {
    "trip": 0.5, "flight": 0.6, "lookup": 0.3, "identify": 0.8, "human": 1.3, "policy": 1.2,
    "decision": 3.0,  # "did my manager approve my flight change": about the request, not a change
}  # fmt: skip

# the caller's words that point to a hand-off tool's target ("transfer_to_flights")
_STOP = {
    "the", "a", "an", "to", "of", "and", "or", "for", "with", "is", "it", "this", "that",
    "caller", "user", "their", "they", "them", "when", "use", "call", "tool", "agent", "on",
    "in", "by", "be", "if", "as", "at", "from", "you", "your", "wants", "want", "asks",
}  # fmt: skip


_OBJECTS = {"flight", "hotel", "expense"}
# the things a request is about, named as nouns ("fly" is no flight noun: "may I fly business?")
_OBJECT_NOUNS = {
    "flight": re.compile(r"\b(flights?|planes?)\b", re.I),
    "hotel": re.compile(r"\b(hotels?|rooms?)\b", re.I),
    "expense": re.compile(r"\b(expenses?|receipts?|reimbursements?)\b", re.I),
}
_HANDOFF = re.compile(r"^(transfer|hand_?off|route|escalate|connect|switch)_?(to_)?", re.I)


# tools that do or prepare a change (as opposed to looking something up)
_ACTION_TOOL = re.compile(
    r"^(propose|quote|confirm|cancel|change|book|modify|update|rebook|extend|apply|make)_", re.I
)
# words asking for something to be done, not only to be told ("cancellation" is a noun here)
_ACTION_WORDS = re.compile(
    r"\b(cancel|change|move|rebook|reschedule|switch|swap|book|extend|shorten|push|modify|"
    r"upgrade|downgrade|drop|scrap|confirm|earlier|later|early|late|instead|another|longer|"
    r"shorter|extra|different|add|remove)\b",
    re.I,
)
# an information question: "when does …", "what is …", "which hotel …", "do I have …"
_INFO_QUESTION = re.compile(
    r"^\W*(?:(?:so|and|ok(?:ay)?|hi|hey|um|uh|also|sorry),?\s+)*(?:what|when|where|which|who|"
    r"how|what's|when's|where's|whats|is|are|am|do|does|did|was|were|have|has|"
    r"(?:can|could) you (?:tell|remind|check|look)|tell me|remind me|i'd like to know|"
    r"i want to know|i wonder)\b",
    re.I,
)


# tools that only tell (``list_…``, ``…_details``, ``…_terms``)
_LOOKUP_TOOL = re.compile(r"^(list|get|show|look_?up|describe|explain)_|_(details|terms)$", re.I)


def is_lookup_tool(spec: ToolSpec) -> bool:
    return bool(_LOOKUP_TOOL.search(spec.name))


def is_action_tool(spec: ToolSpec) -> bool:
    """A tool that changes a booking or prepares a change (``propose_…``, ``confirm_…``)."""
    return bool(_ACTION_TOOL.match(spec.name))


def asks_for_action(text: str) -> bool:
    """Whether the words ask for something to be changed, not only to be told something."""
    return bool(_ACTION_WORDS.search(text))


def is_information_question(text: str) -> bool:
    """ "When does my flight leave?", "What is the cancellation policy?": a question about
    facts, with no request to change anything in it."""
    return bool(_INFO_QUESTION.search(text)) and not asks_for_action(text)


@dataclass(frozen=True)
class Scored:
    spec: ToolSpec
    score: float


def _tokens(text: str) -> set[str]:
    return {t for t in re.findall(r"[a-z]+", text.lower()) if t not in _STOP and len(t) > 1}


_CONCEPT_RES = {
    # plurals and past forms count too ("rebooked", "trips")
    concept: re.compile(
        r"\b(" + "|".join(re.escape(w) for w in (concept, *words)) + r")(s|es|d|ed|ing)?\b"
    )
    for concept, words in SYNONYMS.items()
}


@functools.lru_cache(maxsize=4096)
def _concepts_cached(text: str) -> frozenset[str]:
    low = " " + text.lower().replace("_", " ") + " "
    return frozenset(c for c, pattern in _CONCEPT_RES.items() if pattern.search(low))


def _concepts(text: str) -> set[str]:
    return set(_concepts_cached(text))


def _tool_concepts(spec: ToolSpec) -> tuple[set[str], set[str]]:
    """Concepts named by the tool's name (strong) and by its description's first sentence."""
    name_c = _concepts(spec.name)
    first_sentence = re.split(r"(?<=[.!?])\s", spec.description.strip(), maxsplit=1)[0]
    return name_c, _concepts(first_sentence) - name_c


def score_tools(text: str, specs: list[ToolSpec]) -> list[Scored]:
    """Every tool with a score for ``text``, best first. Zero means no evidence at all."""
    utter_tokens = _tokens(text)
    utter_concepts = _concepts(text)
    asking = is_information_question(text)
    acting = asks_for_action(text) and not _INFO_QUESTION.search(text)
    out: list[Scored] = []
    for spec in specs:
        name_c, desc_c = _tool_concepts(spec)
        score = 3.0 * sum(WEIGHTS.get(c, 1.0) for c in utter_concepts & name_c)
        # a hand-off tool's scope is only in its description: that counts like a name
        desc_weight = 3.0 if _HANDOFF.match(spec.name) else 2.0
        score += desc_weight * sum(WEIGHTS.get(c, 1.0) for c in utter_concepts & desc_c)
        name_tokens = _tokens(spec.name)
        score += 1.0 * len(utter_tokens & name_tokens)
        score += 0.3 * len(utter_tokens & (_tokens(spec.description) - name_tokens))
        # "cancel my hotel" is not for a tool named after flights
        said_objects = {o for o, pattern in _OBJECT_NOUNS.items() if pattern.search(text)}
        tool_objects = (name_c | (desc_c if _HANDOFF.match(spec.name) else set())) & _OBJECTS
        if said_objects and tool_objects and not said_objects & tool_objects:
            score -= 2.5
        if "confirm" in name_c and "confirm" not in utter_concepts:
            score -= 6.0  # confirming is a step of its own, reached by the caller's "yes"
        if asking and is_action_tool(spec):
            score -= 2.5  # "when does my flight leave" is not a request to cancel it
        elif acting and is_lookup_tool(spec):
            score -= 1.5  # "I'd like to check out a day early" wants more than the booking read
        out.append(Scored(spec, score))
    out.sort(key=lambda s: s.score, reverse=True)
    return out


def human_tool(specs: list[ToolSpec]) -> ToolSpec | None:
    """The tool that hands the caller to a person (its name says "human", "person", ...)."""
    return next((s for s in specs if "human" in _tool_concepts(s)[0]), None)


def is_confirm_tool(spec: ToolSpec) -> bool:
    """A tool that carries out a change read back (``confirm_change``)."""
    return "confirm" in _tool_concepts(spec)[0]


def confirm_tool(specs: list[ToolSpec], after: str | None) -> ToolSpec | None:
    """The confirming tool that goes with the tool ``after`` (quote_cancellation ->
    confirm_cancellation): the "confirm" tool sharing most name words with it."""
    candidates = [s for s in specs if is_confirm_tool(s)]
    if not candidates:
        return None
    base = _tokens(after or "") | _concepts(after or "")
    return max(candidates, key=lambda s: len(base & (_tokens(s.name) | _concepts(s.name))))
