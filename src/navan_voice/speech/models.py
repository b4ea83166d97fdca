"""The local models a worker process loads once (in prewarm) and every call then shares."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from navan_voice.speech.piper_tts import load_piper_voice
from navan_voice.speech.priority import run_lowered, set_model_nice
from navan_voice.speech.turn import load_turn_detector
from navan_voice.speech.vad import load_vad
from navan_voice.speech.whisper_engine import WhisperEngine

if TYPE_CHECKING:
    from livekit.agents.inference import TurnDetector
    from livekit.agents.vad import VAD
    from piper import PiperVoice

    from navan_voice.config import Settings

logger = logging.getLogger(__name__)


@dataclass
class ModelBundle:
    """Process-wide loaded models; a field is None when the settings do not need it."""

    vad: VAD | None = None
    whisper: WhisperEngine | None = None
    piper: PiperVoice | None = None
    turn_detector: TurnDetector | None = None
    load_seconds: dict[str, float] = field(default_factory=dict)


def load_local_models(settings: Settings) -> ModelBundle:
    """Load what the settings' chains use (VAD always), timing and logging each load."""
    bundle = ModelBundle()

    def timed(name: str) -> float:
        seconds = time.perf_counter() - started
        bundle.load_seconds[name] = seconds
        logger.info("loaded %s in %.2f s", name, seconds)
        return seconds

    set_model_nice(settings.model_thread_nice)  # before the loads: their threads inherit it
    started = time.perf_counter()
    bundle.vad = load_vad(min_silence_duration=settings.vad_min_silence_s)
    timed("vad")
    if "local" in settings.chain("stt"):
        started = time.perf_counter()
        bundle.whisper = run_lowered(
            lambda: WhisperEngine.load(
                cpu_threads=settings.stt_threads, workers=settings.stt_workers
            )
        )
        timed("whisper")
    if "local" in settings.chain("tts"):
        started = time.perf_counter()
        bundle.piper = run_lowered(
            lambda: load_piper_voice(threads=settings.tts_threads, spin=settings.tts_threads == 0)
        )
        timed("piper")
    if settings.turn_detection == "model":
        started = time.perf_counter()
        bundle.turn_detector = load_turn_detector()
        timed("turn_detector")
    return bundle
