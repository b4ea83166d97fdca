"""livekit ``stt.STT`` over the local Whisper engine, with a streaming mode.

Streaming (when a VAD is given): the stream runs its own VAD over the incoming audio. While the
caller speaks it transcribes the growing segment on a worker thread every ``interim_interval_s``
of new audio (longer when passes are slow: ``interim_due``) and emits INTERIM_TRANSCRIPT. As
soon as the caller goes quiet it starts a pass over everything said so far; when that pass is
done and the silence has lasted ``final_silence_s``, its text goes out at once -- before the
session's own VAD has declared the end of speech:

* ``early="preflight"`` (default): as a PREFLIGHT_TRANSCRIPT (livekit starts its preemptive
  reply on it, and the STT emits ``"preflight_transcript"`` with the text for the look-ahead).
  The segment stays open: if the caller goes on after the pause, the next pass covers the whole
  sentence, and the FINAL_TRANSCRIPT comes at the VAD's END_OF_SPEECH, at once (a pass already
  covers it). A pause shorter than the VAD's silence never splits a sentence in two passes.
  With ``ends_turn`` set (the worker's early end of turn, speech/early_end.py), early text that
  is a finished request goes out as the FINAL_TRANSCRIPT instead, and the STT emits
  ``"end_of_turn"`` so the session's VAD ends the speech without waiting out its silence.
* ``early="final"``: as the FINAL_TRANSCRIPT, and a new segment starts. Sooner by nothing the
  session can use, and a pause over ``final_silence_s`` splits the sentence, whose halves
  Whisper hears apart: with 0.4 s pauses 84 % of sentences split and 21 % of words came out
  wrong, against 3 % and 12 % as a preflight (bench/speech/stt_split.py, bench/REPORT.md).

A flush (the session's end of turn), the VAD's END_OF_SPEECH or the end of input finalise
whatever is left. Only one pass runs at a time per stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from livekit.agents import (
    DEFAULT_API_CONNECT_OPTIONS,
    APIConnectOptions,
    APIError,
    APITimeoutError,
    stt,
    utils,
    vad,
)
from livekit.agents.language import LanguageCode
from livekit.agents.telemetry import tracer
from livekit.agents.types import NOT_GIVEN, NotGivenOr

from navan_voice.speech.audio import WHISPER_RATE, FloatArray, frame_to_array, frames_to_16k
from navan_voice.speech.backchannel import is_backchannel
from navan_voice.speech.priority import model_executor
from navan_voice.speech.unclear import UNCLEAR_BELOW, heard
from navan_voice.speech.whisper_engine import Transcription, WhisperEngine

logger = logging.getLogger(__name__)

VOICED_PROB = 0.5  # silero's default activation threshold
CANDIDATE_SILENCE_S = 0.1  # quiet this long: start the pass that will likely be the final one
# interim passes wait for at least this many times the last pass's wall time of new audio: a
# lone call (pass ≈0.3 s) keeps its interval, a CPU-starved one (passes of 1 s and more with
# 4 calls on 2 cores) stops running them back to back, which delayed its final pass
INTERIM_BACKOFF = 2.5
PROMPT_WINDOW_S = 2.0  # a segment that follows the previous one this closely gets its text


EarlyTranscript = Literal["preflight", "final"]


class WhisperSTT(stt.STT[Literal["preflight_transcript", "end_of_turn"]]):
    """Whisper tiny.en on the CPU; streaming when constructed with a VAD.

    Emits ``"preflight_transcript"`` (the text) whenever a stream sends a preflight transcript,
    or early text it judged a finished request; then ``"end_of_turn"`` (the text) once that
    text has gone out as the final transcript (see ``ends_turn``).
    """

    def __init__(
        self,
        engine: WhisperEngine,
        *,
        vad: vad.VAD | None = None,
        interim_interval_s: float = 0.8,
        final_silence_s: float = 0.3,
        candidate_silence_s: float = CANDIDATE_SILENCE_S,
        max_segment_s: float = 25.0,
        hints: str = "",
        beam_size: int = 0,
        early: EarlyTranscript = "preflight",
        unclear_below: float | None = UNCLEAR_BELOW,
    ) -> None:
        streaming = vad is not None
        super().__init__(
            capabilities=stt.STTCapabilities(
                streaming=streaming,
                interim_results=streaming,
                manual_flush=streaming,
                offline_recognize=True,
            )
        )
        self._engine = engine
        self._vad = vad
        self.interim_interval_s = interim_interval_s
        self.final_silence_s = final_silence_s
        self.candidate_silence_s = candidate_silence_s
        self.early: EarlyTranscript = early
        self.max_segment_s = max_segment_s
        self.hints = hints  # vocabulary before every pass (speech/vocabulary.py)
        self.beam_size = beam_size  # 0: the engine's own
        # a final transcript scored below this goes out as "(unclear speech)" (speech/unclear.py)
        self.unclear_below = unclear_below
        self.parallel_passes = max(1, getattr(engine, "workers", 1))  # see _advance
        # set by the worker: True while the agent is in the middle of a reply (speaking, or
        # paused by the caller's voice); a backchannel said then is dropped (speech/backchannel)
        self.agent_mid_reply: Callable[[], bool] | None = None
        # set by the worker with the early end of turn (speech/early_end.py): True if the early
        # text is a finished request. Such text goes out as the FINAL_TRANSCRIPT at once, not as
        # a preflight, and the stream emits "end_of_turn" for the session's VAD to end the
        # speech; whatever the caller says next is a new segment.
        self.ends_turn: Callable[[str], bool] | None = None

    def is_agent_mid_reply(self) -> bool:
        return self.agent_mid_reply is not None and self.agent_mid_reply()

    @property
    def model(self) -> str:
        return "whisper-tiny.en"

    @property
    def provider(self) -> str:
        return "faster-whisper"

    async def transcribe_audio(
        self, audio: FloatArray, *, prompt: str = "", timeout: float
    ) -> Transcription:
        """Run the engine on a worker thread; errors become livekit API errors.

        The deadline is ``timeout`` plus the audio's own length: a long utterance on a busy
        2-core machine is slow, not hung.
        """
        deadline = timeout + audio.size / WHISPER_RATE
        try:
            call = functools.partial(
                self._engine.transcribe,
                audio,
                prompt=prompt,
                hints=self.hints,
                beam_size=self.beam_size,
            )
            loop = asyncio.get_running_loop()
            return await asyncio.wait_for(loop.run_in_executor(model_executor(), call), deadline)
        except TimeoutError as e:
            raise APITimeoutError(
                f"local whisper took longer than {deadline:.1f} s", retryable=False
            ) from e
        except Exception as e:
            raise APIError(f"local whisper failed: {e}", retryable=False) from e

    def as_heard(self, result: Transcription, *, log: bool = True) -> Transcription:
        """``result`` as the dialogue gets it: its text, or the unclear mark when Whisper was
        too unsure of it (speech/unclear.py; ``log``: log the guess)."""
        text = heard(result.text, result.avg_logprob, self.unclear_below, log=log)
        return result if text == result.text else dataclasses.replace(result, text=text)

    async def _recognize_impl(
        self,
        buffer: utils.AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        frames = buffer if isinstance(buffer, list) else [buffer]
        audio = frames_to_16k(frames)
        result = await self.transcribe_audio(audio, timeout=conn_options.timeout)
        result = self.as_heard(result)
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            request_id=utils.shortuuid(),
            alternatives=[_speech_data(result, 0.0, result.audio_s)],
        )

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> WhisperStream:
        if self._vad is None:
            raise NotImplementedError(
                "WhisperSTT streams only with a VAD; build it with vad=... or wrap it in "
                "stt.StreamAdapter"
            )
        return WhisperStream(self, vad=self._vad, conn_options=conn_options)


def _speech_data(result: Transcription, start: float, end: float) -> stt.SpeechData:
    return stt.SpeechData(
        language=LanguageCode("en"),
        text=result.text,
        start_time=start,
        end_time=end,
        confidence=min(1.0, max(0.0, math.exp(result.avg_logprob))),
    )


def interim_due(new_audio_s: float, interval_s: float, last_pass_s: float) -> bool:
    """Whether an interim pass should start: ``interval_s`` (0: never) of new audio since the
    last pass, or ``INTERIM_BACKOFF`` times the last pass's wall time if that is longer."""
    return interval_s > 0 and new_audio_s >= max(interval_s, INTERIM_BACKOFF * last_pass_s)


