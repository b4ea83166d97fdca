"""The agent's face: a video track whose mouth opens with the loudness of its speech.

By default the face is drawn in the worker (numpy, a few precomputed frames) and published by
livekit's ``AvatarRunner``, which keeps video and TTS audio in step through an
``AVSynchronizer``. Cloud avatars (Tavus, Hedra, Beyond Presence) are chosen with
``NAVAN_AVATAR`` and need their plugin installed.

Wiring (worker.py, before ``session.start``)::

    avatar = await start_avatar(settings, session, ctx.room)
    room_options = room_io.RoomOptions(..., audio_output=avatar is None)
    ...  # on shutdown: await avatar.aclose() when it is not None

With an avatar the agent's audio no longer goes straight to the room: the session's audio
output feeds the avatar, which publishes audio and video together.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, Protocol

import numpy as np
from livekit import rtc
from livekit.agents import AgentSession, utils
from livekit.agents.voice.avatar import (
    AudioSegmentEnd,
    AvatarOptions,
    AvatarRunner,
    QueueAudioOutput,
    VideoGenerator,
)
from numpy.typing import NDArray

from navan_voice.config import Settings
from navan_voice.domain.errors import ConfigError, SetupError

logger = logging.getLogger(__name__)

AVATAR_KINDS = ("none", "local", "tavus", "hedra", "bey")
CLOUD_PLUGINS = {
    "tavus": "livekit-plugins-tavus",
    "hedra": "livekit-plugins-hedra",
    "bey": "livekit-plugins-bey",
}
SIZE = 256
FPS = 15
SAMPLE_RATE = 24000
MOUTH_LEVELS = 8
FULL_SCALE_RMS = 5000.0  # int16 RMS that opens the mouth fully


class Closable(Protocol):
    async def aclose(self) -> None: ...


def mouth_level(samples: NDArray[np.int16]) -> int:
    """0 (closed) … MOUTH_LEVELS-1 (wide open) from the loudness of ``samples``."""
    if samples.size == 0:
        return 0
    rms = float(np.sqrt(np.mean(samples.astype(np.float32) ** 2)))
    return min(MOUTH_LEVELS - 1, int(rms / FULL_SCALE_RMS * (MOUTH_LEVELS - 1) + 0.5))


def draw_faces(size: int = SIZE) -> list[bytes]:
    """RGBA frames of the face, one per mouth level (drawn once, reused every frame)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    base = np.zeros((size, size, 4), dtype=np.uint8)
    base[..., :3] = (16, 36, 62)  # navy background
    base[..., 3] = 255
    face = (x - 0.5) ** 2 + (y - 0.5) ** 2 <= 0.42**2
    base[face, :3] = (250, 204, 160)
    for ex in (0.36, 0.64):
        eye = ((x - ex) / 0.05) ** 2 + ((y - 0.4) / 0.07) ** 2 <= 1
        base[eye, :3] = (30, 30, 40)
    frames = []
    for level in range(MOUTH_LEVELS):
        canvas = base.copy()
        height = 0.012 + 0.11 * level / (MOUTH_LEVELS - 1)
        mouth = ((x - 0.5) / 0.14) ** 2 + ((y - 0.68) / height) ** 2 <= 1
        canvas[mouth, :3] = (120, 20, 30)
        frames.append(canvas.tobytes())
    return frames


