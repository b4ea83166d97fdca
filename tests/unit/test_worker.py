"""The worker's own logic: per-call load accounting and the session's turn-handling settings."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from navan_voice.config import load_settings
from navan_voice.worker import CallLoad, build_session, early_end_of

pytestmark = pytest.mark.unit


@dataclass
class _Job:
    id: str


@dataclass
class _Running:
    job: _Job


@dataclass
class _Server:
    active_jobs: list[_Running] = field(default_factory=list)


@dataclass
class _Request:
    id: str
    accepted: bool = False
    rejected: bool = False

    terminated: bool = False

    async def accept(self) -> None:
        await asyncio.sleep(0)  # livekit's accept() awaits a message to the server
        self.accepted = True

    async def reject(self, *, terminate: bool = True) -> None:
        self.rejected = True
        self.terminated = terminate


def test_accepted_jobs_count_until_they_run_and_are_not_counted_twice() -> None:
    load = CallLoad(max_calls=4)
    server = _Server()
    assert load(server) == 0.0  # type: ignore[arg-type]
    first, second = _Request("J1"), _Request("J2")
    asyncio.run(load.on_request(first))  # type: ignore[arg-type]
    asyncio.run(load.on_request(second))  # type: ignore[arg-type]
    assert first.accepted and second.accepted
    # accepted but waiting for a process: livekit does not list them yet, we do
    assert load(server) == 0.5  # type: ignore[arg-type]
    server.active_jobs.append(_Running(_Job("J1")))
    assert load(server) == 0.5  # type: ignore[arg-type]  # J1 running, J2 waiting
    server.active_jobs.append(_Running(_Job("J2")))
    assert load(server) == 0.5  # type: ignore[arg-type]  # both running, counted once each
    server.active_jobs.clear()  # both ended
    assert load(server) == 0.0  # type: ignore[arg-type]


def test_a_full_worker_refuses_the_next_call_until_one_ends() -> None:
    # the server learns our load only every 2.5 s: in a burst it may offer one call too many
    load = CallLoad(max_calls=2)
    server = _Server()
    first, second, third = _Request("J1"), _Request("J2"), _Request("J3")
    for request in (first, second, third):
        asyncio.run(load.on_request(request))  # type: ignore[arg-type]
    assert first.accepted and second.accepted
    assert third.rejected and not third.accepted
    assert not third.terminated  # refused, not ended: the server offers it to another worker
    server.active_jobs.extend([_Running(_Job("J1")), _Running(_Job("J2"))])
    assert load(server) == 1.0  # type: ignore[arg-type]
    server.active_jobs.pop()  # J2 ended
    assert load(server) == 0.5  # type: ignore[arg-type]
    fourth = _Request("J4")
    asyncio.run(load.on_request(fourth))  # type: ignore[arg-type]
    assert fourth.accepted


async def test_a_burst_of_requests_arriving_together_is_capped() -> None:
    # livekit-server offered one worker three calls within 5 ms: each request must be counted
    # before its accept() is awaited, or all three pass the capacity check
    load = CallLoad(max_calls=2)
    requests = [_Request(f"J{i}") for i in range(3)]
    await asyncio.gather(*(load.on_request(r) for r in requests))  # type: ignore[arg-type]
    assert [r.accepted for r in requests] == [True, True, False]
    assert requests[2].rejected and not requests[2].terminated


async def test_a_call_being_accepted_is_not_counted_twice() -> None:
    # until accept() returns livekit counts the request as a reserved slot (NavanAgentServer);
    # the load must not count it as well, or a worker with 1 call of 2 reports itself full
    load = CallLoad(max_calls=2)
    server = _Server()
    release = asyncio.Event()

    class _SlowRequest(_Request):
        async def accept(self) -> None:
            await release.wait()  # the server has not answered yet
            self.accepted = True

    first = _SlowRequest("J1")
    task = asyncio.create_task(load.on_request(first))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    assert load(server) == 0.0  # type: ignore[arg-type]  # livekit's reserved slot has it
    release.set()
    await task
    assert first.accepted and load(server) == 0.5  # type: ignore[arg-type]


def test_accepted_job_that_never_starts_is_forgotten() -> None:
    load = CallLoad(max_calls=2, grace_s=0.0)
    asyncio.run(load.on_request(_Request("J1")))  # type: ignore[arg-type]
    assert load(_Server()) == 0.0  # type: ignore[arg-type]


def _session(monkeypatch: pytest.MonkeyPatch, state: Any = None, **env: str) -> Any:
    """A call's session from the settings with ``env`` set; cloud STT/TTS (a test key, nothing
    is called) so no local Whisper or piper is loaded."""
    from navan_voice.speech.models import ModelBundle
    from navan_voice.speech.vad import load_vad

    for key, value in {
        "NAVAN_PROFILE": "local",
        "NAVAN_STT": "openai",
        "NAVAN_TTS": "openai",
        "OPENAI_API_KEY": "sk-test",
        **env,
    }.items():
        monkeypatch.setenv(key, value)
    return build_session(load_settings(), ModelBundle(vad=load_vad()), state)


async def test_session_takes_barge_in_and_endpointing_from_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state: Any = object()
    session = _session(
        monkeypatch,
        state,
        NAVAN_INTERRUPTION_MIN_DURATION_S="0.3",
        NAVAN_AEC_WARMUP_S="0.7",
        NAVAN_FALSE_INTERRUPTION_TIMEOUT_S="1.5",
        NAVAN_MIN_ENDPOINTING_DELAY_S="0.45",
    )
    opts = session.options
    assert opts.turn_handling["interruption"]["min_duration"] == 0.3
    assert opts.turn_handling["interruption"]["resume_false_interruption"] is True
    assert opts.turn_handling["interruption"]["false_interruption_timeout"] == 1.5
    assert opts.turn_handling["endpointing"]["min_delay"] == 0.45
    assert opts.aec_warmup_duration == 0.7
    assert session.userdata is state


async def test_endpointing_learns_a_callers_mid_request_pauses_unless_fixed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """By default a caller who pauses 1 s mid-request (the turn held, no reply between) gets a
    longer wait before the next end of turn; with NAVAN_ENDPOINTING_MODE=fixed the wait stays."""
    from livekit.agents.voice.endpointing import create_endpointing

    def after_a_pause(session: Any) -> float:
        endpointing = create_endpointing(session.options.turn_handling["endpointing"])
        endpointing.on_start_of_speech(10.0)
        endpointing.on_end_of_speech(11.0)
        endpointing.on_start_of_speech(12.0)  # the caller goes on after 1 s, no reply between
        endpointing.on_end_of_speech(13.0)
        return float(endpointing.min_delay)

    learned = after_a_pause(_session(monkeypatch, NAVAN_MIN_ENDPOINTING_DELAY_S="0.3"))
    assert learned == pytest.approx(0.9 * 0.3 + 0.1 * 1.0)
    fixed = after_a_pause(
        _session(monkeypatch, NAVAN_MIN_ENDPOINTING_DELAY_S="0.3", NAVAN_ENDPOINTING_MODE="fixed")
    )
    assert fixed == 0.3


async def test_session_synthesizes_preemptively_unless_turned_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    on = _session(monkeypatch)
    assert on.options.preemptive_generation["enabled"] is True
    assert on.options.preemptive_generation["preemptive_tts"] is True
    off = _session(monkeypatch, NAVAN_PREEMPTIVE_TTS="false")
    assert off.options.preemptive_generation["preemptive_tts"] is False


def test_room_input_frames_follow_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from navan_voice.worker import room_options

    monkeypatch.setenv("NAVAN_AUDIO_INPUT_FRAME_MS", "10")
    opts = room_options(load_settings(), "caller-1")
    assert opts.participant_identity == "caller-1"
    audio_in = opts.get_audio_input_options()
    assert audio_in is not None and audio_in.frame_size_ms == 10


async def test_the_lookahead_runs_with_the_rules_engine_and_piper_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from navan_voice.agents.lookahead import Lookahead
    from navan_voice.speech.models import ModelBundle
    from navan_voice.speech.piper_tts import load_piper_voice
    from navan_voice.worker import attach_lookahead

    monkeypatch.setenv("NAVAN_PROFILE", "local")
    monkeypatch.setenv("NAVAN_STT", "openai")  # no Whisper to load; nothing is called
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    bundle = ModelBundle(piper=load_piper_voice())
    local = build_session(load_settings(), bundle, object())  # type: ignore[arg-type]
    assert isinstance(attach_lookahead(load_settings(), local), Lookahead)

    monkeypatch.setenv("NAVAN_LOOKAHEAD", "false")
    assert attach_lookahead(load_settings(), local) is None
    monkeypatch.delenv("NAVAN_LOOKAHEAD")
    # a cloud voice cannot render ahead; a model-backed engine is too slow to ask twice
    assert attach_lookahead(load_settings(), _session(monkeypatch)) is None
    monkeypatch.setenv("NAVAN_TTS", "local")
    monkeypatch.setenv("NAVAN_LOCAL_LLM_ENGINE", "hybrid")
    hybrid = build_session(load_settings(), bundle, object())  # type: ignore[arg-type]
    assert attach_lookahead(load_settings(), hybrid) is None


async def test_the_lookahead_hears_the_local_stts_preflight_transcripts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from navan_voice.speech.models import ModelBundle
    from navan_voice.speech.piper_tts import load_piper_voice
    from navan_voice.speech.vad import load_vad
    from navan_voice.speech.whisper_engine import WhisperEngine
    from navan_voice.worker import attach_lookahead

    monkeypatch.setenv("NAVAN_PROFILE", "local")
    bundle = ModelBundle(whisper=WhisperEngine.load(), vad=load_vad(), piper=load_piper_voice())
    session = build_session(load_settings(), bundle, object())  # type: ignore[arg-type]
    lookahead = attach_lookahead(load_settings(), session)
    assert lookahead is not None
    played: list[str] = []
    monkeypatch.setattr(lookahead, "_play", played.append)
    session.stt.emit("preflight_transcript", "When does my flight leave?")
    assert played == ["When does my flight leave?"]


async def test_the_local_stts_finished_requests_end_the_speech_on_the_calls_vad(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The early end of turn: the local STT judges its early text with the strict text rules,
    and its "end_of_turn" ends the speech on this call's VAD; not with a cloud STT, with other
    turn detection, or when switched off (the default)."""
    from navan_voice.speech.models import ModelBundle
    from navan_voice.speech.piper_tts import load_piper_voice
    from navan_voice.speech.text_turn import sure_end_of_turn
    from navan_voice.speech.vad import load_vad
    from navan_voice.speech.whisper_engine import WhisperEngine

    monkeypatch.setenv("NAVAN_PROFILE", "local")
    monkeypatch.setenv("NAVAN_EARLY_END_OF_TURN", "true")
    bundle = ModelBundle(whisper=WhisperEngine.load(), vad=load_vad(), piper=load_piper_voice())
    session = build_session(load_settings(), bundle, object())  # type: ignore[arg-type]
    early = early_end_of(session)
    assert early is not None and session.stt.ends_turn is sure_end_of_turn
    ended: list[bool] = []
    monkeypatch.setattr(early, "end_speech_now", lambda: ended.append(True) or True)
    session.stt.emit("end_of_turn", "When does my flight leave?")
    assert ended == [True]

    for env in ({"NAVAN_EARLY_END_OF_TURN": None}, {"NAVAN_TURN_DETECTION": "vad"}):
        with monkeypatch.context() as patched:
            for key, value in env.items():
                if value is None:
                    patched.delenv(key)
                else:
                    patched.setenv(key, value)
            plain = build_session(load_settings(), bundle, object())  # type: ignore[arg-type]
            assert early_end_of(plain) is None and plain.stt.ends_turn is None
    assert early_end_of(_session(monkeypatch)) is None  # a cloud STT has no early text to judge


