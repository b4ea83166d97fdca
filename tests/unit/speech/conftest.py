"""Shared fixtures for the speech tests: loaded models and caller audio made at test time.

Caller audio comes from Debian's flite, festival and espeak-ng -- voices other than the agent's
piper voice -- written into tmp_path, so no audio file is checked in.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from navan_voice.speech.audio import FloatArray, resample, to_mono
from navan_voice.speech.piper_tts import load_piper_voice
from navan_voice.speech.vad import load_vad
from navan_voice.speech.whisper_engine import WhisperEngine

PROVIDER_ENV = (
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GOOGLE_API_KEY",
    "DEEPGRAM_API_KEY",
    "CARTESIA_API_KEY",
    "ELEVEN_API_KEY",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "models: loads the offline speech models (slower; still runs in CI)"
    )


def synth_caller(text: str, voice: str, out: Path, *, language: str = "en") -> Path:
    """Write ``text`` spoken by a Debian voice (flite, festival or espeak) to a WAV in ``out``;
    ``language``: espeak-ng's voice for it (e.g. "es"; the others speak only English)."""
    wav = out / f"{voice}-{language}-{abs(hash(text)) % 10**8}.wav"
    if voice == "flite":
        cmd = ["flite", "-t", text, "-o", str(wav)]
        subprocess.run(cmd, check=True, capture_output=True)
    elif voice == "espeak":
        cmd = ["espeak-ng", "-v", language, "-w", str(wav), text]
        subprocess.run(cmd, check=True, capture_output=True)
    elif voice == "festival":
        subprocess.run(
            ["text2wave", "-eval", "(voice_cmu_us_slt_arctic_hts)", "-o", str(wav)],
            input=text.encode(),
            check=True,
            capture_output=True,
        )
    else:
        raise ValueError(voice)
    return wav


def read_16k(path: Path) -> FloatArray:
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return resample(to_mono(data), int(rate), 16000)


@pytest.fixture(scope="session")
def engine() -> WhisperEngine:
    return WhisperEngine.load(cpu_threads=2)


@pytest.fixture(scope="session")
def vad():  # type: ignore[no-untyped-def]
    return load_vad()


@pytest.fixture(scope="session")
def piper_voice():  # type: ignore[no-untyped-def]
    return load_piper_voice()


@pytest.fixture(scope="session")
def caller_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for tool in ("flite", "espeak-ng", "text2wave"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: run scripts/install-system-deps.sh")
    return tmp_path_factory.mktemp("caller")


@pytest.fixture(scope="session")
def flight_phrase(caller_dir: Path) -> FloatArray:
    """Festival (female HTS voice) asking to change a flight, 16 kHz mono."""
    path = synth_caller(
        "I need to change my flight to Boston next Tuesday.", "festival", caller_dir
    )
    return read_16k(path)


@pytest.fixture
def no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)
    for name in ("NAVAN_PROFILE", "NAVAN_STT", "NAVAN_LLM", "NAVAN_TTS", "NAVAN_LLM_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    yield


def words(text: str) -> set[str]:
    return {w.strip(".,?!").lower() for w in text.split()}


def silence(seconds: float, rate: int = 16000) -> FloatArray:
    return np.zeros(int(seconds * rate), dtype=np.float32)