@dataclass
class _Segment:
    """Audio of one stretch of speech and what has been transcribed of it."""

    start_sample: int
    chunks: list[FloatArray] = field(default_factory=list)
    samples: int = 0
    voiced_end: int = 0  # samples up to the end of the last voiced VAD window
    silence_s: float = 0.0  # length of the current quiet run
    last_pass_at: int = 0
    best_covered: int = 0  # samples covered by ``best``
    best: Transcription | None = None
    task: asyncio.Task[None] | None = None  # the newest pass, while it runs
    done: bool = False
    over_agent: bool = False  # began while the agent was mid-reply
    preflight_covered: int = 0  # samples covered by the last preflight transcript

    def dropped(self, text: str) -> bool:
        """A backchannel over the agent: said to let it go on, so not a turn."""
        return self.over_agent and is_backchannel(text)

    def append(self, audio: FloatArray, *, voiced: bool) -> None:
        self.chunks.append(audio)
        self.samples += audio.size
        if voiced:
            self.voiced_end = self.samples
            self.silence_s = 0.0
        else:
            self.silence_s += audio.size / WHISPER_RATE

    def audio(self) -> FloatArray:
        if not self.chunks:
            return np.zeros(0, dtype=np.float32)
        joined = np.concatenate(self.chunks)
        self.chunks = [joined]
        return joined


