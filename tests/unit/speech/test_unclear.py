"""Which transcripts are passed on as "(unclear speech)" (speech/unclear.py)."""

from __future__ import annotations

import pytest

from navan_voice.speech.unclear import MIN_WORDS, UNCLEAR, UNCLEAR_BELOW, heard, is_unclear

pytestmark = pytest.mark.unit


def test_an_unsure_sentence_is_unclear_and_a_sure_one_is_not() -> None:
    guess = "I'm not going to be able to pay."  # what tiny.en made of French
    assert heard(guess, UNCLEAR_BELOW - 0.5) == UNCLEAR
    assert heard(guess, UNCLEAR_BELOW + 0.5) == guess


def test_short_answers_are_never_unclear() -> None:
    # a clear "Yes." can score -1.2: a confirmation must not be turned into "say it again"
    for answer in ("Yes.", "No thanks.", "A person, please."):
        assert len(answer.split()) < MIN_WORDS
        assert heard(answer, -3.0) == answer


def test_the_threshold_is_the_setting_and_none_turns_it_off() -> None:
    text = "When does my flight to New York leave?"
    assert is_unclear(text, -0.7, below=-0.6)
    assert not is_unclear(text, -0.7, below=-0.8)
    assert not is_unclear(text, -5.0, below=None)


@pytest.mark.parametrize(
    "text",
    ["The reference number is x y 7 4 9", "My code is N V N 7 Q 2 and my name is Rivera",
     "It's NVN7Q2, Rivera", "The reference number is next, Y 7 4 9."],
)  # fmt: skip
def test_a_code_read_out_is_never_unclear(text: str) -> None:
    # codes score low in any accent: nothing predicts the next letter
    assert heard(text, -1.5) == text


@pytest.mark.parametrize(
    "text", ["I can't look, I'm not sure if I can't look, I'm", "It's a great way to go there."]
)
def test_contractions_and_words_do_not_read_as_a_code(text: str) -> None:
    assert heard(text, -1.5) == UNCLEAR
