"""End of turn from the caller's words: a pause after "...my flight to" is not the end of a turn.

Silence alone cannot tell a finished sentence from a caller drawing breath, so VAD turn detection
must wait long enough (0.55 s) to get past most mid-sentence pauses, and every answer pays for
that wait. Reading the transcript lets the session wait less: at a short silence, words that
cannot end a request ("to", "my", "the", "and", a comma, a booking code spelled only halfway)
make the turn wait ``max_endpointing_delay``; anything else ends it at once. livekit's audio
turn model separates these only weakly on our callers (bench/speech/TURN_DETECTOR.md), and no
text turn model ships in a package, hence these rules: high precision on the words callers
actually pause after, measured by ``bench/speech/text_turn.py``.

``TextTurnDetector`` implements livekit's ``_TurnDetector`` protocol (``predict_end_of_turn``
over the chat context, which livekit hands over with the caller's transcript so far as the last
user message), so ``AgentSession(turn_detection=TextTurnDetector())`` uses it as it would a model.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from livekit.agents import llm
    from livekit.agents.language import LanguageCode

# probabilities handed to livekit; below UNLIKELY the turn waits max_endpointing_delay
COMPLETE = 0.9
INCOMPLETE = 0.05
UNLIKELY = 0.5


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# words a request cannot end on: articles and possessives, conjunctions, fillers, and
# contractions whose verb is still to come ("...and my", "...or", "I'd")
_OPEN_WORDS = _words(
    "a an the my your our their his her its every  and or but because if than  um uh er erm"
    "  i'd i'm i'll i've we'd we're we'll it's there's that's what's let's"
)
# the first word of a two-word city, right after a preposition: "...my flight to New | York"
# (not "...at the new": a misheard "in New York" that would wait for nothing)
_CITY_STARTS = _words("new san los las saint st hong buenos kuala tel rio sao salt")
# "I" ends a turn only as in "So do I." / "...than I."
_I_CLOSERS = _words("do did than")
# prepositions wait for their object ("my flight to ...") -- except after a verb or pronoun in
# a wh-question, whose object is the wh-word ("Which hotel am I staying at?", "...am I on?";
# but "What is the policy for ..." waits), and as a verb's particle ("check in")
_PREPOSITIONS = _words("to from for with at in on of by about into onto via until per between")
_WH_WORDS = _words("what which where who whom")
_STRANDING_VERBS = _words(
    "is are was were am go going stay fly leave depart arrive land belong talk speak come pay"
)
_PARTICLE_VERBS = _words("check checked checking log logged sign signed hold")
# a copula or modal waits for its complement ("my code is ...") unless a pronoun says it all
# ("Yes it is.", "I would.")
_VERBS_NEEDING_MORE = _words("is are was were am would could should will can")
_PRONOUNS = _words("i you we they he she it that this there here")
# "I'd like ..." / "I would like ..."
_LIKE_OPENERS = _words("i'd we'd would")
_LEAD_INS = _words("and so okay ok yes yeah no um uh well also then hi hello")
# a booking code is 5-8 letters/digits (speech/dialogue/slots.py); one spelled only partly at
# the end of the turn ("my code is N V N") is still being spelled
_CODE_MIN_CHARS = 5
_CODE_WORDS = _words("code reference locator confirmation")
_SPELLED_RUN = re.compile(r"(?:\b[a-z0-9]\b[\s,.-]*)+$", re.I)
_CLOCK = re.compile(r"\b[ap]\.?\s?m\b\.?", re.I)  # "3 p.m." is a time, not a code
_TRAILING = re.compile(r"(\.\.\.|…|,|-|—|:)\s*$")
_WORD = re.compile(r"[a-z0-9']+", re.I)


def end_of_turn_probability(transcript: str) -> float:
    """How likely the caller has finished, from the words heard so far (COMPLETE/INCOMPLETE)."""
    text = transcript.strip()
    tokens = _WORD.findall(text)
    words = [t.lower() for t in tokens]
    if not words:
        return COMPLETE  # nothing readable: the words cannot argue for waiting
    if _TRAILING.search(text):
        return INCOMPLETE  # Whisper writes a trailing-off voice as "..." or a comma
    if _partial_code(text, words, tokens[-1]):
        return INCOMPLETE
    if _waits_for_more(words):
        return INCOMPLETE
    return COMPLETE


def _partial_code(text: str, words: list[str], last: str) -> bool:
    """A booking code spelled only partly at the end: "N V N" (not "4 5 6", a number), or,
    right after "code"/"reference", a run Whisper joined ("My confirmation code is ABC.");
    ``last`` is the final word as written (its case tells a code from a word)."""
    spelled = _SPELLED_RUN.search(_CLOCK.sub("", text).rstrip())
    if spelled and len(words) > 1:
        chars = "".join(_WORD.findall(spelled.group(0)))
        if 2 <= len(chars) < _CODE_MIN_CHARS and not chars.isdigit():
            return True
    named = any(w in _CODE_WORDS for w in words[-4:-1])
    return named and 2 <= len(last) < _CODE_MIN_CHARS and last.isupper()


def _waits_for_more(words: list[str]) -> bool:
    """True if the last word needs another after it (see the word lists above)."""
    last = words[-1]
    before = words[-2] if len(words) > 1 else ""
    opener = next((w for w in words if w not in _LEAD_INS), "")
    if last in _OPEN_WORDS:
        return True
    if last in _CITY_STARTS and before in _PREPOSITIONS:
        return True
    if last == "i":  # "So do I." ends; "What do I ..." does not
        return before not in _I_CLOSERS or opener in _WH_WORDS
    if last in _PREPOSITIONS:
        stranded = opener in _WH_WORDS and (
            before in _PRONOUNS or before in _STRANDING_VERBS or before.endswith("ing")
        )
        return not stranded and before not in _PARTICLE_VERBS
    if last in _VERBS_NEEDING_MORE:
        return before not in _PRONOUNS
    return last == "like" and before in _LIKE_OPENERS


class TextTurnDetector:
    """livekit ``_TurnDetector`` over the transcript (see the module's docstring)."""

    def __init__(self, unlikely_threshold: float = UNLIKELY) -> None:
        self._threshold = unlikely_threshold

    @property
    def model(self) -> str:
        return "navan-text-rules"

    @property
    def provider(self) -> str:
        return "navan"

    async def unlikely_threshold(self, language: LanguageCode | None) -> float | None:
        return self._threshold

    async def supports_language(self, language: LanguageCode | None) -> bool:
        # the rules are English; livekit ends the turn on silence alone for any other language
        return language is None or str(language).lower().startswith("en")

    async def predict_end_of_turn(
        self, chat_ctx: llm.ChatContext, *, timeout: float | None = None
    ) -> float:
        return end_of_turn_probability(last_user_text(chat_ctx))


def last_user_text(chat_ctx: llm.ChatContext) -> str:
    """The newest user message's text ("" if the caller has not spoken)."""
    for item in reversed(chat_ctx.items):
        if getattr(item, "type", None) == "message" and getattr(item, "role", None) == "user":
            return item.text_content or ""  # type: ignore[union-attr]
    return ""


# Words after which a caller usually goes on even when the rules above would let the turn end:
# verbs still missing their object ("I need", "can you cancel"), question words and auxiliaries
# ("when does"), the first half of a compound ("my confirmation | code") and nouns a request
# usually qualifies ("my flight | to Boston", "my employee number | is ..."). Ending the turn
# early (sure_end_of_turn) skips these: the caller then gets the ordinary silence.
_UNSURE_LAST = _words(
    "need want like cancel change move book get tell give have make find check fly go see know"
    "  what when where which who how why whose  do does did can could will would shall should"
    "  may might must  me you us him them  hi hey hello so well okay ok"
    "  confirmation cancellation expense employee business frequent return last first next"
    "  flight flights hotel hotels trip trips room seat booking reservation number numbers code"
    "  name policy fare ticket rental real premium"
)


def sure_end_of_turn(transcript: str) -> bool:
    """True when the words leave little doubt the caller has finished, so the turn may end at
    the first short pause (the early end of turn, speech/early_end.py). Stricter than
    ``end_of_turn_probability``, because a wrong early end answers half a request while a missed
    one only waits the ordinary silence: the last word must not be one callers go on after
    (``_UNSURE_LAST``). On the text Whisper wrote at mid-sentence pauses (bench.speech.stt_split)
    it lets 5 % through, and 84 % of whole sentences. Whisper's full stop is no help: it leaves
    it off whole sentences at 16 kHz, where it has no prompt, about as often as off fragments."""
    text = transcript.strip()
    if end_of_turn_probability(text) < UNLIKELY:
        return False
    tokens = _WORD.findall(text)
    if not tokens:
        return False
    last = tokens[-1].lower()
    before = tokens[-2].lower() if len(tokens) > 1 else ""
    if last == "you" and before == "thank":
        return True
    # a letter or an airline's two letters: a code or flight number being spelled ("UA | 1542")
    spelling = len(last) == 1 or (len(tokens[-1]) == 2 and tokens[-1].isupper())
    return last not in _UNSURE_LAST and not spelling
