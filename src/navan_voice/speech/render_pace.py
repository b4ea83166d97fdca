"""How far a reply's rendering may run ahead of its playback.

A local TTS renders a reply's sentences as fast as the CPU allows, so a 13-second answer costs
all of its CPU in the first second, just when the other calls on the machine need theirs for the
STT pass that sets their own reply's latency. ``RenderPace`` lets the rest of a reply be rendered
while it plays: the next sentence waits until less than ``lead_s`` of audio is left unplayed.
livekit reports no playback position to a TTS stream, so time since the first audio stands in for
it (a pause of the output only makes the estimate render sooner, never later).
"""

from __future__ import annotations

import time


class RenderPace:
    """One reply's rendering clock: audio handed over so far against the time since its first
    audio. ``lead_s`` 0: no pacing."""

    def __init__(self, lead_s: float, sample_rate: int, *, sample_width: int = 2) -> None:
        self.lead_s = lead_s
        self._bytes_per_s = float(sample_rate * sample_width)
        self._started: float | None = None
        self.audio_s = 0.0

    def delivered(self, pcm: bytes) -> None:
        """Count ``pcm`` (mono, ``sample_width`` bytes a sample) as handed to the output."""
        if self._started is None:
            self._started = time.monotonic()
        self.audio_s += len(pcm) / self._bytes_per_s

    def ahead_s(self) -> float:
        """Audio handed over but not yet played, by the time since the first audio."""
        if self._started is None:
            return 0.0
        return max(0.0, self.audio_s - (time.monotonic() - self._started))

    def wait_s(self) -> float:
        """How long to wait before rendering the next sentence (0: render now)."""
        if self.lead_s <= 0:
            return 0.0
        return max(0.0, self.ahead_s() - self.lead_s)
