"""Caller audio: loading any rate/channels, refusing bad files, splitting into utterances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from navan_voice.caller.audio import (
    load_audio,
    rms_dbfs,
    split_utterances,
    trailing_quiet_s,
    write_wav,
)
from navan_voice.domain.errors import AudioInputError

pytestmark = pytest.mark.unit


def tone(seconds: float, rate: int, freq: float = 440.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_stereo_44k_is_downmixed_and_resampled(tmp_path: Path) -> None:
    path = tmp_path / "stereo.wav"
    mono = tone(1.0, 44100)
    sf.write(path, np.stack([mono, mono], axis=1), 44100)
    audio = load_audio(path, 48000)
    assert audio.sample_rate == 48000
    assert abs(len(audio.samples) - 48000) <= 1
    assert audio.samples.dtype == np.int16
    assert any("downmixed 2 channels" in n for n in audio.notes)
    assert any("resampled 44100 Hz to 48000 Hz" in n for n in audio.notes)
    assert rms_dbfs(audio.samples) > -15


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(AudioInputError, match="does not exist"):
        load_audio(tmp_path / "nope.wav", 48000)


def test_non_audio_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio")
    with pytest.raises(AudioInputError, match="not a readable audio file"):
        load_audio(path, 48000)


def test_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AudioInputError, match="is not a file"):
        load_audio(tmp_path, 48000)


def test_empty_wav_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    write_wav(path, np.zeros(0, dtype=np.int16), 16000)
    with pytest.raises(AudioInputError, match="no audio samples"):
        load_audio(path, 48000)


def test_split_on_pauses(tmp_path: Path) -> None:
    rate = 16000
    gap = np.zeros(int(1.2 * rate), dtype=np.float32)
    short_gap = np.zeros(int(0.3 * rate), dtype=np.float32)
    signal = np.concatenate(
        [gap, tone(1.0, rate), short_gap, tone(0.5, rate), gap, tone(0.7, rate), gap]
    )
    path = tmp_path / "two.wav"
    sf.write(path, signal, rate)
    parts = split_utterances(load_audio(path, rate))
    # the 0.3 s pause is inside an utterance; the 1.2 s pauses separate two utterances
    assert len(parts) == 2
    assert 1.7 <= len(parts[0]) / rate <= 2.2
    assert 0.7 <= len(parts[1]) / rate <= 1.1


def test_silence_has_no_utterances(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(16000, dtype=np.float32), 16000)
    assert split_utterances(load_audio(path, 16000)) == []


def test_trailing_quiet_is_measured_from_the_last_loud_frame() -> None:
    rate = 16000
    signal = np.concatenate([tone(0.5, rate), np.zeros(int(0.25 * rate), dtype=np.float32)])
    pcm = (signal * 32767).astype(np.int16)
    assert trailing_quiet_s(pcm, rate) == pytest.approx(0.25, abs=0.011)
    assert trailing_quiet_s((tone(0.3, rate) * 32767).astype(np.int16), rate) == 0.0
