"""TEST STAND-INS for a roomless call: a caller playing a WAV in real time, a speaker that
"plays" at real-time pace, a TTS that answers every text with a short tone, and a speech
recognizer that hears the next of its scripted lines in each utterance."""

from __future__ import annotations

import asyncio
import subprocess
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
from livekit import rtc
from livekit.agents import APIConnectOptions, stt, tts, utils
from livekit.agents.types import DEFAULT_API_CONNECT_OPTIONS, NOT_GIVEN, NotGivenOr
from livekit.agents.utils import AudioBuffer
from livekit.agents.voice import io

RATE = 16000
FRAME = RATE // 50  # 20 ms


def speak(text: str, path: Path, voice: str = "en-us") -> np.ndarray:
    """``text`` spoken by espeak-ng, as 16 kHz mono int16."""
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(path), text], check=True)
    with wave.open(str(path)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
        rate = w.getframerate()
    idx = np.round(np.arange(0, len(pcm), rate / RATE)).astype(int)
    return pcm[idx[idx < len(pcm)]]


class CallerInput(io.AudioInput):
    """Plays ``pcm`` in 20 ms frames at real-time pace, then silence.

    ``then`` holds further segments, each with a condition: the caller stays silent until the
    condition holds (e.g. the agent answered), then speaks the segment, like a person would.
    ``segment_starts`` records where (seconds into the stream) each of them began.
    """

    def __init__(
        self, pcm: np.ndarray, then: list[tuple[Callable[[], bool], np.ndarray]] | None = None
    ) -> None:
        super().__init__(label="caller")
        self._pcm = pcm
        self._pos = 0
        self._next = 0.0
        self._then = list(then or [])
        self.segment_starts: list[float] = []

    async def __anext__(self) -> rtc.AudioFrame:
        now = time.monotonic()
        if self._next == 0.0:
            self._next = now
        if self._next > now:
            await asyncio.sleep(self._next - now)
        self._next += FRAME / RATE
        if self._pos >= len(self._pcm) and self._then and self._then[0][0]():
            _, segment = self._then.pop(0)
            pad = np.zeros(self._pos - len(self._pcm), dtype=np.int16)
            self._pcm = np.concatenate([self._pcm, pad, segment])
            self.segment_starts.append(self._pos / RATE)
        chunk = self._pcm[self._pos : self._pos + FRAME]
        self._pos += FRAME
        if len(chunk) < FRAME:
            chunk = np.concatenate([chunk, np.zeros(FRAME - len(chunk), dtype=np.int16)])
        return rtc.AudioFrame(chunk.tobytes(), RATE, 1, FRAME)

    @property
    def finished(self) -> bool:
        return self._pos >= len(self._pcm) and not self._then


class Speaker(io.AudioOutput):
    """Accepts the agent's audio and reports it played at real-time pace."""

    def __init__(self) -> None:
        super().__init__(label="speaker", capabilities=io.AudioOutputCapabilities(pause=False))
        self._pushed = 0.0
        self._task: asyncio.Task[None] | None = None
        self._started = False

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if not self._started:
            self._started = True
            self.on_playback_started(created_at=time.time())
        self._pushed += frame.duration

    def flush(self) -> None:
        super().flush()
        duration, self._pushed, self._started = self._pushed, 0.0, False
        self._task = asyncio.create_task(self._play(duration))

    async def _play(self, duration: float) -> None:
        await asyncio.sleep(duration)
        self.on_playback_finished(playback_position=duration, interrupted=False)

    def clear_buffer(self) -> None:
        if self._task is not None:
            self._task.cancel()


class ToneTTS(tts.TTS):
    """Every text becomes 0.6 s of a 440 Hz tone (enough to see the agent's channel)."""

    def __init__(self) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False), sample_rate=RATE, num_channels=1
        )

    @property
    def model(self) -> str:
        return "tone-test-stand-in"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _ToneStream(tts=self, input_text=text, conn_options=conn_options)


class _ToneStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=utils.shortuuid(), sample_rate=RATE, num_channels=1, mime_type="audio/pcm"
        )
        t = np.arange(int(RATE * 0.6)) / RATE
        tone = (0.3 * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
        output_emitter.push(tone.tobytes())
        output_emitter.flush()


class ScriptedSTT(stt.STT):
    """Hears ``lines[i]`` in the i-th utterance the VAD cut (then nothing): no model, no
    guessing, so tests of what follows a transcript do not depend on a recognizer."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self._lines = list(lines)

    @property
    def model(self) -> str:
        return "scripted-stt-test-stand-in"

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        text = self._lines.pop(0) if self._lines else ""
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            alternatives=[stt.SpeechData(language="en", text=text)],
        )
