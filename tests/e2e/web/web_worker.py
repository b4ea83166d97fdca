"""TEST worker for the web end-to-end tests: the real local speech models (Silero VAD, Whisper
STT, piper TTS) with our screen-context and avatar hooks, wired the way worker.py should wire
them — but with ``ScreenEchoLLM``, a TEST STAND-IN for the language model.

The stand-in decides nothing: it repeats what the caller said and the first lines of the screen
text it was given. That makes the e2e tests check the plumbing (speech in → transcript, screen
share → OCR → model context, reply → TTS → captions + avatar), not dialogue quality.

Run: ``python -m tests.e2e.web.web_worker`` with NAVAN_LIVEKIT_URL / NAVAN_AGENT_NAME set.
"""

from __future__ import annotations

import logging
from typing import Any

from livekit import rtc
from livekit.agents import Agent, AgentServer, AgentSession, JobContext, JobProcess, llm, room_io
from livekit.agents.llm import ChatChunk, ChatContext, ChoiceDelta, Tool
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)

from navan_voice.config import load_settings
from navan_voice.speech.factory import build_stt, build_tts
from navan_voice.speech.models import load_local_models
from navan_voice.vision.avatar import start_avatar
from navan_voice.vision.context import PAGE_ITEM_ID, SCREEN_ITEM_ID, VisualContext

logger = logging.getLogger("tests.web_worker")


def _text(item: Any) -> str:
    return str(getattr(item, "text_content", "") or "")


def echo_reply(chat_ctx: ChatContext) -> str:
    """'You said: …' plus what the screen and page context hold."""
    said = next(
        (
            _text(i)
            for i in reversed(chat_ctx.items)
            if getattr(i, "role", None) == "user" and i.id != SCREEN_ITEM_ID
        ),
        "",
    )
    screen = chat_ctx.get_by_id(SCREEN_ITEM_ID)
    page = chat_ctx.get_by_id(PAGE_ITEM_ID)
    parts = [f"You said: {said.strip()}." if said else "Hello, how can I help?"]
    if screen is not None:
        lines = _text(screen).splitlines()[1:3]
        parts.append("On your screen I can see: " + ". ".join(lines) + ".")
    if page is not None:
        parts.append("Your page is open.")
    return " ".join(parts)


class ScreenEchoLLM(llm.LLM):
    """TEST STAND-IN: replies with ``echo_reply``."""

    @property
    def model(self) -> str:
        return "screen-echo-test-stand-in"

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
        return _EchoStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class _EchoStream(llm.LLMStream):
    async def _run(self) -> None:
        reply = echo_reply(self._chat_ctx)
        logger.info("stand-in reply: %s", reply)
        self._event_ch.send_nowait(
            ChatChunk(id="echo", delta=ChoiceDelta(role="assistant", content=reply))
        )


def prewarm(proc: JobProcess) -> None:
    settings = load_settings()
    proc.userdata["settings"] = settings
    proc.userdata["models"] = load_local_models(settings)


async def entrypoint(ctx: JobContext) -> None:
    settings = ctx.proc.userdata["settings"]
    models = ctx.proc.userdata["models"]
    await ctx.connect()
    participant = await ctx.wait_for_participant()
    session: AgentSession[Any] = AgentSession(
        vad=models.vad,
        stt=build_stt(settings, models),
        llm=ScreenEchoLLM(),
        tts=build_tts(settings, models),
        turn_handling={"turn_detection": "vad", "endpointing": {"min_delay": 0.4}},
    )
    visual = VisualContext(ctx.room, session, images=settings.vision_images)
    avatar = await start_avatar(settings, session, ctx.room)
    if avatar is not None:
        ctx.add_shutdown_callback(avatar.aclose)
    await session.start(
        agent=Agent(
            instructions="You are Navan's travel support agent.",
            tools=[visual.look_at_screen_tool()],
        ),
        room=ctx.room,
        room_options=room_io.RoomOptions(
            participant_identity=participant.identity,
            audio_output=avatar is None,
            text_input=visual.text_input_options(),
        ),
    )
    visual.start()
    ctx.add_shutdown_callback(visual.aclose)
    logger.info("web test agent in room %s (kind %s)", ctx.room.name, participant.kind)
    session.say("Hello, this is Navan support.")
    _ = rtc  # the room's media runs through livekit.rtc


def _no_load(server: AgentServer) -> float:
    return 0.0


def main() -> None:
    from livekit.agents.cli import proto
    from livekit.agents.cli.cli import _run_worker

    settings = load_settings()
    server = AgentServer(
        ws_url=settings.livekit_url,
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_api_secret.get_secret_value(),
        setup_fnc=prewarm,
        num_idle_processes=1,
        # a busy 2-core test machine must not make the worker refuse the test's calls
        load_threshold=float("inf"),
        load_fnc=_no_load,
        port=0,
    )
    server.rtc_session(entrypoint, agent_name=settings.agent_name)

    @server.on("worker_registered")
    def _registered(worker_id: str, server_info: Any) -> None:
        logger.info("worker registered: id=%s agent_name=%s", worker_id, settings.agent_name)

    _run_worker(server, proto.CliArgs(log_level="INFO", log_format="colored", dev=False))


if __name__ == "__main__":
    main()
