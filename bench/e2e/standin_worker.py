"""BENCH STAND-IN worker: the real voice pipeline with instant stand-in models.

Nothing here is a model. ``StandinSTT`` returns a fixed transcript as soon as the VAD ends the
caller's speech, ``StandinLLM`` returns a fixed sentence at once, ``StandinTTS`` returns a short
tone at once. What remains of the voice-to-voice latency is the pipeline's own cost: VAD, the
end-of-turn window, livekit-agents' scheduling, WebRTC and the server. The session's turn
handling (VAD, endpointing delays, interruption) is the real worker's, from the same settings.

Run: ``python -m bench.e2e.standin_worker`` with NAVAN_LIVEKIT_URL / NAVAN_AGENT_NAME set
(`bench.e2e.stack.BenchStack.start_standin_worker` does this).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import numpy as np
from livekit.agents import (
    Agent,
    AgentServer,
    AgentSession,
    JobContext,
    JobExecutorType,
    JobProcess,
    llm,
    stt,
    tts,
)
from livekit.agents.llm import ChatChunk, ChatContext, ChoiceDelta, Tool
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)
from livekit.agents.utils import AudioBuffer, shortuuid

from navan_voice.playout import stop_session_audio_on_pause
from navan_voice.speech.turn import turn_detection
from navan_voice.worker import room_options, session_vad, turn_handling_options

logger = logging.getLogger("bench.standin_worker")

TRANSCRIPT = "I need to book a flight."
REPLY = "Sure, where are you flying?"
GREETING = "Hello, this is the stand-in agent."
TONE_HZ = 440.0
TONE_S = 0.6  # each stand-in reply is a tone this long
GREETING_TONE_S = 8.0  # the greeting is long, so there is something to interrupt after 3 s
TONE_RATE = 24000
TONE_DBFS = -12.0


def tone(seconds: float = TONE_S, rate: int = TONE_RATE) -> bytes:
    """A sine tone as 16-bit mono PCM, with 5 ms fades so it does not click."""
    n = int(seconds * rate)
    t = np.arange(n) / rate
    wave = np.sin(2 * np.pi * TONE_HZ * t) * (10 ** (TONE_DBFS / 20))
    fade = min(n // 2, int(0.005 * rate))
    ramp = np.linspace(0.0, 1.0, fade)
    wave[:fade] *= ramp
    wave[n - fade :] *= ramp[::-1]
    samples: np.ndarray = (wave * 32767).astype(np.int16)
    return samples.tobytes()


class StandinSTT(stt.STT[Any]):
    """STAND-IN: a fixed transcript for any audio, at once. Wrapped in livekit's StreamAdapter,
    it answers as soon as the VAD ends the caller's speech."""

    def __init__(self) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))

    @property
    def model(self) -> str:
        return "bench-stand-in"

    @property
    def provider(self) -> str:
        return "bench"

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            alternatives=[stt.SpeechData(language="en", text=TRANSCRIPT, confidence=1.0)],
        )


class StandinLLM(llm.LLM):
    """STAND-IN: the same fixed sentence for every request, at once."""

    @property
    def model(self) -> str:
        return "bench-stand-in"

    @property
    def provider(self) -> str:
        return "bench"

    def chat(
        self,
        *,
        chat_ctx: ChatContext,
        tools: list[Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[Any] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        return _StandinLLMStream(
            self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options
        )


class _StandinLLMStream(llm.LLMStream):
    async def _run(self) -> None:
        delta = ChoiceDelta(role="assistant", content=REPLY)
        self._event_ch.send_nowait(ChatChunk(id=shortuuid(), delta=delta))


class StandinTTS(tts.TTS):
    """STAND-IN: a short tone for any text, at once."""

    def __init__(self) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False),
            sample_rate=TONE_RATE,
            num_channels=1,
        )
        greeting_s = float(os.environ.get("BENCH_STANDIN_GREETING_S", GREETING_TONE_S))
        self._tones = {GREETING: tone(greeting_s)}
        self._tone = tone()

    def tone_for(self, text: str) -> bytes:
        return self._tones.get(text.strip(), self._tone)

    @property
    def model(self) -> str:
        return "bench-stand-in"

    @property
    def provider(self) -> str:
        return "bench"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _ToneStream(tts=self, input_text=text, conn_options=conn_options)


