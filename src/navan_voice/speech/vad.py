"""Silero VAD, the model shipped inside livekit-plugins-silero (loads offline in ~0.2 s)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from navan_voice.domain.errors import SetupError

if TYPE_CHECKING:
    from livekit.agents.vad import VAD

logger = logging.getLogger(__name__)


def load_vad(*, min_silence_duration: float = 0.55, sample_rate: int = 16000) -> VAD:
    """Load Silero VAD once per process; ``min_silence_duration`` ends a speech segment."""
    try:
        from livekit.plugins import silero
    except ImportError as e:
        raise SetupError("VAD needs livekit-plugins-silero: install livekit-agents[silero]") from e
    if sample_rate not in (8000, 16000):
        raise SetupError(f"Silero VAD runs at 8000 or 16000 Hz, not {sample_rate}")
    return silero.VAD.load(
        min_silence_duration=min_silence_duration,
        sample_rate=sample_rate,  # type: ignore[arg-type]
    )
