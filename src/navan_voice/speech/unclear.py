"""Speech the local STT did not understand, passed on as such rather than as guessed words.

Whisper tiny.en writes English whatever it hears: a caller speaking Spanish comes out as "It's a
great way to go", which any dialogue engine would answer as a request. What it does report is how
sure it was: the average log-probability of its tokens. On the travel sentences of
bench/speech/unclear_speech.py, a transcript of four words or more scored below -0.9 was another
language in 50 of 60 clips (ten languages; 3 more came out empty) and English in none of 96;
shorter answers are left alone, because a clear "Yes." or "Goodbye." can score as low as -1.2,
and so are codes read out ("the reference number is X Y 7 4 9"), which score low in any accent
(espeak-ng's regional English accents, bench/speech/unclear_accents.py: 4 of the 5 clips heard
right and still marked were that sentence, 1 of 224 with this rule; none of the 60
other-language clips reads as a code). Such a transcript
goes to the dialogue as ``UNCLEAR``, which every engine reads as "say it again" (the rules
engine treats any parenthesised mark as not caught; a cloud LLM reads the words), the live
captions show the mark too, and the guess is logged, not lost.
"""

from __future__ import annotations

import logging
import re

logger = logging.getLogger(__name__)

UNCLEAR = "(unclear speech)"
UNCLEAR_BELOW = -0.9  # Whisper's average token log-probability (bench/speech/unclear_speech.py)
MIN_WORDS = 4  # shorter transcripts ("Yes.", "No thanks.") are never marked


def word_count(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9']+", text))


def spells_a_code(text: str) -> bool:
    """Whether ``text`` reads out a code or a number: three or more single letters or digit
    groups ("X Y 7 4 9", "N V N 7 Q 2") or a token mixing letters and digits ("NVN7Q2").
    Whisper scores these low in any accent (nothing predicts the next letter), so a low score
    there says nothing about the language."""
    tokens = re.findall(r"[A-Za-z0-9']+", text)
    singles = sum(1 for t in tokens if t.isdigit() or (len(t) == 1 and t.lower() not in "ai"))
    mixed = any(re.search(r"\d", t) and re.search(r"[A-Za-z]", t) for t in tokens)
    return singles >= 3 or mixed


def is_unclear(
    text: str,
    avg_logprob: float,
    below: float | None = UNCLEAR_BELOW,
    *,
    min_words: int = MIN_WORDS,
) -> bool:
    """Whether a transcript is too unsure to act on (see the module doc); ``below`` None: never.
    A code read out is never marked (``spells_a_code``). ``min_words`` other than MIN_WORDS is
    for the bench's comparison only."""
    return (
        below is not None
        and avg_logprob < below
        and word_count(text) >= min_words
        and not spells_a_code(text)
    )


def heard(
    text: str, avg_logprob: float, below: float | None = UNCLEAR_BELOW, *, log: bool = True
) -> str:
    """``text``, or ``UNCLEAR`` when Whisper was too unsure of it (the guess is logged)."""
    if not is_unclear(text, avg_logprob, below):
        return text
    if log:
        logger.info("unclear speech (score %.2f, below %s): heard as %r", avg_logprob, below, text)
    return UNCLEAR