class FaceVideoGenerator(VideoGenerator):
    """Audio in, (video frame, audio frame) pairs out, one pair per 1/FPS of speech."""

    def __init__(self, options: AvatarOptions) -> None:
        self._options = options
        self._faces = draw_faces(options.video_width)
        self._queue: asyncio.Queue[rtc.AudioFrame | AudioSegmentEnd] = asyncio.Queue()
        self._resampler: rtc.AudioResampler | None = None
        self._bstream = utils.audio.AudioByteStream(
            sample_rate=options.audio_sample_rate,
            num_channels=options.audio_channels,
            samples_per_channel=int(options.audio_sample_rate / options.video_fps),
        )
        self._level = 0.0

    async def push_audio(self, frame: rtc.AudioFrame | AudioSegmentEnd) -> None:
        await self._queue.put(frame)

    def clear_buffer(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()
        self._bstream.flush()
        self._level = 0.0

    def __aiter__(self) -> AsyncIterator[rtc.VideoFrame | rtc.AudioFrame | AudioSegmentEnd]:
        return self._generate()

    def _face(self, audio: rtc.AudioFrame | None) -> rtc.VideoFrame:
        target = 0 if audio is None else mouth_level(np.frombuffer(audio.data, dtype=np.int16))
        self._level = 0.5 * self._level + 0.5 * target  # smooth, so the mouth does not flicker
        size = self._options.video_width
        return rtc.VideoFrame(size, size, rtc.VideoBufferType.RGBA, self._faces[round(self._level)])

    async def _generate(
        self,
    ) -> AsyncGenerator[rtc.VideoFrame | rtc.AudioFrame | AudioSegmentEnd, None]:
        opts = self._options
        while True:
            try:
                item = await asyncio.wait_for(self._queue.get(), timeout=0.5 / opts.video_fps)
            except TimeoutError:
                yield self._face(None)  # idle: a closed mouth, so the track keeps flowing
                continue
            chunks: list[rtc.AudioFrame] = []
            if isinstance(item, rtc.AudioFrame):
                if self._resampler is None and (
                    item.sample_rate != opts.audio_sample_rate
                    or item.num_channels != opts.audio_channels
                ):
                    self._resampler = rtc.AudioResampler(
                        input_rate=item.sample_rate,
                        output_rate=opts.audio_sample_rate,
                        num_channels=opts.audio_channels,
                    )
                frames = self._resampler.push(item) if self._resampler else [item]
                for f in frames:
                    chunks += self._bstream.push(f.data)
            else:
                if self._resampler is not None:
                    for f in self._resampler.flush():
                        chunks += self._bstream.push(f.data)
                chunks += self._bstream.flush()
            for chunk in chunks:
                yield self._face(chunk)
                yield chunk
            if isinstance(item, AudioSegmentEnd):
                yield AudioSegmentEnd()


def local_avatar_options() -> AvatarOptions:
    return AvatarOptions(
        video_width=SIZE,
        video_height=SIZE,
        video_fps=FPS,
        audio_sample_rate=SAMPLE_RATE,
        audio_channels=1,
    )


async def start_avatar(
    settings: Settings, session: AgentSession[Any], room: rtc.Room
) -> Closable | None:
    """Start the configured avatar before ``session.start``; None when avatars are off.

    When it returns an avatar, start the session with ``RoomOptions(audio_output=False)``.
    """
    kind = settings.avatar
    if kind not in AVATAR_KINDS:
        raise ConfigError(f"NAVAN_AVATAR: {kind!r} is not one of {', '.join(AVATAR_KINDS)}")
    if kind == "none":
        return None
    if kind == "local":
        options = local_avatar_options()
        audio_out = QueueAudioOutput(sample_rate=options.audio_sample_rate)
        runner = AvatarRunner(
            room, audio_recv=audio_out, video_gen=FaceVideoGenerator(options), options=options
        )
        await runner.start()
        session.output.audio = audio_out
        logger.info("local avatar started (%dx%d at %d fps)", SIZE, SIZE, FPS)
        return runner
    try:
        plugin = importlib.import_module(f"livekit.plugins.{kind}")
    except ImportError as e:
        raise SetupError(
            f"NAVAN_AVATAR={kind} needs the {CLOUD_PLUGINS[kind]} package: "
            f"`uv add {CLOUD_PLUGINS[kind]}` (and its API key), or use NAVAN_AVATAR=local"
        ) from e
    avatar: Any = plugin.AvatarSession()
    await avatar.start(session, room=room)
    logger.info("%s avatar started", kind)
    closable: Closable = avatar
    return closable
