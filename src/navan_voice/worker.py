"""Composition root of the agent worker: AgentServer, per-process prewarm, per-call entrypoint.

Only this module (and cli.py) wires parts together. A worker registers with livekit-server
under ``settings.agent_name`` and is dispatched explicitly to rooms (by `navan-voice call`, the
web token endpoint or a SIP dispatch rule). Each job runs in its own process; the models load
once per process in ``prewarm``, not once per call.
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from typing import Any

from livekit import api, rtc
from livekit.agents import (
    AgentServer,
    AgentSession,
    JobContext,
    JobProcess,
    JobRequest,
    room_io,
)
from livekit.agents.stt import STT
from livekit.agents.tokenize.basic import hyphenate_word
from livekit.agents.vad import VAD
from livekit.agents.voice.turn import TurnHandlingOptions

from navan_voice.agents import build_first_agent, prepare_call
from navan_voice.agents.handoffs import SPECIALIST_HANDOFFS
from navan_voice.agents.lookahead import Lookahead
from navan_voice.agents.state import CallState
from navan_voice.agents.warmup import warm_dialogue
from navan_voice.analytics.tracing import setup_tracing
from navan_voice.config import Settings, load_settings
from navan_voice.db.engine import SessionFactory, make_session_factory
from navan_voice.domain.models import Channel
from navan_voice.playout import stop_session_audio_on_pause
from navan_voice.recording.api import attach as attach_recorder
from navan_voice.recording.api import (
    check_recording_storage,
    finalize_incomplete,
    retry_pending_uploads,
)
from navan_voice.recording.recorder import CallRecorder
from navan_voice.recording.redaction import install_log_redaction
from navan_voice.services.warmup import warm_lookups
from navan_voice.speech.dialogue.engine import LocalDialogueLLM
from navan_voice.speech.dialogue.factory import build_local_llm
from navan_voice.speech.early_end import EarlyEndVAD
from navan_voice.speech.factory import build_llm, build_stt, build_tts, build_turn_detection
from navan_voice.speech.models import ModelBundle, load_local_models
from navan_voice.speech.onset import OnsetVAD
from navan_voice.speech.piper_tts import PiperTTS
from navan_voice.speech.text_turn import TextTurnDetector, sure_end_of_turn
from navan_voice.speech.turn import Detection, with_threshold
from navan_voice.speech.whisper_stt import WhisperSTT
from navan_voice.telephony.calls import make_transfer_hook, outbound_notice
from navan_voice.telephony.silence import SilenceGuard, away_timeout
from navan_voice.telephony.warm import make_warm_transfer_hook
from navan_voice.tools import READ_ONLY_TOOLS
from navan_voice.tools.reads_ahead import ReadsAhead
from navan_voice.vision.avatar import start_avatar
from navan_voice.vision.context import VisualContext

logger = logging.getLogger("navan_voice.worker")

SIP_PHONE_ATTR = "sip.phoneNumber"
PRELOAD = (
    "navan_voice.agents.greeter",
    "navan_voice.agents.flights",
    "navan_voice.agents.hotels",
    "navan_voice.agents.expenses",
    "navan_voice.agents.escalation",
    "navan_voice.db.repositories",
)


def prewarm(proc: JobProcess) -> None:
    """Load settings and the local models once per job process, before any call arrives."""
    started = time.perf_counter()
    install_log_redaction()  # card numbers, CVV and expiry never reach a log
    settings = load_settings()
    setup_tracing(settings)  # OTLP traces of this process's calls, when NAVAN_OTLP_ENDPOINT is set
    proc.userdata["settings"] = settings
    proc.userdata["models"] = load_local_models(settings)
    proc.userdata["db"] = make_session_factory(settings.effective_database_url)
    # the first lookup in a process costs ≈20 ms, not ≈2 ms: pay it here, not in a call
    warm_lookups(proc.userdata["db"])
    # import the agents, tools and tables now: importing them mid-call blocks the audio loop
    for module in PRELOAD:
        importlib.import_module(module)
    warm_transcript_sync()
    # and run the dialogue once: a process's first request costs ≈20 ms more (agents/warmup.py)
    if wants_dialogue_warm_up(settings):
        warm_dialogue(proc.userdata["db"], build_local_llm(settings))
    logger.info("job process ready: models loaded in %.2fs", time.perf_counter() - started)


def warm_transcript_sync() -> None:
    """livekit's transcript synchroniser builds its hyphenation table on first use: 0.1–0.2 s
    with the event loop blocked, in a call's greeting (the worker logs it as a stall). Built
    here, once per process, before any call."""
    hyphenate_word("warm")


def wants_dialogue_warm_up(settings: Settings) -> bool:
    """Calls use the local rules engine and look ahead, so a first request has a cost to warm."""
    return (
        settings.lookahead
        and settings.chain("llm") == ["local"]
        and settings.local_llm_engine == "rules"
    )


def _job_metadata(ctx: JobContext) -> dict[str, Any]:
    """The dispatch metadata (JSON object) or {} when it is absent or not JSON."""
    raw = ctx.job.metadata or ""
    try:
        meta = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        logger.warning("dispatch metadata is not JSON, ignoring it: %r", raw[:200])
        return {}
    return meta if isinstance(meta, dict) else {}


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _caller_phone(participant: rtc.RemoteParticipant, meta: dict[str, Any]) -> str:
    """The caller's number: from the SIP attributes on a phone call, else from the dispatch."""
    return participant.attributes.get(SIP_PHONE_ATTR) or str(meta.get("caller_phone") or "")


