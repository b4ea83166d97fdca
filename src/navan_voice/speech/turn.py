"""End-of-turn detection: the caller's words (``text_turn``), livekit's local
turn-detector-v1-mini, or VAD silence alone.

``TurnDetector()`` picks the *cloud* model on its own whenever it thinks it runs in dev mode or
hosted, so the version is pinned to ``v1-mini`` (runs in-process from livekit-local-inference,
no key, no network). The model is loaded and asked once here, at prewarm, so a broken install
shows at start-up; then the worker falls back to VAD turn detection and logs why.

The model listens to audio only: at 0.2 s of VAD silence livekit hands it the last 1.2 s of
16 kHz audio, and at the VAD's end of speech a probability below ``unlikely_threshold`` makes the
turn wait ``max_endpointing_delay`` instead of ``min_endpointing_delay``. livekit ships 0.36 for
English; ``Settings.turn_unlikely_threshold`` is tuned on travel phrases by
``bench/speech/turn_detector.py`` (results in ``bench/speech/TURN_DETECTOR.md``).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Literal, TypeAlias

import numpy as np

from navan_voice.speech.text_turn import TextTurnDetector

if TYPE_CHECKING:
    from livekit.agents.inference import TurnDetector

# what AgentSession(turn_detection=...) gets from the settings
Detection: TypeAlias = "TurnDetector | TextTurnDetector | Literal['vad']"

logger = logging.getLogger(__name__)


def load_turn_detector(unlikely_threshold: float | None = None) -> TurnDetector | None:
    """The local v1-mini turn detector, checked with one prediction; None if it cannot run.

    ``unlikely_threshold``: None keeps livekit's shipped threshold (0.36 for English)."""
    started = time.perf_counter()
    try:
        from livekit.agents.inference import TurnDetector
        from livekit.local_inference import EOT

        if unlikely_threshold is None:
            detector = TurnDetector(version="v1-mini")
        else:
            detector = TurnDetector(version="v1-mini", unlikely_threshold=unlikely_threshold)
        probe = EOT()
        probability = float(probe.predict(np.zeros(16000, dtype=np.int16)))
    except Exception as e:  # any failure means: no model turn detection in this process
        logger.warning(
            "local turn detector unavailable (%s: %s); falling back to VAD turn detection",
            type(e).__name__,
            e,
        )
        return None
    logger.info(
        "turn detector %s ready in %.2f s (probe p=%.2f, threshold %s)",
        detector.model,
        time.perf_counter() - started,
        probability,
        "livekit's" if unlikely_threshold is None else unlikely_threshold,
    )
    return detector


def with_threshold(detection: Detection, unlikely_threshold: float) -> Detection:
    """The audio model with its unlikely threshold set to ``unlikely_threshold`` (others as
    they are: the text rules give 0 or 1-like probabilities and keep their own threshold).

    The process shares one detector among its sessions, so it is only updated when the value
    differs (livekit logs a warning on every override)."""
    if detection == "vad" or isinstance(detection, TextTurnDetector):
        return detection
    if detection.describe_options().get("threshold_overrides") != unlikely_threshold:
        detection.update_options(unlikely_threshold=unlikely_threshold)
    return detection


def turn_detection(mode: str, detector: TurnDetector | None) -> Detection:
    """What to pass as ``AgentSession(turn_detection=...)`` for settings mode "vad", "text"
    or "model"."""
    if mode == "text":
        return TextTurnDetector()
    if mode == "model":
        if detector is not None:
            return detector
        logger.warning("turn_detection=model but the turn detector did not load; using VAD")
    return "vad"
