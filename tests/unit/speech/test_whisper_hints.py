"""Vocabulary hints for the local Whisper: they reach the model and help on phone audio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from navan_voice.speech.audio import FloatArray, array_to_frame, resample
from navan_voice.speech.dialogue.slots import CITY_AIRPORTS
from navan_voice.speech.vocabulary import resolve_hints, travel_hints
from navan_voice.speech.whisper_engine import WhisperEngine
from navan_voice.speech.whisper_stt import WhisperSTT

from .conftest import read_16k, silence, synth_caller, words

pytestmark = [pytest.mark.unit]


def phone_line(audio_16k: FloatArray) -> FloatArray:
    """``audio_16k`` as a SIP call carries it: 8 kHz, G.711 µ-law (8 bits) and back."""
    narrow = resample(audio_16k, 16000, 8000)
    mu = 255.0
    compressed = np.sign(narrow) * np.log1p(mu * np.abs(narrow)) / np.log1p(mu)
    quantised = np.round(compressed * 127.0) / 127.0
    return (np.sign(quantised) * np.expm1(np.abs(quantised) * np.log1p(mu)) / mu).astype(np.float32)


class _SpyGenerate:
    """Wraps the CTranslate2 model: records the decoder prompts, decodes for real."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.prompts: list[list[int]] = []

    def generate(self, features: Any, prompts: list[list[int]], **options: Any) -> Any:
        self.prompts.append(list(prompts[0]))
        return self.inner.generate(features, prompts, **options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_travel_hints_name_the_known_cities() -> None:
    hints = travel_hints()
    assert "confirmation code" in hints
    for city in CITY_AIRPORTS:
        assert city.title() in hints
    assert resolve_hints("travel") == hints
    assert resolve_hints("") == ""
    assert resolve_hints(" Globex offsite ") == "Globex offsite"


@pytest.mark.models
def test_hints_and_previous_text_reach_the_model_call(
    engine: WhisperEngine, flight_phrase: FloatArray, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _SpyGenerate(engine._model.model)
    monkeypatch.setattr(engine._model, "model", spy)
    tokenizer = engine._tokenizer
    engine.transcribe(flight_phrase)
    engine.transcribe(flight_phrase, hints="Boston, Denver", prompt="Hello.")
    plain, hinted = spy.prompts[0], spy.prompts[-1]
    assert tokenizer.sot_prev not in plain
    assert hinted[0] == tokenizer.sot_prev
    before = hinted[1 : hinted.index(tokenizer.sot)]
    assert tokenizer.decode(before).strip() == "Boston, Denver Hello."
    assert hinted[len(hinted) - len(plain) :] == plain  # then the usual start of transcript


@pytest.mark.models
async def test_the_phone_stt_hears_a_city_on_phone_audio(
    engine: WhisperEngine, caller_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "My flight to Seattle was cancelled this morning."
    phone = phone_line(read_16k(synth_caller(text, "festival", caller_dir)))
    spy = _SpyGenerate(engine._model.model)
    monkeypatch.setattr(engine._model, "model", spy)
    model = WhisperSTT(engine, hints=travel_hints())
    event = await model.recognize(array_to_frame(phone, 8000))
    assert {"flight", "seattle"} <= words(event.alternatives[0].text)
    assert all(p[0] == engine._tokenizer.sot_prev for p in spy.prompts)


@pytest.mark.models
async def test_hints_do_not_turn_silence_or_noise_into_words(engine: WhisperEngine) -> None:
    model = WhisperSTT(engine, hints=travel_hints())
    quiet = await model.recognize(array_to_frame(silence(2.0, 8000), 8000))
    assert quiet.alternatives[0].text == ""
    noise = phone_line(np.random.default_rng(7).normal(0, 0.1, 48000).astype(np.float32))
    event = await model.recognize(array_to_frame(noise, 8000))
    assert len(event.alternatives[0].text.split()) <= 3


@pytest.mark.models
def test_an_unsure_result_is_redecoded_only_when_asked(
    engine: WhisperEngine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # the full-window re-decode cost a caller ≈1 s per garbled phrase and changed no word on
    # the phone bench, so only loops get it unless retry_unsure is set
    from navan_voice.speech.whisper_engine import Transcription

    windows: list[int] = []

    def unsure(features: Any, frames: int, *args: Any) -> Transcription:
        windows.append(frames)
        return Transcription("wapo tell misstating", avg_logprob=-1.6, no_speech_prob=0.1)

    monkeypatch.setattr(engine, "_generate", unsure)
    audio = read_16k(synth_caller("What hotel am I staying at in New York?", "flite", tmp_path))
    assert engine.transcribe(audio).text == "wapo tell misstating"
    assert len(windows) == 1  # no second pass
    monkeypatch.setattr(engine, "retry_unsure", True)
    windows.clear()
    engine.transcribe(audio)
    assert len(windows) == 2 and windows[1] == 3000  # then Whisper's full 30 s window