def build_session(
    settings: Settings, models: ModelBundle, state: CallState, *, phone: bool = False
) -> AgentSession[Any]:
    """The voice pipeline for one call: VAD → STT → turn detection → LLM → TTS, barge-in on."""
    detection = with_threshold(
        build_turn_detection(settings, models), settings.turn_unlikely_threshold
    )
    stt = build_stt(settings, models, captions=not phone)
    early = early_end_vad(settings, models.vad, stt, detection)
    session: AgentSession[Any] = AgentSession(
        vad=session_vad(settings, early or models.vad),
        stt=stt,
        llm=build_llm(settings),
        tts=build_tts(settings, models),
        turn_handling=turn_handling_options(settings, detection),
        aec_warmup_duration=settings.aec_warmup_s,
        # on the phone, a silent caller is prompted, then the call ends (SilenceGuard)
        user_away_timeout=away_timeout(settings.sip_silence_timeout_s) if phone else None,
        userdata=state,
    )
    if isinstance(stt, WhisperSTT):  # "okay" over the agent's reply lets it go on
        stt.agent_mid_reply = lambda: mid_reply(session)
    # when the caller last began to speak: a yes begun before a read-back is no yes to it
    # (tools/changes.confirm_change), whatever order the transcript reaches the model in
    session.on("user_state_changed", lambda ev: state.heard_caller(ev.new_state, ev.created_at))
    return session


def attach_lookahead(settings: Settings, session: AgentSession[Any]) -> Lookahead | None:
    """The look-ahead (agents/lookahead.py), where the models make it cheap and exact: the
    local rules engine (deterministic, under 1 ms a decision) and piper (renders ahead)."""
    model, voice = session.llm, session.tts
    if not settings.lookahead or not isinstance(model, LocalDialogueLLM) or model.blocking:
        return None
    if not isinstance(voice, PiperTTS):
        return None
    lookahead = Lookahead(
        session, model, voice, read_only=READ_ONLY_TOOLS, handoffs=SPECIALIST_HANDOFFS
    )
    lookahead.attach()
    if isinstance(session.stt, WhisperSTT):  # its text at a pause, before the final
        session.stt.on("preflight_transcript", lookahead.on_preflight)
    return lookahead


