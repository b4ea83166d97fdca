"""``navan-voice transcribe FILE``: what the configured STT hears in an audio file."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from navan_voice.domain.errors import AudioInputError, SpeechEngineError
from navan_voice.speech.audio import WHISPER_RATE, array_to_frame, resample, to_mono

if TYPE_CHECKING:
    from navan_voice.config import Settings
    from navan_voice.speech.audio import FloatArray

logger = logging.getLogger(__name__)


def read_audio(path: Path) -> FloatArray:
    """Mono 16 kHz float32 samples of a WAV/FLAC/OGG file (downmixed and resampled as needed)."""
    import soundfile as sf

    if not path.exists():
        raise AudioInputError(f"{path}: no such file")
    if not path.is_file():
        raise AudioInputError(f"{path}: not a file")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise AudioInputError(
            f"{path}: not a readable audio file ({e}); use WAV, FLAC or OGG"
        ) from e
    if data.shape[0] == 0:
        raise AudioInputError(f"{path}: the file holds no audio")
    if data.shape[1] > 1:
        logger.info("%s: downmixed %d channels to mono", path.name, data.shape[1])
    audio = to_mono(data)
    if rate != WHISPER_RATE:
        logger.info("%s: resampled %d Hz to %d Hz", path.name, rate, WHISPER_RATE)
        audio = resample(audio, int(rate), WHISPER_RATE)
    return audio


def transcribe_file(path: Path, settings: Settings) -> str:
    """Run the configured STT chain over the file and return the text it hears."""
    audio = read_audio(path)
    return asyncio.run(_recognize(audio, settings))


async def _recognize(audio: FloatArray, settings: Settings) -> str:
    from livekit.agents import APIConnectOptions, APIError

    from navan_voice.speech.factory import build_stt
    from navan_voice.speech.models import ModelBundle
    from navan_voice.speech.vad import load_vad
    from navan_voice.speech.whisper_engine import WhisperEngine

    chain = settings.chain("stt")
    loaded = ModelBundle(vad=load_vad())
    if "local" in chain:
        loaded.whisper = WhisperEngine.load(cpu_threads=settings.stt_threads)
    stt = build_stt(settings, loaded)
    # a long file may take a while on 2 cores: allow ~1 s per 2 s of audio on top of the limit
    timeout = settings.provider_timeout_s + audio.size / WHISPER_RATE / 2
    try:
        event = await stt.recognize(
            array_to_frame(audio.astype(np.float32), WHISPER_RATE),
            conn_options=APIConnectOptions(max_retry=0, timeout=timeout),
        )
    except APIError as e:
        raise SpeechEngineError(f"speech recognition failed: {e}") from e
    finally:
        await stt.aclose()
    return " ".join(alt.text for alt in event.alternatives[:1]).strip()