@pytest.mark.parametrize(("setting", "kept"), [("true", True), ("false", False)])
async def test_a_calls_state_keeps_the_lookaheads_reads_as_the_setting_says(
    monkeypatch: pytest.MonkeyPatch, setting: str, kept: bool
) -> None:
    from navan_voice.domain.models import Channel
    from navan_voice.worker import new_call_state

    monkeypatch.setenv("NAVAN_LOOKAHEAD_READS", setting)
    state = new_call_state(
        load_settings(),
        call_id="job-1",
        db=None,  # type: ignore[arg-type]  # no read reaches a database here
        phone=True,
        caller_phone="+15550100",
        room="call-1",
    )
    assert (state.channel, state.caller_phone, state.room) == (Channel.PHONE, "+15550100", "call-1")
    reads: list[str] = []

    async def read(answer: str) -> str:
        reads.append(answer)
        return answer

    key = state.reads_ahead.key(read, {"reference": "UA 1542"})
    assert await state.reads_ahead.ahead(key, read("ahead")) == "ahead"
    taken = await state.reads_ahead.behind(key, lambda: read("real turn"))
    # on: the real turn takes the look-ahead's read; off: it reads for itself
    expected = ("ahead", ["ahead"]) if kept else ("real turn", ["ahead", "real turn"])
    assert (taken, reads) == expected