def early_end_vad(
    settings: Settings, loaded: VAD | None, stt: STT[Any], detection: Detection
) -> EarlyEndVAD | None:
    """The early end of turn (speech/early_end.py): the local STT judges its early text with the
    text rules, and a finished request ends the speech on this call's VAD at once. Only with
    the local streaming STT (its early text) and the text turn rules (which judge the rest)."""
    if not settings.early_end_of_turn or loaded is None or not isinstance(stt, WhisperSTT):
        return None
    if settings.stt_early_transcript != "preflight" or not isinstance(detection, TextTurnDetector):
        return None
    early = EarlyEndVAD(loaded)
    stt.ends_turn = sure_end_of_turn
    stt.on("end_of_turn", lambda _text: early.end_speech_now())
    return early


def early_end_of(session: AgentSession[Any]) -> EarlyEndVAD | None:
    """The call's early-end VAD, under the onset wrapper if there is one."""
    vad = session.vad
    inner = vad.inner if isinstance(vad, OnsetVAD) else vad
    return inner if isinstance(inner, EarlyEndVAD) else None


def session_vad(settings: Settings, loaded: VAD | None) -> VAD | None:
    """The call's VAD: the loaded one, with word onsets counted for barge-in if so set."""
    if loaded is None or not settings.barge_in_onset:
        return loaded
    return OnsetVAD(loaded)


def mid_reply(session: AgentSession[Any]) -> bool:
    """The agent is speaking a reply, or holds one paused by the caller's voice."""
    speech = session.current_speech
    return speech is not None and not speech.done()


def turn_handling_options(settings: Settings, turn_detection: Detection) -> TurnHandlingOptions:
    """End of turn and barge-in for a session, from the settings (also used by the bench's
    stand-in worker, so it measures the same pipeline)."""
    return {
        "turn_detection": turn_detection,
        "endpointing": {
            "mode": settings.endpointing_mode,
            "min_delay": settings.min_endpointing_delay_s,
            "max_delay": settings.max_endpointing_delay_s,
            "alpha": settings.endpointing_alpha,
        },
        # caller speech over the agent stops it; a cough that turns out to be no words
        # lets the agent resume where it was
        "interruption": {
            "enabled": True,
            "mode": "vad",
            "min_duration": settings.interruption_min_duration_s,
            "resume_false_interruption": True,
            "false_interruption_timeout": settings.false_interruption_timeout_s,
        },
        # the reply (LLM, and TTS when configured) starts on the final transcript; livekit
        # throws it away if the caller goes on talking
        "preemptive_generation": {"enabled": True, "preemptive_tts": settings.preemptive_tts},
    }


def room_options(settings: Settings, participant_identity: str) -> room_io.RoomOptions:
    """The room's audio for a session: the caller's audio in frames of
    ``audio_input_frame_ms`` (shared with the bench's stand-in worker)."""
    return room_io.RoomOptions(
        participant_identity=participant_identity,
        audio_input=room_io.AudioInputOptions(frame_size_ms=settings.audio_input_frame_ms),
    )


def new_call_state(
    settings: Settings,
    *,
    call_id: str,
    db: SessionFactory,
    phone: bool,
    caller_phone: str | None,
    room: str,
) -> CallState:
    """A call's state, with what the settings decide for it (the look-ahead's reads kept)."""
    return CallState(
        call_id=call_id,
        db=db,
        channel=Channel.PHONE if phone else Channel.WEB,
        caller_phone=caller_phone,
        room=room,
        reads_ahead=ReadsAhead(enabled=settings.lookahead_reads),
    )


