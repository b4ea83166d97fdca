"""Keeps the latest frame of the caller's screen share, and its text (OCR in the background).

``ScreenWatcher`` subscribes to the first screen-share video track a remote participant
publishes, holds only the newest frame (older ones are dropped, so a fast share costs no
memory), and reads its text with tesseract at most every ``ocr_interval_s`` when the picture
changed. A share that stops clears the frame; nothing here raises into the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from livekit import rtc
from numpy.typing import NDArray

from navan_voice.vision.ocr import Frame, is_blank, read_text

logger = logging.getLogger(__name__)

MAX_KEEP_PIXELS = 3840 * 2160  # larger frames are scaled down when converted


@dataclass(frozen=True)
class ScreenSnapshot:
    """What the caller's screen showed at ``captured_at`` (time.time())."""

    frame: rtc.VideoFrame
    captured_at: float
    text: str | None  # None: not read yet
    blank: bool


def to_rgb(frame: rtc.VideoFrame) -> Frame:
    """The frame as an RGB array (H × W × 3), scaled down when it is huge."""
    rgb = frame.convert(rtc.VideoBufferType.RGB24)
    array = np.frombuffer(rgb.data, dtype=np.uint8).reshape(rgb.height, rgb.width, 3)
    if rgb.width * rgb.height > MAX_KEEP_PIXELS:
        step = int(np.ceil(np.sqrt(rgb.width * rgb.height / MAX_KEEP_PIXELS)))
        array = array[::step, ::step]
    return array


THUMB = (18, 32)
CHANGE_LEVEL = 6.0  # mean grey-level difference of thumbnails that counts as a new picture


def fingerprint(rgb: Frame) -> NDArray[np.float32]:
    """A coarse grey thumbnail (THUMB) of the frame, for ``looks_different``."""
    h, w = rgb.shape[:2]
    if h == 0 or w == 0:
        return np.zeros(THUMB, np.float32)
    step = max(1, min(h, w) // 180)  # a few hundred pixels across are plenty
    grey = rgb[::step, ::step].mean(axis=2, dtype=np.float32)
    h, w = grey.shape
    rows = np.array_split(np.arange(h), THUMB[0])
    cols = np.array_split(np.arange(w), THUMB[1])
    return np.array(
        [[grey[r[0] : r[-1] + 1, c[0] : c[-1] + 1].mean() for c in cols] for r in rows],
        dtype=np.float32,
    )


def looks_different(a: NDArray[np.float32] | None, b: NDArray[np.float32]) -> bool:
    """True when the pictures differ beyond video-coding noise and a blinking cursor."""
    return a is None or float(np.abs(a - b).mean()) > CHANGE_LEVEL


class ScreenWatcher:
    """The latest frame and text of the caller's screen share in ``room``."""

    def __init__(
        self,
        room: rtc.Room,
        *,
        ocr: bool = True,
        ocr_interval_s: float = 1.0,
        on_text: Callable[[str], None] | None = None,
    ) -> None:
        self._room = room
        self._on_text = on_text
        self._ocr = ocr
        self._interval = ocr_interval_s
        self._frame: rtc.VideoFrame | None = None
        self._frame_at = 0.0
        self._text: str | None = None
        self._text_for: NDArray[np.float32] | None = None
        self._blank = False
        self._track_sid: str | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ocr_task: asyncio.Task[None] | None = None
        self._new_frame = asyncio.Event()
        self._text_ready = asyncio.Event()

    # --- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self._room.on("track_subscribed", self._on_subscribed)
        self._room.on("track_unsubscribed", self._on_gone)
        self._room.on("track_unpublished", self._on_unpublished)
        for participant in self._room.remote_participants.values():
            for pub in participant.track_publications.values():
                if pub.track is not None:
                    self._on_subscribed(pub.track, pub, participant)
        if self._ocr:
            self._ocr_task = asyncio.create_task(self._ocr_loop(), name="screen-ocr")

    async def aclose(self) -> None:
        self._room.off("track_subscribed", self._on_subscribed)
        self._room.off("track_unsubscribed", self._on_gone)
        self._room.off("track_unpublished", self._on_unpublished)
        for task in (self._reader, self._ocr_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    # --- what the agent reads ------------------------------------------------------------
    @property
    def sharing(self) -> bool:
        return self._track_sid is not None

    def snapshot(self) -> ScreenSnapshot | None:
        """The newest frame (None when nothing is shared or no frame arrived yet)."""
        if self._frame is None:
            return None
        return ScreenSnapshot(self._frame, self._frame_at, self._text, self._blank)

    async def current_text(self, wait_s: float = 3.0) -> str | None:
        """The text of the newest frame, waiting up to ``wait_s`` for a pending OCR.

        None when nothing is shared; '' for a blank screen or no legible text.
        """
        if self._frame is None:
            return None
        if self._text is None:  # first frame of this share: its OCR is still running
            self._text_ready.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._text_ready.wait(), wait_s)
        return self._text if self._frame is not None else None

    # --- track handling ---------------------------------------------------------------------
    def _on_subscribed(
        self,
        track: rtc.Track,
        pub: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
    ) -> None:
        if pub.source != rtc.TrackSource.SOURCE_SCREENSHARE or not isinstance(
            track, rtc.RemoteVideoTrack
        ):
            return
        if self._reader is not None:
            self._reader.cancel()
        self._track_sid = pub.sid
        logger.info("screen share from %s: watching track %s", participant.identity, pub.sid)
        self._reader = asyncio.create_task(self._read(track), name="screen-reader")

    def _on_unpublished(
        self, pub: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        self._on_gone(None, pub, participant)

    def _on_gone(
        self,
        track: rtc.Track | None,
        pub: rtc.RemoteTrackPublication,
        participant: rtc.RemoteParticipant,
    ) -> None:
        if pub.sid != self._track_sid:
            return
        logger.info("screen share from %s stopped", participant.identity)
        self._track_sid = None
        self._frame = None
        self._text = None
        self._text_for = None
        self._text_ready.set()  # nobody waits for a screen that is gone
        if self._reader is not None:
            self._reader.cancel()
            self._reader = None

    async def _read(self, track: rtc.RemoteVideoTrack) -> None:
        stream = rtc.VideoStream(track, capacity=1)
        try:
            async for event in stream:
                self._frame = event.frame
                self._frame_at = time.time()
                self._new_frame.set()
        except Exception:
            logger.exception("reading the screen share failed; screen context is off")
        finally:
            await stream.aclose()

    async def _ocr_loop(self) -> None:
        while True:
            await self._new_frame.wait()
            self._new_frame.clear()
            frame = self._frame
            if frame is None:
                continue
            try:
                rgb = await asyncio.to_thread(to_rgb, frame)
                mark = fingerprint(rgb)
                if looks_different(self._text_for, mark):
                    self._blank = is_blank(rgb)
                    started = time.perf_counter()
                    text = "" if self._blank else await asyncio.to_thread(read_text, rgb)
                    changed = text != self._text
                    if self._frame is not None:  # the share may have stopped meanwhile
                        self._text, self._text_for = text, mark
                        if changed and self._on_text is not None:
                            self._on_text(text)
                    logger.info(
                        "screen OCR: %d chars in %.2fs", len(text), time.perf_counter() - started
                    )
            except Exception:
                logger.exception("OCR of a screen frame failed; keeping the previous text")
            self._text_ready.set()
            await asyncio.sleep(self._interval)
