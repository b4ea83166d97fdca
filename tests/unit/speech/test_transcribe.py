"""``transcribe_file``: any rate, mono or stereo, and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from navan_voice.config import Settings
from navan_voice.domain.errors import AudioInputError
from navan_voice.speech.audio import FloatArray, resample
from navan_voice.speech.transcribe import read_audio, transcribe_file

from .conftest import words

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("no_provider_keys")]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioInputError, match="no such file"):
        read_audio(tmp_path / "nope.wav")


def test_not_audio(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio")
    with pytest.raises(AudioInputError, match="not a readable audio file"):
        read_audio(path)


def test_empty_audio(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    sf.write(str(path), np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioInputError, match="no audio"):
        read_audio(path)


def test_stereo_44k_is_downmixed_and_resampled(tmp_path: Path) -> None:
    tone = np.sin(np.arange(44100) / 44100 * 2 * np.pi * 440).astype(np.float32) * 0.5
    path = tmp_path / "stereo.flac"
    sf.write(str(path), np.stack([tone, tone], axis=1), 44100)
    audio = read_audio(path)
    assert abs(audio.size - 16000) < 50
    assert 0.3 < float(np.max(np.abs(audio))) < 0.6


@pytest.mark.models
def test_transcribes_a_stereo_8k_file(tmp_path: Path, flight_phrase: FloatArray) -> None:
    phone = resample(flight_phrase, 16000, 8000)
    path = tmp_path / "call.wav"
    sf.write(str(path), np.stack([phone, phone * 0.5], axis=1), 8000)
    text = transcribe_file(path, Settings(_env_file=None))  # type: ignore[call-arg]
    assert {"flight", "boston"} <= words(text)