async def entrypoint(ctx: JobContext) -> None:
    """One call: join the room, wait for the caller, run the travel agents until hang-up."""
    settings: Settings = ctx.proc.userdata.get("settings") or load_settings()
    models: ModelBundle = ctx.proc.userdata.get("models") or load_local_models(settings)
    db = ctx.proc.userdata.get("db") or make_session_factory(settings.effective_database_url)
    meta = _job_metadata(ctx)
    await ctx.connect()
    participant = await ctx.wait_for_participant()
    is_sip = participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_SIP
    state = new_call_state(
        settings,
        call_id=ctx.job.id,
        db=db,
        phone=is_sip,
        caller_phone=_caller_phone(participant, meta) or None,
        room=ctx.room.name,
    )
    logger.info(
        "call %s in room %s: %s caller %s",
        state.call_id,
        ctx.room.name,
        state.channel.value,
        participant.identity,
    )
    # an outbound call's notice is its first words (set first: the greeting is prepared for it)
    state.opening_notice = outbound_notice(meta)
    # who is calling, before the greeting: a web caller was signed in by the web app (its
    # dispatch metadata is set server-side, so it can be trusted); a phone number is looked up
    await prepare_call(
        state,
        signed_in_traveler=None if is_sip else _int_or_none(meta.get("traveler_id")),
        trip_code=None if is_sip else (str(meta.get("confirmation_code") or "") or None),
    )
    state.ready.clear()  # the greeter waits until the recorder below is in place
    session = build_session(settings, models, state, phone=is_sip)
    recorder = attach_recorder(session, state, settings=settings, session_factory=db)
    ctx.add_shutdown_callback(recorder.aclose)
    if (lookahead := attach_lookahead(settings, session)) is not None:
        ctx.add_shutdown_callback(lookahead.aclose)
    if (early := early_end_of(session)) is not None:
        ctx.add_shutdown_callback(early.aclose)
    # web calls: screen share → context (+ a look_at_screen tool) and a talking avatar;
    # a caller that cannot show video (phone, `navan-voice call`) gets neither
    visual = None if is_sip else VisualContext(ctx.room, session, images=settings.vision_images)
    if visual is not None:
        state.extra_tools.append(visual.look_at_screen_tool())
    wants_video = not is_sip and bool(meta.get("video", True))
    avatar = await start_avatar(settings, session, ctx.room) if wants_video else None
    if avatar is not None:
        ctx.add_shutdown_callback(avatar.aclose)
    options = room_options(settings, participant.identity)
    options.audio_output = avatar is None  # the avatar publishes the agent's audio with its video
    if visual is not None:
        options.text_input = visual.text_input_options()
    await session.start(
        agent=build_first_agent(state),
        room=ctx.room,
        room_options=options,
        record=False,  # our recorder (pausable, indexed) replaces livekit's own
    )
    stop_session_audio_on_pause(session)  # barge-in: the agent's queued audio goes at once
    await recorder.start()
    if visual is not None:
        visual.start()
        ctx.add_shutdown_callback(visual.aclose)
    if is_sip:
        _wire_phone(ctx, session, state, settings, participant, recorder)
    state.ready.set()


def _wire_phone(
    ctx: JobContext,
    session: AgentSession[Any],
    state: CallState,
    settings: Settings,
    participant: rtc.RemoteParticipant,
    recorder: CallRecorder,
) -> None:
    """Phone-only behaviour: silence handling, transfer to the human desk, keypad digits."""

    async def hang_up() -> None:
        await ctx.api.room.delete_room(api.DeleteRoomRequest(room=ctx.room.name))

    guard = SilenceGuard(session, hang_up=hang_up)

    async def close_guard() -> None:
        guard.close()

    ctx.add_shutdown_callback(close_guard)
    if settings.sip_transfer_mode == "warm" and settings.sip_transfer_to:

        def on_hold(held: bool) -> None:
            guard.paused = held

        def desk_left() -> None:  # fixed words: every engine says them the same
            session.say("Your colleague has left the call. Is there anything else I can help with?")

        state.transfer_to_human = make_warm_transfer_hook(
            ctx.api,
            settings,
            room=ctx.room,
            participant_identity=participant.identity,
            session=session,
            record=recorder.capture,
            on_cleanup=ctx.add_shutdown_callback,
            on_hold=on_hold,
            on_desk_left=desk_left,
        )
    else:
        state.transfer_to_human = make_transfer_hook(
            ctx.api, settings, room=ctx.room.name, participant_identity=participant.identity
        )

    # digits keyed on the phone (ended by #) reach the agent as the caller's words
    digits: list[str] = []

    def on_dtmf(event: rtc.SipDTMF) -> None:
        if event.digit != "#":
            digits.append(event.digit)
            return
        keyed = " ".join(digits)
        digits.clear()
        if keyed:
            logger.info("call %s: caller keyed %d digits", state.call_id, len(keyed.split()))
            session.generate_reply(user_input=f"(keyed on the phone keypad) {keyed}")

    ctx.room.on("sip_dtmf_received", on_dtmf)


