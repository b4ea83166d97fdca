"""The call's audio file: livekit's RecorderIO with a pause that writes silence, and a repair.

livekit's ``RecorderIO`` already writes what we need (stereo Ogg/Opus, caller left, agent
right, one timeline, written every 2.5 s by an encoder thread) but has no pause.
``PausableRecorderIO`` adds one: every captured frame passes through ``_put`` stamped with
the wall time it covers, and whatever part of it falls inside a paused span is zeroed before it
reaches the encoder, on both
channels, so the paused span in the file is digital silence while the pipeline (STT, the
agent) still hears the caller. It relies on RecorderIO's private ``_put``/``_Captured``, pinned
by livekit-agents==1.8.9.

RecorderIO hands its encoded pages to FFmpeg's write buffer, which as opened by livekit keeps
them all in memory until the file is closed: a worker killed mid-call left a 0-byte file
(measured: 0 bytes after 30 s of call). ``PausableRecorderIO`` files are therefore opened with
FFmpeg's ``flush_packets``, so every finished Ogg page (about one a second) reaches the disk as
it is written; ``_IncrementalAv`` stands in for ``av`` inside livekit's recorder module to add
that option for our files only.

``repair_ogg`` makes a file cut off by a killed worker a clean one: it remuxes every packet it
can still read into a new Ogg file with a proper end, and reports the seconds it holds.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from livekit import rtc
from livekit.agents.voice.recorder_io import RecorderIO
from livekit.agents.voice.recorder_io import recorder_io as _lk_recorder

logger = logging.getLogger(__name__)


@dataclass
class PauseSpan:
    start: float  # wall time (time.time())
    end: float | None
    reason: str


class PausableRecorderIO(RecorderIO):
    """RecorderIO whose ``pause()`` / ``resume()`` write silence over the paused span."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spans: list[PauseSpan] = []

    async def start(self, *, output_path: str | Path) -> None:
        """Start writing ``output_path``, page by page as the call goes (see the module doc)."""
        _install_incremental_av()
        _INCREMENTAL_PATHS.add(str(Path(output_path)))
        await super().start(output_path=output_path)

    async def aclose(self) -> None:
        await super().aclose()
        if self.output_path is not None:
            _INCREMENTAL_PATHS.discard(str(self.output_path))

    @property
    def paused(self) -> bool:
        return bool(self.spans) and self.spans[-1].end is None

    def pause(self, reason: str = "", *, at: float | None = None) -> bool:
        """Start a silent span now; False when already paused."""
        if self.paused:
            return False
        self.spans.append(
            PauseSpan(start=at if at is not None else time.time(), end=None, reason=reason)
        )
        return True

    def resume(self, *, at: float | None = None) -> bool:
        """End the silent span now; False when not paused."""
        if not self.paused:
            return False
        self.spans[-1].end = at if at is not None else time.time()
        return True

    def capture(
        self, channel: int, frame: rtc.AudioFrame, *, started_at: float | None = None
    ) -> None:
        """Record audio that does not pass through the session, on ``channel`` (0: caller,
        1: our side), e.g. both halves of a call bridged to a human colleague. ``started_at``
        (wall time) defaults to "this frame just ended"."""
        at = started_at if started_at is not None else time.time() - frame.duration
        self._put(_lk_recorder._Captured(channel=channel, started_at=at, frame=frame))

    def _put(self, item: Any) -> None:
        if isinstance(item, _lk_recorder._Captured) and self.spans:
            item = _lk_recorder._Captured(
                channel=item.channel,
                started_at=item.started_at,
                frame=silence_spans(item.frame, item.started_at, self.spans),
            )
        super()._put(item)


_INCREMENTAL_PATHS: set[str] = set()  # the files PausableRecorderIO is writing


class _IncrementalAv:
    """``av`` as livekit's recorder module sees it: the same module, except that the files of
    ``_INCREMENTAL_PATHS`` are opened with ``flush_packets`` (each Ogg page written at once)."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def open(self, file: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("mode") == "w" and str(file) in _INCREMENTAL_PATHS:
            options = dict(kwargs.get("container_options") or {})
            options.setdefault("flush_packets", "1")
            kwargs["container_options"] = options
        return self._real.open(file, *args, **kwargs)


def _install_incremental_av() -> None:
    real = getattr(_lk_recorder, "av")  # noqa: B009
    if not isinstance(real, _IncrementalAv):
        setattr(_lk_recorder, "av", _IncrementalAv(real))  # noqa: B010


def silence_spans(
    frame: rtc.AudioFrame, started_at: float, spans: list[PauseSpan]
) -> rtc.AudioFrame:
    """``frame`` (which began at wall time ``started_at``) with paused spans zeroed."""
    rate, channels = frame.sample_rate, frame.num_channels
    n = frame.samples_per_channel
    end_at = started_at + n / rate
    overlaps = [
        (max(s.start, started_at), min(s.end if s.end is not None else float("inf"), end_at))
        for s in spans
    ]
    overlaps = [(lo, hi) for lo, hi in overlaps if hi > lo]
    if not overlaps:
        return frame
    pcm = np.frombuffer(frame.data, dtype=np.int16).reshape(n, channels).copy()
    for lo, hi in overlaps:
        a = max(0, int(np.floor((lo - started_at) * rate)))
        b = min(n, int(np.ceil((hi - started_at) * rate)))
        pcm[a:b, :] = 0
    return rtc.AudioFrame(
        data=pcm.tobytes(), sample_rate=rate, num_channels=channels, samples_per_channel=n
    )


def repair_ogg(path: Path) -> float:
    """Rewrite ``path`` with every readable packet and a proper end; returns its seconds.

    A missing or unreadable file returns 0.0 and is left as it is.
    """
    if not path.exists() or path.stat().st_size == 0:
        return 0.0
    fixed = path.with_suffix(".repaired.ogg")
    last_end = 0.0
    try:
        with (
            av.open(str(path), mode="r") as src,
            av.open(str(fixed), mode="w", format="ogg") as dst,
        ):
            in_stream = src.streams.audio[0]
            out_stream = dst.add_stream_from_template(in_stream)
            try:
                for packet in src.demux(in_stream):
                    if packet.dts is None or packet.size == 0:
                        continue
                    if packet.pts is not None and packet.time_base is not None:
                        dur = packet.duration or 0
                        last_end = max(last_end, float((packet.pts + dur) * packet.time_base))
                    packet.stream = out_stream
                    dst.mux(packet)
            except (av.error.InvalidDataError, av.error.EOFError, OSError) as e:
                logger.info(
                    "recording %s ends in a cut-off page (%s); kept what was whole",
                    path.name,
                    type(e).__name__,
                )
    except (av.error.FFmpegError, OSError, IndexError) as e:
        logger.warning("recording %s could not be repaired (%s); left as it is", path, e)
        fixed.unlink(missing_ok=True)
        return 0.0
    fixed.replace(path)
    return last_end


def ogg_duration(path: Path) -> float:
    """Seconds of audio in an Ogg/Opus file (0.0 when it cannot be read)."""
    try:
        with av.open(str(path), mode="r") as src:
            stream = src.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                return float(stream.duration * stream.time_base)
            if src.duration is not None:
                return float(src.duration / av.time_base)
    except (av.error.FFmpegError, OSError, IndexError):
        return 0.0
    return 0.0
