"""A headless caller: joins a room with the Python rtc SDK, speaks a WAV, records the agent.

This is what `navan-voice call` and the integration tests use to place a real call through a
real livekit-server. It measures each turn's latency the way a caller feels it: from the end of
the caller's speech to the first agent audio that reaches the caller.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from livekit import api, rtc

from navan_voice.caller.audio import (
    FRAME_MS,
    load_audio,
    rms_dbfs,
    split_utterances,
    trailing_quiet_s,
    write_wav,
)
from navan_voice.config import Settings
from navan_voice.domain.errors import AudioInputError, ServerNotRunningError
from navan_voice.stack.processes import http_ok

logger = logging.getLogger(__name__)

SAMPLE_RATE = 48000
SAMPLES_PER_FRAME = SAMPLE_RATE * FRAME_MS // 1000
LOUD_DBFS = -50.0  # agent audio louder than this counts as speech
AGENT_STATE_ATTR = "lk.agent.state"
TRANSCRIPTION_TOPIC = "lk.transcription"

Progress = Callable[[str], None]


@dataclass
class TranscriptLine:
    speaker: str  # "caller" or "agent"
    text: str
    at_s: float  # seconds since the call started


@dataclass
class CallReport:
    room: str
    transcript: list[TranscriptLine] = field(default_factory=list)
    latencies_s: list[float | None] = field(default_factory=list)  # one per caller utterance
    # per answered utterance, wall-clock (time.time()) of the caller's last word and of the
    # agent's first loud frame: lines the caller's side up with the worker's own turn metrics
    turn_walls: list[tuple[float, float]] = field(default_factory=list)
    greeting_s: float | None = None  # agent joined → first greeting audio
    agent_audio_s: float = 0.0  # seconds of non-silent agent audio received
    out_path: Path | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "room": self.room,
                "greeting_s": self.greeting_s,
                "latencies_s": self.latencies_s,
                "agent_audio_s": self.agent_audio_s,
                "transcript": [vars(line) for line in self.transcript],
                "out_path": str(self.out_path) if self.out_path else None,
            },
            indent=2,
        )


class _AgentListener:
    """Collects the agent's audio on a timeline and notices when it starts and stops talking."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.chunks: list[tuple[float, np.ndarray]] = []
        self.last_loud: float | None = None
        self.loud_frames = 0
        self.mark = float("inf")
        self.first_loud_after_mark: float | None = None
        self.heard = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def arm(self, mark: float) -> None:
        """Wait for the first loud frame after time ``mark``."""
        self.mark = mark
        self.first_loud_after_mark = None
        self.heard.clear()

    async def consume(self, track: rtc.Track) -> None:
        stream = rtc.AudioStream.from_track(track=track, sample_rate=SAMPLE_RATE, num_channels=1)
        async for event in stream:
            now = time.monotonic()
            samples = np.frombuffer(event.frame.data, dtype=np.int16).copy()
            self.chunks.append((now, samples))
            if rms_dbfs(samples) > LOUD_DBFS:
                self.last_loud = now
                self.loud_frames += 1
                if now > self.mark and self.first_loud_after_mark is None:
                    self.first_loud_after_mark = now
                    self.heard.set()

    def quiet_for(self, seconds: float) -> bool:
        return self.last_loud is None or time.monotonic() - self.last_loud >= seconds

    def timeline(self) -> np.ndarray:
        """All received agent audio, with silence where nothing arrived."""
        if not self.chunks:
            return np.zeros(0, dtype=np.int16)
        out: list[np.ndarray] = []
        cursor = self.chunks[0][0] - len(self.chunks[0][1]) / SAMPLE_RATE
        for at, samples in self.chunks:
            start = at - len(samples) / SAMPLE_RATE
            gap = int((start - cursor) * SAMPLE_RATE)
            if gap > SAMPLES_PER_FRAME * 5:  # a real gap, not jitter
                out.append(np.zeros(gap, dtype=np.int16))
            out.append(samples)
            cursor = max(cursor, start) + len(samples) / SAMPLE_RATE
        return np.concatenate(out)