def test_the_dialogue_is_warmed_in_prewarm_only_where_calls_look_ahead_with_the_rules(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from navan_voice.worker import wants_dialogue_warm_up

    monkeypatch.setenv("NAVAN_PROFILE", "local")
    assert wants_dialogue_warm_up(load_settings())
    monkeypatch.setenv("NAVAN_LOOKAHEAD", "false")
    assert not wants_dialogue_warm_up(load_settings())
    monkeypatch.delenv("NAVAN_LOOKAHEAD")
    monkeypatch.setenv("NAVAN_LOCAL_LLM_ENGINE", "hybrid")  # Needle: no look-ahead
    assert not wants_dialogue_warm_up(load_settings())
    monkeypatch.delenv("NAVAN_LOCAL_LLM_ENGINE")
    monkeypatch.setenv("NAVAN_LLM", "openai")  # a cloud LLM answers: nothing local to warm
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert not wants_dialogue_warm_up(load_settings())


def test_the_transcript_synchronisers_table_is_built_before_any_call() -> None:
    """livekit builds it on first use, blocking a call's event loop 0.1–0.2 s; the job
    process's prewarm builds it (``warm_transcript_sync``) so no call pays for it."""
    from livekit.agents.tokenize import _basic_hyphenator

    from navan_voice.worker import warm_transcript_sync

    _basic_hyphenator._get_hyphenator.cache_clear()
    warm_transcript_sync()
    assert _basic_hyphenator._get_hyphenator.cache_info().currsize == 1