class CallLoad:
    """The worker's load as the server sees it: calls taken / ``max_calls``.

    livekit counts a job in ``active_jobs`` only once a process runs it, and holds a
    "reserved slot" only until ``accept()`` returns; a job waiting for a fresh process falls
    between the two and would count as no load at all. We count those jobs ourselves
    (forgotten after ``grace_s`` if they never start).
    """

    def __init__(self, max_calls: int, grace_s: float = 120.0) -> None:
        self.max_calls = max_calls
        self.grace_s = grace_s
        self._accepted: dict[str, float] = {}
        self._running: set[str] = set()  # as of the last load report
        self._pending: set[str] = set()  # answering the server (accept() not returned yet)

    async def on_request(self, request: JobRequest) -> None:
        # the server sees our load only every 2.5 s, so in a burst it can offer a full worker
        # one call more: refuse it, and the server offers it to another worker
        if len(self._running | set(self._accepted) | self._pending) >= self.max_calls:
            logger.info("refusing call %s: %d calls already", request.id, self.max_calls)
            # terminate=False: livekit's default (True) ends the job instead of re-dispatching it
            await request.reject(terminate=False)
            return
        # held from the check until accept() returns: a burst's requests arrive together and
        # each would otherwise pass the check before any is counted. Not part of the load
        # reported meanwhile: livekit counts the request as a reserved slot until then, and
        # counting it twice marked a worker with one call of two full (a call went unanswered)
        self._pending.add(request.id)
        try:
            await request.accept()
        finally:
            self._pending.discard(request.id)
        self._accepted[request.id] = time.monotonic()

    def __call__(self, server: AgentServer) -> float:
        running = {info.job.id for info in server.active_jobs}
        now = time.monotonic()
        for job_id, at in list(self._accepted.items()):
            if job_id in running or now - at > self.grace_s:
                del self._accepted[job_id]
        self._running = running
        return (len(running) + len(self._accepted)) / self.max_calls


class NavanAgentServer(AgentServer):
    """AgentServer whose reserved slots (requests answered "available", not yet accepted)
    count as one call each. livekit 1.8.9 counts each as load_threshold / idle processes,
    i.e. a whole worker with one idle process, so during a burst every worker looks full for
    a moment and livekit-server drops the call ("no workers with sufficient capacity")."""

    max_calls: int = 1

    def _get_effective_load(self) -> float:
        return float(self._worker_load) + self._reserved_slots / self.max_calls


def build_server(settings: Settings) -> AgentServer:
    """The AgentServer for ``navan-voice worker``."""
    load = CallLoad(settings.worker_max_calls)
    server = NavanAgentServer(
        ws_url=settings.livekit_url,
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_api_secret.get_secret_value(),
        setup_fnc=prewarm,
        num_idle_processes=settings.worker_idle_processes,
        # loading the models takes ~2 s on an idle machine but far longer on a busy one
        initialize_process_timeout=settings.worker_init_timeout_s,
        load_fnc=load,
        load_threshold=settings.worker_load_threshold,
        port=settings.worker_http_port,
        prometheus_port=settings.prometheus_port or None,
        # job processes write their metrics here so the worker's endpoint can serve them
        prometheus_multiproc_dir=str(settings.data_dir / "prometheus")
        if settings.prometheus_port
        else None,
    )
    server.max_calls = settings.worker_max_calls
    server.rtc_session(entrypoint, agent_name=settings.agent_name, on_request=load.on_request)

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

    install_log_redaction()
    check_recording_storage(settings)  # wrong storage credentials stop the worker here
    repaired = finalize_incomplete(settings)
    if repaired:
        logger.info("finalized %d recordings a dead worker left open", len(repaired))
    uploaded = retry_pending_uploads(settings)
    if uploaded:
        logger.info("uploaded %d recordings kept locally while storage was down", uploaded)
    _run_worker(
        build_server(settings),
        proto.CliArgs(log_level=settings.log_level, log_format="colored", dev=False),
    )