class WhisperStream(stt.RecognizeStream):
    """One caller's audio; see the module docstring for when events are emitted."""

    def __init__(self, owner: WhisperSTT, *, vad: vad.VAD, conn_options: APIConnectOptions) -> None:
        super().__init__(stt=owner, conn_options=conn_options, sample_rate=WHISPER_RATE)
        self._owner = owner
        self._vad = vad
        self._seg: _Segment | None = None
        self._vad_speaking = False
        self._clock = 0  # samples the VAD has seen so far
        self._flush_requested = False
        self._pushed = 0  # samples handed to the VAD
        self._flush_at = 0
        self._last_final_text = ""
        self._last_final_at = 0.0
        self._last_pass_s = 0.0  # wall time of this stream's last pass (see interim_due)
        self._lock = asyncio.Lock()  # serialises finalisation
        # passes running, of any segment: what this stream has of the engine's workers
        self._passes: set[asyncio.Task[None]] = set()

    async def _run(self) -> None:
        vad_stream = self._vad.stream()

        async def forward_input() -> None:
            async for item in self._input_ch:
                if isinstance(item, self._FlushSentinel):
                    # the VAD lags behind the input: finalise once it has seen this much audio
                    self._flush_at = self._pushed
                    self._flush_requested = True
                    continue
                self._pushed += item.samples_per_channel
                vad_stream.push_frame(item)
            vad_stream.end_input()

        async def consume_vad() -> None:
            async for ev in vad_stream:
                await self._on_vad_event(ev)
            if self._seg is not None:  # input ended mid-speech
                await self._finalize(self._seg)
                self._seg = None

        tasks = [
            asyncio.create_task(forward_input(), name="whisper.forward_input"),
            asyncio.create_task(consume_vad(), name="whisper.consume_vad"),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            await utils.aio.cancel_and_wait(*tasks)
            if self._passes:  # a segment's passes, or a caption pass left running beside one
                await utils.aio.cancel_and_wait(*self._passes)
            await vad_stream.aclose()

    async def _on_flush(self) -> None:
        if not self._flush_requested:
            return
        self._flush_requested = False
        seg = self._seg
        if seg is not None:
            self._seg = _Segment(start_sample=self._clock) if self._vad_speaking else None
            await self._finalize(seg)

    async def _on_vad_event(self, ev: vad.VADEvent) -> None:
        if ev.type == vad.VADEventType.START_OF_SPEECH:
            self._vad_speaking = True
            audio = frames_to_16k(ev.frames)
            self._seg = _Segment(start_sample=max(0, self._clock - audio.size))
            self._seg.over_agent = self._owner.is_agent_mid_reply()
            self._seg.append(audio, voiced=True)
            self._send(stt.SpeechEvent(type=stt.SpeechEventType.START_OF_SPEECH))
        elif ev.type == vad.VADEventType.INFERENCE_DONE:
            if not ev.frames:
                return
            window = np.concatenate([frame_to_array(f) for f in ev.frames])
            self._clock += window.size
            seg = self._seg
            if seg is not None:
                seg.append(window, voiced=ev.probability >= VOICED_PROB)
                await self._advance(seg)
            # one VAD window (32 ms) may stay buffered inside the VAD until more audio comes
            if self._flush_requested and self._clock + 512 >= self._flush_at:
                await self._on_flush()
        elif ev.type == vad.VADEventType.END_OF_SPEECH:
            self._vad_speaking = False
            seg, self._seg = self._seg, None
            if seg is not None:
                await self._finalize(seg)
            self._send(stt.SpeechEvent(type=stt.SpeechEventType.END_OF_SPEECH))

    async def _advance(self, seg: _Segment) -> None:
        """Decide, after each VAD window, whether to start a pass or emit the final early."""
        if seg.samples / WHISPER_RATE >= self._owner.max_segment_s:
            # Whisper's window is 30 s: close this segment and keep listening in a new one
            self._seg = _Segment(start_sample=self._clock)
            await self._finalize(seg)
            return
        if seg.voiced_end == 0:
            return
        covered = seg.best is not None and seg.best_covered >= seg.voiced_end
        if covered and seg.silence_s >= self._owner.final_silence_s:
            # the caller paused and the text of everything said is ready: emit it now
            if self._owner.early == "preflight":
                if seg.preflight_covered < seg.best_covered:
                    seg.preflight_covered = seg.best_covered
                    if self._finished(seg):
                        await self._end_turn_early(seg)
                    else:
                        self._preflight(seg)
                return
            self._seg = _Segment(start_sample=self._clock) if self._vad_speaking else None
            await self._finalize(seg)
            return
        candidate = seg.silence_s >= self._owner.candidate_silence_s and not covered
        if seg.task is not None:
            # a caption pass began before the caller's last words and the caller has paused:
            # the pass that will likely give the final starts beside it, if the engine runs two
            # at once, instead of ≈0.2 s later after it (bench/REPORT.md session 16)
            if (
                candidate
                and seg.last_pass_at < seg.voiced_end
                and len(self._passes) < self._owner.parallel_passes
            ):
                self._start_pass(seg)
            return
        new_audio_s = (seg.samples - seg.last_pass_at) / WHISPER_RATE
        if candidate or interim_due(new_audio_s, self._owner.interim_interval_s, self._last_pass_s):
            self._start_pass(seg)

    def _start_pass(self, seg: _Segment) -> None:
        audio = seg.audio()
        covered = seg.samples
        seg.last_pass_at = covered
        prompt = self._prompt()

        async def run_pass() -> None:
            started = time.monotonic()
            try:
                # a span in the call's trace: bench/e2e/spans.py dates the passes from the commit
                with tracer.start_as_current_span("stt_pass"):
                    result = await self._owner.transcribe_audio(
                        audio, prompt=prompt, timeout=self._conn_options.timeout
                    )
            except APIError:
                logger.warning("interim whisper pass failed", exc_info=True)
                return
            finally:
                me = asyncio.current_task()
                self._passes.discard(me)  # type: ignore[arg-type]
                if seg.task is me:
                    seg.task = None
                self._last_pass_s = time.monotonic() - started
            if seg.done or covered < seg.best_covered:
                return  # a later pass (run beside this one) was there first
            seg.best, seg.best_covered = result, covered
            if result.text and not seg.dropped(result.text):
                # captions show the mark, not a guess the final will not carry
                caption = self._owner.as_heard(result, log=False)
                self._send(self._event(stt.SpeechEventType.INTERIM_TRANSCRIPT, seg, caption))

        seg.task = asyncio.create_task(run_pass(), name="whisper.pass")
        self._passes.add(seg.task)

    async def _finalize(self, seg: _Segment) -> None:
        """Emit the FINAL_TRANSCRIPT of ``seg`` (once), transcribing only if nothing covers it."""
        async with self._lock:
            if seg.done:
                return
            if seg.task is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(seg.task)
            seg.done = True
            if seg.voiced_end == 0:
                return
            result = seg.best
            if result is None or seg.best_covered < seg.voiced_end:
                started = time.perf_counter()
                with tracer.start_as_current_span("stt_pass"):
                    result = await self._owner.transcribe_audio(
                        seg.audio()[: seg.voiced_end + WHISPER_RATE // 5],
                        prompt=self._prompt(),
                        timeout=self._conn_options.timeout,
                    )
                logger.debug("whisper final pass %.3f s", time.perf_counter() - started)
            self._send(
                stt.SpeechEvent(
                    type=stt.SpeechEventType.RECOGNITION_USAGE,
                    recognition_usage=stt.RecognitionUsage(seg.samples / WHISPER_RATE),
                )
            )
            if seg.dropped(result.text):
                logger.info("backchannel over the agent's reply, not a turn: %r", result.text)
                return
            if result.text:
                final = self._owner.as_heard(result)
                if final is result:  # unclear words make no prompt for the next pass
                    self._last_final_text, self._last_final_at = result.text, time.monotonic()
                self._send(self._event(stt.SpeechEventType.FINAL_TRANSCRIPT, seg, final))

    def _finished(self, seg: _Segment) -> bool:
        judge, result = self._owner.ends_turn, seg.best
        if judge is None or result is None or not result.text or seg.dropped(result.text):
            return False
        return judge(result.text)

    async def _end_turn_early(self, seg: _Segment) -> None:
        """The words at this pause are a finished request: final now, then "end_of_turn"."""
        assert seg.best is not None
        text = self._owner.as_heard(seg.best, log=False).text
        self._owner.emit("preflight_transcript", text)  # the look-ahead starts on it as ever
        self._seg = _Segment(start_sample=self._clock) if self._vad_speaking else None
        await self._finalize(seg)
        logger.debug("early end of turn after %.2f s of quiet: %r", seg.silence_s, text)
        self._owner.emit("end_of_turn", text)

    def _preflight(self, seg: _Segment) -> None:
        """The text of the segment so far, stable unless the caller goes on (module doc)."""
        result = seg.best
        if result is None or not result.text or seg.dropped(result.text):
            return
        # marked as the final will be, so livekit's preemptive reply and the look-ahead hold
        result = self._owner.as_heard(result, log=False)
        self._send(self._event(stt.SpeechEventType.PREFLIGHT_TRANSCRIPT, seg, result))
        self._owner.emit("preflight_transcript", result.text)

    def _prompt(self) -> str:
        if time.monotonic() - self._last_final_at <= PROMPT_WINDOW_S:
            return self._last_final_text
        return ""

    def _event(
        self, kind: stt.SpeechEventType, seg: _Segment, result: Transcription
    ) -> stt.SpeechEvent:
        start = self.start_time_offset + seg.start_sample / WHISPER_RATE
        end = start + seg.voiced_end / WHISPER_RATE
        return stt.SpeechEvent(type=kind, alternatives=[_speech_data(result, start, end)])

    def _send(self, ev: stt.SpeechEvent) -> None:
        if not self._event_ch.closed:
            self._event_ch.send_nowait(ev)
