"""End-of-turn detection: livekit's local turn-detector-v1-mini, or VAD silence.

``TurnDetector()`` picks the *cloud* model on its own whenever it thinks it runs in dev mode or
hosted, so the version is pinned to ``v1-mini`` (runs in-process from livekit-local-inference,
no key, no network). The model is loaded and asked once here, at prewarm, so a broken install
shows at start-up; then the worker falls back to VAD turn detection and logs why.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from livekit.agents.inference import TurnDetector

logger = logging.getLogger(__name__)


def load_turn_detector() -> TurnDetector | None:
    """The local v1-mini turn detector, checked with one prediction; None if it cannot run."""
    started = time.perf_counter()
    try:
        from livekit.agents.inference import TurnDetector
        from livekit.local_inference import EOT

        detector = TurnDetector(version="v1-mini")
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
        "turn detector %s ready in %.2f s (probe p=%.2f)",
        detector.model,
        time.perf_counter() - started,
        probability,
    )
    return detector


def turn_detection(mode: str, detector: TurnDetector | None) -> TurnDetector | Literal["vad"]:
    """What to pass as ``AgentSession(turn_detection=...)`` for settings mode "vad" or "model"."""
    if mode == "model":
        if detector is not None:
            return detector
        logger.warning("turn_detection=model but the turn detector did not load; using VAD")
    return "vad"