class Caller:
    """One call: room, agent dispatch, microphone pump, agent recorder and transcript."""

    def __init__(self, settings: Settings, *, phone: str = "", progress: Progress | None = None):
        self.settings = settings
        self.phone = phone
        self.progress = progress or (lambda msg: logger.info("%s", msg))
        self.room_name = f"call-{uuid.uuid4().hex[:8]}"
        self.identity = f"caller-{uuid.uuid4().hex[:6]}"
        self.room = rtc.Room()
        self.t0 = time.monotonic()
        self.listener = _AgentListener(self.t0)
        self.report = CallReport(room=self.room_name)
        self.source = rtc.AudioSource(SAMPLE_RATE, 1, queue_size_ms=100)
        self._queue: asyncio.Queue[np.ndarray] = asyncio.Queue()
        self._spoken = asyncio.Event()
        self._speech_end = 0.0
        self._agent_joined = asyncio.Event()
        self._agent: rtc.RemoteParticipant | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._room_created = False

    # --- set-up ------------------------------------------------------------------------------
    async def connect(self) -> None:
        s = self.settings
        if not http_ok(s.livekit_http_url):
            raise ServerNotRunningError(
                f"no LiveKit server answers at {s.livekit_url}; start the stack with "
                "`navan-voice up` (or `make run`), or set LIVEKIT_URL to a running server"
            )
        secret = s.livekit_api_secret.get_secret_value()
        async with api.LiveKitAPI(s.livekit_http_url, s.livekit_api_key, secret) as lkapi:
            await lkapi.room.create_room(api.CreateRoomRequest(name=self.room_name))
            self._room_created = True
            # an audio-only caller: no avatar video for it
            meta = {
                "channel": "web",
                "caller_phone": self.phone,
                "source": "navan-voice call",
                "video": False,
            }
            await lkapi.agent_dispatch.create_dispatch(
                api.CreateAgentDispatchRequest(
                    agent_name=s.agent_name, room=self.room_name, metadata=json.dumps(meta)
                )
            )
        self.progress(f"room {self.room_name} created; agent '{s.agent_name}' dispatched")
        token = (
            api.AccessToken(s.livekit_api_key, secret)
            .with_identity(self.identity)
            .with_name("Caller")
            .with_grants(api.VideoGrants(room_join=True, room=self.room_name))
            .to_jwt()
        )
        self.room.on("track_subscribed", self._on_track)
        self.room.on("participant_connected", self._on_participant)
        self.room.register_text_stream_handler(TRANSCRIPTION_TOPIC, self._on_text)
        # the agent's session events: not needed by this caller, but handled so they are not
        # logged as "ignoring byte stream" once per message
        self.room.register_byte_stream_handler("lk.agent.session", lambda reader, sender: None)
        await self.room.connect(s.livekit_url, token)
        for participant in self.room.remote_participants.values():
            self._on_participant(participant)
        track = rtc.LocalAudioTrack.create_audio_track("microphone", self.source)
        opts = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self.room.local_participant.publish_track(track, opts)
        self._tasks.append(asyncio.create_task(self._pump()))

    def _on_participant(self, participant: rtc.RemoteParticipant) -> None:
        if participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_AGENT:
            self._agent = participant
            self._agent_joined.set()

    def _on_track(
        self, track: rtc.Track, _pub: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO and participant.identity != self.identity:
            self._on_participant(participant)
            self._tasks.append(asyncio.create_task(self.listener.consume(track)))

    def _on_text(self, reader: rtc.TextStreamReader, participant_identity: str) -> None:
        self._tasks.append(asyncio.create_task(self._read_text(reader, participant_identity)))

    async def _read_text(self, reader: rtc.TextStreamReader, sender: str) -> None:
        try:
            text = (await reader.read_all()).strip()
        except Exception as e:  # the call ended mid-segment
            logger.debug("transcript segment from %s cut off: %s", sender, e)
            return
        attrs = reader.info.attributes or {}
        if not text or attrs.get("lk.transcription_final") != "true":
            return
        speaker = "caller" if sender == self.identity else "agent"
        line = TranscriptLine(speaker, text, round(time.monotonic() - self.t0, 2))
        self.report.transcript.append(line)
        self.progress(f"{speaker}: {text}")

    # --- microphone ------------------------------------------------------------------------------
    async def _pump(self) -> None:
        """Feed the microphone in real time: queued utterances, else silence (VAD needs frames)."""
        silence = np.zeros(SAMPLES_PER_FRAME, dtype=np.int16)
        while True:
            try:
                utterance = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                await self._push(silence)
                continue
            for i in range(0, len(utterance), SAMPLES_PER_FRAME):
                chunk = utterance[i : i + SAMPLES_PER_FRAME]
                if len(chunk) < SAMPLES_PER_FRAME:
                    chunk = np.pad(chunk, (0, SAMPLES_PER_FRAME - len(chunk)))
                await self._push(chunk)
            # the last frame leaves the source's queue after what is still buffered
            self._speech_end = time.monotonic() + self.source.queued_duration
            self._spoken.set()

    async def _push(self, samples: np.ndarray) -> None:
        frame = rtc.AudioFrame(samples.tobytes(), SAMPLE_RATE, 1, len(samples))
        await self.source.capture_frame(frame)

    # --- conversation ----------------------------------------------------------------------------
    async def wait_for_agent(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self._agent_joined.wait(), timeout)
        except TimeoutError as e:
            raise ServerNotRunningError(
                f"no agent joined room {self.room_name} within {timeout:.0f}s; is a worker "
                f"registered as '{self.settings.agent_name}'? start one with `navan-voice worker`"
            ) from e
        self.progress("agent joined")

    async def wait_agent_done(self, timeout: float, quiet_s: float = 1.0) -> None:
        """Wait until the agent has stopped talking (listening state and ``quiet_s`` of quiet)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self._agent.attributes.get(AGENT_STATE_ATTR, "") if self._agent else ""
            if state != "speaking" and state != "thinking" and self.listener.quiet_for(quiet_s):
                return
            await asyncio.sleep(0.1)
        logger.warning("agent still busy after %.0fs; going on", timeout)

    async def greet(self, timeout: float) -> None:
        joined = time.monotonic()
        self.listener.arm(joined)
        try:
            await asyncio.wait_for(self.listener.heard.wait(), timeout)
            assert self.listener.first_loud_after_mark is not None
            self.report.greeting_s = self.listener.first_loud_after_mark - joined
            self.progress(f"agent greeting started after {self.report.greeting_s:.2f}s")
        except TimeoutError:
            logger.warning("the agent did not greet within %.0fs", timeout)
        await self.wait_agent_done(timeout)

    async def speak(self, utterance: np.ndarray) -> None:
        """Play ``utterance`` into the microphone; return once its last frame is queued."""
        self._spoken.clear()
        await self._queue.put(utterance)
        await self._spoken.wait()

    async def say(self, utterance: np.ndarray, reply_timeout: float) -> float | None:
        """Speak one utterance; return the latency to the agent's first audio (None: no reply)."""
        await self.speak(utterance)
        # the caller stopped speaking at the last word, not at the end of the padding after it
        end = self._speech_end - trailing_quiet_s(utterance, SAMPLE_RATE)
        self.listener.arm(end)
        await asyncio.sleep(max(0.0, end - time.monotonic()))
        try:
            await asyncio.wait_for(self.listener.heard.wait(), reply_timeout)
        except TimeoutError:
            self.progress(f"no agent reply within {reply_timeout:.0f}s")
            return None
        assert self.listener.first_loud_after_mark is not None
        latency = self.listener.first_loud_after_mark - end
        to_wall = time.time() - time.monotonic()
        self.report.turn_walls.append(
            (end + to_wall, self.listener.first_loud_after_mark + to_wall)
        )
        self.progress(f"agent replied {latency:.2f}s after the caller stopped")
        await self.wait_agent_done(reply_timeout)
        return latency

    async def interrupt(self, utterance: np.ndarray, timeout: float = 20.0) -> float | None:
        """Speak over the agent; return seconds from our speech onset to the agent's audio
        stopping at the caller (None: the agent was not talking, or never stopped)."""
        if self.listener.quiet_for(0.1):
            return None  # nothing to interrupt
        self._spoken.clear()
        onset = time.monotonic() + self.source.queued_duration
        await self._queue.put(utterance)
        deadline = onset + timeout
        while time.monotonic() < deadline:
            await asyncio.sleep(0.02)
            last = self.listener.last_loud
            if last is not None and time.monotonic() - last >= 0.3:
                stop = last - onset
                self.progress(f"agent stopped {stop:.2f}s after the caller started talking")
                return stop if stop >= 0 else None
        return None

    async def wait_until_agent_talks(self, timeout: float) -> bool:
        """Wait for the next agent audio (e.g. the greeting); False on time-out."""
        self.listener.arm(time.monotonic())
        try:
            await asyncio.wait_for(self.listener.heard.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Hang up: stop our tasks, leave, and delete the room so the agent's job ends."""
        if not self._room_created:
            return
        await asyncio.sleep(0.5)  # let the last transcript segments arrive
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.room.disconnect()
        s = self.settings
        secret = s.livekit_api_secret.get_secret_value()
        try:
            async with api.LiveKitAPI(s.livekit_http_url, s.livekit_api_key, secret) as lkapi:
                await lkapi.room.delete_room(api.DeleteRoomRequest(room=self.room_name))
        except Exception as e:  # the room (or the server) may be gone already
            logger.warning("could not delete room %s: %s", self.room_name, e)


async def run_call(
    settings: Settings,
    audio_paths: list[Path],
    *,
    out: Path | None = None,
    phone: str = "",
    progress: Progress | None = None,
    agent_timeout: float = 60.0,
    reply_timeout: float = 60.0,
) -> CallReport:
    """Place one call: greet, speak every utterance of every file in turn, record the agent."""
    utterances: list[np.ndarray] = []
    for path in audio_paths:
        audio = load_audio(path, SAMPLE_RATE)
        for note in audio.notes:
            (progress or logger.info)(f"{path.name}: {note}")
        parts = split_utterances(audio)
        if not parts:
            raise AudioInputError(f"{path} is silent (nothing louder than -45 dBFS); record speech")
        utterances.extend(parts)
    caller = Caller(settings, phone=phone, progress=progress)
    try:
        await caller.connect()
        await caller.wait_for_agent(agent_timeout)
        await caller.greet(reply_timeout)
        for i, utterance in enumerate(utterances, 1):
            seconds = len(utterance) / SAMPLE_RATE
            caller.progress(f"caller speaks utterance {i}/{len(utterances)} ({seconds:.1f}s)")
            caller.report.latencies_s.append(await caller.say(utterance, reply_timeout))
    finally:
        await caller.close()
    report = caller.report
    report.agent_audio_s = caller.listener.loud_frames * FRAME_MS / 1000
    if out is not None:
        write_wav(out, caller.listener.timeline(), SAMPLE_RATE)
        report.out_path = out
    return report
