"""Backchannels: the "okay", "yeah", "mm-hmm" a listener says while the other one talks.

Said over the agent's reply they mean "go on", not "stop": the STT drops them (only then), so
livekit treats the pause they caused as a false interruption and the agent resumes where it was.
The same words after the agent has finished are answers and pass through untouched.
"""

from __future__ import annotations

import re

# as Whisper spells them
_SINGLE = frozenset(
    {"yeah", "yes", "yep", "yup", "ok", "okay", "right", "sure", "alright", "cool", "great"}
    | {"uh-huh", "mhm", "mm-hmm", "mm", "hmm", "hm", "gotcha"}
)
_PAIRS = frozenset({("got", "it"), ("i", "see"), ("all", "right"), ("uh", "huh")})
_MAX_PIECES = 3  # "okay, got it" is one; "yes, cancel it" is not
_WORD = re.compile(r"[a-z'-]+", re.I)


def is_backchannel(text: str) -> bool:
    """True if ``text`` holds only listener's acknowledgements ("Okay.", "Mm-hmm, got it.")."""
    words = [w.lower().strip("-") for w in _WORD.findall(text)]
    pieces = 0
    while words:
        if tuple(words[:2]) in _PAIRS:
            words = words[2:]
        elif words[0] in _SINGLE:
            words = words[1:]
        else:
            return False
        pieces += 1
    return 0 < pieces <= _MAX_PIECES