class _ToneStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        assert isinstance(self._tts, StandinTTS)
        output_emitter.initialize(
            request_id=shortuuid(),
            sample_rate=TONE_RATE,
            num_channels=1,
            mime_type="audio/pcm",
        )
        output_emitter.push(self._tts.tone_for(self._input_text))
        output_emitter.flush()


class StandinAgent(Agent):
    def __init__(self) -> None:
        super().__init__(instructions="Bench stand-in agent.")

    async def on_enter(self) -> None:
        self.session.say(GREETING)


def prewarm(proc: JobProcess) -> None:
    """Load the real VAD (same settings as the real worker) once per job process."""
    from navan_voice.config import load_settings
    from navan_voice.speech.vad import load_vad

    started = time.perf_counter()
    proc.userdata["settings"] = settings = load_settings()
    proc.userdata["vad"] = load_vad(min_silence_duration=settings.vad_min_silence_s)
    logger.info("job process ready: stand-ins loaded in %.2fs", time.perf_counter() - started)


async def entrypoint(ctx: JobContext) -> None:
    settings = ctx.proc.userdata["settings"]
    vad = ctx.proc.userdata["vad"]
    await ctx.connect()
    participant = await ctx.wait_for_participant()
    # the settings' turn detection (text rules on the stand-in transcript, or VAD silence)
    detection = turn_detection(settings.turn_detection, None)
    session: AgentSession[None] = AgentSession(
        vad=session_vad(settings, vad),
        stt=stt.StreamAdapter(stt=StandinSTT(), vad=vad),
        llm=StandinLLM(),
        tts=StandinTTS(),
        turn_handling=turn_handling_options(settings, detection),
        aec_warmup_duration=settings.aec_warmup_s,
    )
    session.on("metrics_collected", _log_eou)
    await session.start(
        agent=StandinAgent(),
        room=ctx.room,
        room_options=room_options(settings, participant.identity),
        record=False,
    )
    stop_session_audio_on_pause(session)


EOU_MARK = "bench eou"


def _log_eou(event: Any) -> None:
    """Log livekit's end-of-utterance metrics, which the bench reads back from the log: how
    long after the caller's last speech the turn was committed (the end-of-turn window)."""
    metrics = getattr(event, "metrics", None)
    if getattr(metrics, "type", "") == "eou_metrics":
        logger.info(
            "%s end_of_utterance_delay=%.3f transcription_delay=%.3f",
            EOU_MARK,
            metrics.end_of_utterance_delay,
            metrics.transcription_delay,
        )


def build_server() -> AgentServer:
    # livekit plugins register on the main thread; with the thread executor, import it here
    from livekit.plugins import silero  # noqa: F401

    from navan_voice.config import load_settings
    from navan_voice.worker import CallLoad, NavanAgentServer

    settings = load_settings()
    executor = os.environ.get("BENCH_STANDIN_EXECUTOR", "process")
    load = CallLoad(settings.worker_max_calls)
    server = NavanAgentServer(
        ws_url=settings.livekit_url,
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_api_secret.get_secret_value(),
        setup_fnc=prewarm,
        num_idle_processes=settings.worker_idle_processes,
        initialize_process_timeout=settings.worker_init_timeout_s,
        load_fnc=load,
        load_threshold=settings.worker_load_threshold,
        job_executor_type=JobExecutorType(executor),
    )
    server.max_calls = settings.worker_max_calls
    server.rtc_session(entrypoint, agent_name=settings.agent_name, on_request=load.on_request)

    @server.on("worker_registered")
    def _registered(worker_id: str, server_info: Any) -> None:
        logger.info("worker registered: id=%s agent_name=%s", worker_id, settings.agent_name)

    return server


def main() -> None:
    from livekit.agents.cli import proto
    from livekit.agents.cli.cli import _run_worker

    _run_worker(build_server(), proto.CliArgs(log_level="INFO", log_format="colored", dev=False))


if __name__ == "__main__":
    main()
