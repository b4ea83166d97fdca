"""Word error rate with one text normalisation applied to the reference and the transcript alike.

No Whisper-style English normaliser ships in the installed packages (openai-whisper,
transformers, whisper-normalizer and jiwer are absent), so this is a small one with the rules
that matter for caller speech, each of them neutral between the two sides:

- case and punctuation are dropped, hyphens split words ("e-mail" -> "e mail");
- spelled letters and digits count one word each however they are written: "A B C one two
  three", "ABC 123", "ABC-123" and "abc123" all become ``a b c 1 2 3``; "1542" and "fifteen
  forty two" both become ``1 5 4 2``, "9:30" and "nine thirty" both ``9 3 0``;
- common contractions are expanded ("I'd" -> "i would"), as Whisper's own normaliser does;
- a few US/UK spellings and "ok"/"okay" count as the same word.

A wrong letter or digit still costs one error each; a dropped or extra word still counts.
"""

from __future__ import annotations

import re

import numpy as np

UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
NUMBER_WORDS = {w: i for i, w in enumerate(UNITS)} | {
    w: 10 * i for i, w in enumerate(TENS) if i > 1
}
CONTRACTIONS = {
    "won't": "will not",
    "can't": "can not",
    "cannot": "can not",
    "let's": "let us",
    "n't": " not",
    "'re": " are",
    "'ll": " will",
    "'ve": " have",
    "'m": " am",
    "'d": " would",
}
SPELLINGS = {
    "canceled": "cancelled",
    "canceling": "cancelling",
    "ok": "okay",
    "traveling": "travelling",
}


def _spell_out(token: str) -> str:
    """An acronym in capitals ("ABC", "UA") or a token with digits ("UA1542"): one char a word."""
    if (re.fullmatch(r"[A-Z]{2,}", token) and token != "OK") or re.search(r"\d", token):
        return " ".join(token)
    return token


def _numbers(tokens: list[str]) -> list[str]:
    """Number words to digits: "twenty three" -> 23, "fifteen forty two" -> 15 42."""
    out: list[str] = []
    pending: int | None = None
    for token in tokens:
        value = NUMBER_WORDS.get(token)
        if (
            value is not None
            and pending is not None
            and pending % 10 == 0
            and pending >= 20
            and value < 10
        ):
            pending += value  # "twenty" + "three"
            continue
        if pending is not None:
            out.append(str(pending))
            pending = None
        if value is not None:
            pending = value
        else:
            out.append(token)
    if pending is not None:
        out.append(str(pending))
    return out


def normalize(text: str) -> list[str]:
    """The words of ``text`` in the canonical form described in the module docstring."""
    text = re.sub(r"[^A-Za-z0-9' ]", " ", text.replace("’", "'"))
    text = " ".join(_spell_out(t) for t in text.split()).lower()
    for short, long in CONTRACTIONS.items():
        text = text.replace(short, long)
    tokens = [SPELLINGS.get(t, t) for t in text.replace("'", " ").split()]
    words: list[str] = []
    for token in _numbers(tokens):
        words.extend(token if token.isdigit() else [token])
    return words


def raw_words(text: str) -> list[str]:
    """The first report's scoring: lower case, punctuation dropped, nothing else."""
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def word_errors(ref: list[str], hyp: list[str]) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference words): Levenshtein over words."""
    d = np.arange(len(hyp) + 1)
    for i in range(1, len(ref) + 1):
        prev, d[0] = d.copy(), i
        for j in range(1, len(hyp) + 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (ref[i - 1] != hyp[j - 1]))
    return int(d[len(hyp)]), len(ref)
