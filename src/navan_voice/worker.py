"""Composition root of the agent worker: AgentServer, per-process prewarm, per-call entrypoint.

Only this module (and cli.py) wires parts together. A worker registers with livekit-server
under ``settings.agent_name`` and is dispatched explicitly to rooms (by `navan-voice call`, the
web token endpoint or a SIP dispatch rule). Each job runs in its own process; the models load
once per process in ``prewarm``, not once per call.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from livekit import rtc
from livekit.agents import AgentServer, AgentSession, JobContext, JobProcess, room_io

from navan_voice.agents import build_first_agent
from navan_voice.agents.state import CallState
from navan_voice.config import Settings, load_settings
from navan_voice.speech.factory import (
    ModelBundle,
    build_llm,
    build_stt,
    build_tts,
    build_turn_detection,
    load_local_models,
)

logger = logging.getLogger("navan_voice.worker")

SIP_PHONE_ATTR = "sip.phoneNumber"


def prewarm(proc: JobProcess) -> None:
    """Load settings and the local models once per job process, before any call arrives."""
    started = time.perf_counter()
    settings = load_settings()
    proc.userdata["settings"] = settings
    proc.userdata["models"] = load_local_models(settings)
    logger.info("job process ready: models loaded in %.2fs", time.perf_counter() - started)


def _job_metadata(ctx: JobContext) -> dict[str, Any]:
    """The dispatch metadata (JSON object) or {} when it is absent or not JSON."""
    raw = ctx.job.metadata or ""
    try:
        meta = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        logger.warning("dispatch metadata is not JSON, ignoring it: %r", raw[:200])
        return {}
    return meta if isinstance(meta, dict) else {}


def _caller_phone(participant: rtc.RemoteParticipant, meta: dict[str, Any]) -> str:
    """The caller's number: from the SIP attributes on a phone call, else from the dispatch."""
    return participant.attributes.get(SIP_PHONE_ATTR) or str(meta.get("caller_phone") or "")


def build_session(settings: Settings, models: ModelBundle, state: CallState) -> AgentSession[Any]:
    """The voice pipeline for one call: VAD → STT → turn detection → LLM → TTS."""
    return AgentSession(
        vad=models.vad,
        stt=build_stt(settings, models),
        llm=build_llm(settings),
        tts=build_tts(settings, models),
        turn_detection=build_turn_detection(settings, models),
        min_endpointing_delay=settings.min_endpointing_delay_s,
        max_endpointing_delay=settings.max_endpointing_delay_s,
        allow_interruptions=True,
        resume_false_interruption=True,
        userdata=state,
    )


async def entrypoint(ctx: JobContext) -> None:
    """One call: join the room, wait for the caller, run the travel agents until hang-up."""
    settings: Settings = ctx.proc.userdata.get("settings") or load_settings()
    models: ModelBundle = ctx.proc.userdata.get("models") or load_local_models(settings)
    meta = _job_metadata(ctx)
    await ctx.connect()
    participant = await ctx.wait_for_participant()
    is_sip = participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_SIP
    state = CallState(
        call_id=ctx.job.id,
        room=ctx.room.name,
        channel="phone" if is_sip else str(meta.get("channel") or "web"),
        caller_phone=_caller_phone(participant, meta),
        caller_identity=participant.identity,
    )
    logger.info(
        "call %s in room %s: %s caller %s",
        state.call_id,
        state.room,
        state.channel,
        participant.identity,
    )
    session = build_session(settings, models, state)
    await session.start(
        agent=build_first_agent(state),
        room=ctx.room,
        room_options=room_io.RoomOptions(participant_identity=participant.identity),
    )


def build_server(settings: Settings) -> AgentServer:
    """The AgentServer for ``navan-voice worker``."""
    server = AgentServer(
        ws_url=settings.livekit_url,
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_api_secret.get_secret_value(),
        setup_fnc=prewarm,
        num_idle_processes=settings.worker_idle_processes,
        load_fnc=lambda srv: len(srv.active_jobs) / settings.worker_max_calls,
        load_threshold=settings.worker_load_threshold,
        port=settings.worker_http_port,
        prometheus_port=settings.prometheus_port or None,
    )
    server.rtc_session(entrypoint, agent_name=settings.agent_name)

    @server.on("worker_registered")
    def _registered(worker_id: str, server_info: Any) -> None:
        # `navan-voice up` and the tests wait for this line in the worker's log
        logger.info("worker registered: id=%s agent_name=%s", worker_id, settings.agent_name)

    return server


def run_worker(settings: Settings) -> None:
    """Run the worker in the foreground until SIGINT/SIGTERM (then drain and exit)."""
    # livekit's own `start` command, called directly so our Typer CLI keeps its options
    from livekit.agents.cli import proto
    from livekit.agents.cli.cli import _run_worker

    _run_worker(
        build_server(settings),
        proto.CliArgs(log_level=settings.log_level, log_format="colored", dev=False),
    )
