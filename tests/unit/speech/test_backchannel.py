"""Which caller words over the agent are backchannels ("go on"), not a turn."""

from __future__ import annotations

import pytest

from navan_voice.speech.backchannel import is_backchannel

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "text", ["Okay.", "Mm-hmm.", "Yeah, got it.", "Uh huh", "All right.", "I see.", "Right, right."]
)
def test_acknowledgements_are_backchannels(text: str) -> None:
    assert is_backchannel(text)


@pytest.mark.parametrize(
    "text", ["Yes, cancel it.", "Okay okay okay okay", "", "Hey.", "Stop.", "Wait.", "No."]
)
def test_words_that_ask_for_something_are_not(text: str) -> None:
    assert not is_backchannel(text)
