"""Voice-to-voice latency on the phone path: sipp dials the real livekit-sip, which bridges the
call into livekit-server, where the real local-profile worker answers.

`python -m bench phone` runs the default settings; `python -m bench.telephony.phone_latency
--configs beam1,beam2,beam2,beam1` compares settings (one worker per config, in that order,
so an ABBA order evens out the machine's drift).

The caller is a phone we control (bench.telephony.sipp.RtpSink): it streams the travel turns,
spoken by Debian voices (not the agent's) and encoded as 8 kHz G.711 µ-law, in RTP every 20 ms
in real time, and records when each packet it sends and receives goes out and comes in. A
turn's latency runs from the packet that carries the caller's last sound (the last 20 ms frame
above -45 dBFS) to the first packet of the agent's that is louder than -50 dBFS (the same
thresholds as the web caller's, bench/e2e/calls.py): what the person on the phone waits, less
their phone's own jitter buffer. Each call is ended by deleting its room, as when the agent
hangs up: livekit-sip then sends the caller BYE.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from livekit import api

from bench.e2e.calls import STOPPED_QUIET_S, stopped_at
from bench.e2e.results import percentiles, save
from bench.e2e.spans import Receiver, turn_timelines
from bench.e2e.spans import summarize as summarize_spans
from bench.e2e.split import split_calls, wait_calls_finalized
from bench.e2e.stack import (
    RESULTS,
    load_avg,
    patched_env,
    seeded_database,
    wait_job_processes,
    worker_env,
)
from bench.e2e.voices import BARGE_IN, TRAVEL_TURNS, VOICES, caller_wav
from bench.telephony.sipp import (
    RtpSink,
    first_loud_byte,
    last_loud_byte,
    loopback_phone_stack,
    start_sipp,
    talking_caller,
    transcribe_8k,
    trunk_settings,
    wait_for,
    wait_until_quiet,
    wav_to_ulaw,
)
from navan_voice.caller.audio import rms_dbfs
from navan_voice.config import Settings, load_settings
from navan_voice.db.seed import DEMO_PHONE
from navan_voice.stack.processes import ManagedProcess
from navan_voice.stack.sip import PhoneStack
from navan_voice.stack.up import start_worker
from navan_voice.telephony import provision

logger = logging.getLogger(__name__)

CALLER_END_DBFS = -45.0  # the caller's last sound: the last frame above this
AGENT_LOUD_DBFS = -50.0  # agent audio louder than this counts as speech
CACHE = RESULTS / "voices"
# named configurations for --configs; anything else is KEY=VALUE[+KEY=VALUE...]
NAMED: dict[str, dict[str, str]] = {
    "default": {},
    "beam1": {"NAVAN_STT_PHONE_BEAM": "1"},
    "beam2": {"NAVAN_STT_PHONE_BEAM": "2"},
}


def parse_config(text: str) -> dict[str, str]:
    """``beam1`` / ``default`` / ``NAVAN_X=1+NAVAN_Y=2`` → the worker's extra environment."""
    if text in NAMED:
        return dict(NAMED[text])
    env: dict[str, str] = {}
    for part in text.split("+"):
        key, sep, value = part.partition("=")
        if not sep or not key.startswith("NAVAN_"):
            raise ValueError(
                f"config {text!r}: use one of {sorted(NAMED)} or NAVAN_KEY=VALUE[+NAVAN_KEY=VALUE]"
            )
        env[key] = value
    return env


@dataclass
class PhoneTurn:
    text: str
    latency_s: float | None = None  # None: no reply within the limit
    heard: str = ""  # what the agent said, transcribed after the calls

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class PhoneCall:
    voice: str
    config: str
    greeting_s: float | None = None  # first RTP from livekit-sip → first loud agent packet
    turns: list[PhoneTurn] = field(default_factory=list)
    error: str = ""
    window_utc: list[str] = field(default_factory=list)
    worker_turns: list[dict[str, Any]] = field(default_factory=list)
    room: str = ""
    bargein_s: float | None = None  # caller's onset → agent's audio stopped (with --barge-in)
    # per answered turn, on the wall clock: the caller's last sound sent, the agent's first
    # loud packet heard (for bench.e2e.split: uplink / worker / downlink)
    turn_walls: list[tuple[float, float]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@contextmanager
def phone_stack(run_dir: Path) -> Iterator[tuple[PhoneStack, str]]:
    """Redis, livekit-server and livekit-sip on free loopback ports, a seeded SQLite database,
    and the NAVAN_* environment the workers read; yields the stack and the database URL."""
    db_url = seeded_database(run_dir)
    stack = loopback_phone_stack(run_dir)
    env = {
        **worker_env(stack.url, db_url, run_dir, "navan-phone-bench"),
        "NAVAN_WORKER_IDLE_PROCESSES": "1",
    }
    with patched_env(env):
        logger.info("starting Redis, livekit-server and livekit-sip (first run builds them)")
        stack.start()
        try:
            yield stack, db_url
        finally:
            stack.stop()


def _api(settings: Settings) -> api.LiveKitAPI:
    return api.LiveKitAPI(
        url=settings.livekit_url.replace("ws://", "http://"),
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_api_secret.get_secret_value(),
    )


async def _hang_up(lk: api.LiveKitAPI) -> list[str]:
    """Delete every call room (one call runs at a time): livekit-sip BYEs the caller.
    Returns the rooms' names."""
    rooms = (await lk.room.list_rooms(api.ListRoomsRequest())).rooms
    names = [room.name for room in rooms if room.name.startswith(provision.ROOM_PREFIX)]
    for name in names:
        await lk.room.delete_room(api.DeleteRoomRequest(room=name))
    return names


def _sent(sink: RtpSink, speech_byte: int) -> bool:
    return sink.sent_at(speech_byte) is not None


def _answered(sink: RtpSink, since: float) -> bool:
    return sink.first_loud_after(since, dbfs=AGENT_LOUD_DBFS) is not None


async def one_call(
    settings: Settings,
    stack: PhoneStack,
    lk: api.LiveKitAPI,
    *,
    voice: str,
    config: str,
    work_dir: Path,
    reply_timeout_s: float,
    barge_in_s: float | None = None,
) -> tuple[PhoneCall, list[Any]]:
    """One phone call through the travel turns; returns the call and each reply's audio.
    ``barge_in_s``: the caller speaks over the last reply this long after it starts, and the
    call records how soon the agent's audio stopped at the phone."""
    call = PhoneCall(voice=voice, config=config)
    replies: list[Any] = []
    work_dir.mkdir(parents=True, exist_ok=True)
    ulaw = [
        wav_to_ulaw(
            caller_wav(text, voice=voice, rate=8000, cache=CACHE),
            work_dir / f"turn{i}.ulaw",
            pad_s=0.0,
        ).read_bytes()
        for i, text in enumerate(TRAVEL_TURNS)
    ]
    sink = RtpSink().start().start_talking()
    sipp = start_sipp(
        talking_caller(sink, 300_000, caller=DEMO_PHONE, hangs_up=False),
        sip_port=stack.sip.ports.sip,
        work_dir=work_dir,
        timeout_s=330,
    )
    started = datetime.now(UTC)
    wall = time.time() - time.monotonic()  # the sink dates packets on the monotonic clock
    try:
        await wait_for(lambda: bool(sink.arrivals), 60, "the call to be answered (RTP)")
        answered = sink.arrivals[0][0]
        await wait_for(lambda: sink.voiced_s() > 1.0, 60, "the agent's greeting")
        if (heard_at := sink.first_loud_after(answered, dbfs=AGENT_LOUD_DBFS)) is not None:
            call.greeting_s = round(heard_at - answered, 3)
        await wait_until_quiet(sink, timeout_s=60)
        for text, words in zip(TRAVEL_TURNS, ulaw, strict=True):
            turn = PhoneTurn(text)
            call.turns.append(turn)
            end = last_loud_byte(words, dbfs=CALLER_END_DBFS)
            if end is None:
                raise RuntimeError(f"the caller audio for {text!r} is silent")
            last_byte = sink.speech_queued + end - 1
            sink.say(words)
            await wait_for(partial(_sent, sink, last_byte), 30, "the words to be sent")
            said_at = sink.sent_at(last_byte)
            assert said_at is not None
            offset = len(sink.payload)
            try:
                await wait_for(
                    partial(_answered, sink, said_at),
                    reply_timeout_s,
                    f"the agent's reply to {text!r}",
                )
            except AssertionError:
                logger.warning("%s call (%s): no reply to %r", voice, config, text)
                continue
            heard_at = sink.first_loud_after(said_at, dbfs=AGENT_LOUD_DBFS)
            assert heard_at is not None
            barging = barge_in_s is not None and text == TRAVEL_TURNS[-1]
            if not barging:
                await wait_until_quiet(sink, timeout_s=60)
            turn.latency_s = round(heard_at - said_at, 3)
            call.turn_walls.append((said_at + wall, heard_at + wall))
            if barge_in_s is not None and barging:
                call.bargein_s = await _barge_in(sink, voice, heard_at + barge_in_s, work_dir)
                logger.info("%s (%s): barge-in, agent stopped after %s s", voice, config,
                            call.bargein_s)  # fmt: skip
                break
            replies.append((turn, sink.decode_from(offset)))
            logger.info("%s (%s): %.3f s after %r", voice, config, turn.latency_s, text)
    except Exception as exc:  # a failed call is reported, the run goes on
        call.error = f"{type(exc).__name__}: {exc}"
        logger.warning("%s call (%s) failed: %s", voice, config, call.error)
    finally:
        call.window_utc = [started.isoformat(), datetime.now(UTC).isoformat()]
        try:
            call.room = ",".join(await _hang_up(lk))
            await asyncio.to_thread(sipp.wait, 20)
        except (subprocess.TimeoutExpired, api.TwirpError) as exc:
            logger.warning("the call did not end cleanly (%s); stopping sipp", exc)
        finally:
            if sipp.poll() is None:
                sipp.kill()
            sipp.communicate()
            sink.stop()
    return call, replies


async def _barge_in(sink: RtpSink, voice: str, at: float, work_dir: Path) -> float | None:
    """Speak over the agent's reply from ``at`` (time.monotonic()), at a moment it is talking;
    seconds from the packet with our first loud frame to the agent's last loud packet before
    it went quiet (``bench.e2e.calls.stopped_at``, as the web barge-in bench times it). None:
    the agent was not talking at our onset, or never stopped."""
    words = wav_to_ulaw(
        caller_wav(BARGE_IN, voice=voice, rate=8000, cache=CACHE), work_dir / "barge.ulaw", pad_s=0
    ).read_bytes()
    onset = first_loud_byte(words, dbfs=CALLER_END_DBFS)
    if onset is None:
        raise RuntimeError(f"the caller audio for {BARGE_IN!r} is silent")
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    # start over speech, not over a pause between the agent's sentences
    deadline = time.monotonic() + 2.0
    while _quiet_for(sink, 0.05) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    onset_byte = sink.speech_queued + onset
    sink.say(words)
    await wait_for(partial(_sent, sink, onset_byte), 10, "the barge-in to be sent")
    onset_at = sink.sent_at(onset_byte)
    assert onset_at is not None
    await asyncio.sleep(STOPPED_QUIET_S + 1.0)
    stop = stopped_at(sink.heard_since(onset_at - 2.0), onset_at)
    return None if stop is None else round(stop - onset_at, 3)


def _quiet_for(sink: RtpSink, seconds: float) -> bool:
    """Whether the agent's last ``seconds`` at the phone were quiet."""
    recent = sink.heard_since(time.monotonic() - seconds)
    return not any(rms_dbfs(pcm) > AGENT_LOUD_DBFS for _, pcm in recent)


def _start_worker(
    run_dir: Path, config: str, index: int, otlp: str
) -> tuple[Settings, ManagedProcess]:
    env = {**parse_config(config), **({"NAVAN_OTLP_ENDPOINT": otlp} if otlp else {})}
    with patched_env(env):
        settings = load_settings()
        log = run_dir / f"worker-{index}-{config.replace('=', '-').replace('+', '_')}.log"
        logger.info("worker %d (%s) starting", index, config)
        proc = start_worker(settings, settings.livekit_url, log, index)
    return settings, proc


async def _run(
    run_dir: Path,
    configs: list[str],
    calls: int,
    reply_timeout_s: float,
    receiver: Receiver | None,
    barge_in_s: float | None = None,
) -> Any:
    out: list[PhoneCall] = []
    timelines: dict[str, list[dict[str, Any]]] = {}  # per config, with a span receiver
    replies: list[Any] = []
    loads: list[tuple[float, float, float]] = []
    with phone_stack(run_dir) as (stack, db_url):
        base = load_settings()
        lk = _api(base)
        try:
            await provision.setup(lk, trunk_settings(base, stack))
            for index, config in enumerate(configs):
                # the worker reads its settings from the environment at start: one per config
                otlp = receiver.endpoint if receiver is not None else ""
                settings, proc = _start_worker(run_dir, config, index, otlp)
                mark = len(receiver.spans) if receiver is not None else 0
                try:
                    wait_job_processes(proc, 1, 120.0)
                    for i in range(calls):
                        voice = VOICES[i % len(VOICES)]
                        loads.append(load_avg())
                        call, heard = await one_call(
                            settings,
                            stack,
                            lk,
                            voice=voice,
                            config=config,
                            work_dir=run_dir / f"call-{index}-{i}",
                            reply_timeout_s=reply_timeout_s,
                            barge_in_s=barge_in_s,
                        )
                        out.append(call)
                        replies.extend(heard)
                    if receiver is not None:
                        await asyncio.sleep(7.0)  # the worker's batch exporter sends every 5 s
                        found = turn_timelines(receiver.spans[mark:])
                        timelines.setdefault(config, []).extend(found)
                finally:
                    proc.stop(timeout=15.0)
        finally:
            await lk.aclose()
        attach_worker_turns(db_url, out)
        # each turn split where the worker sees it: uplink, worker, downlink (bench/e2e/split.py)
        split = {
            config: split_calls(db_url, [c.as_dict() for c in out if c.config == config])
            for config in dict.fromkeys(configs)
        }
    logger.info("transcribing %d replies (what the phone heard)", len(replies))
    for turn, pcm in replies:
        turn.heard = transcribe_8k(pcm) if pcm.size else ""
    after_commit = {config: summarize_spans(found) for config, found in timelines.items()}
    return out, loads, split, after_commit


WORKER_STAGES = ("eou_delay_ms", "transcription_delay_ms", "llm_ttft_ms", "tts_ttfb_ms",
                 "e2e_latency_ms")  # fmt: skip


def attach_worker_turns(database_url: str, calls: list[PhoneCall], wait_s: float = 30.0) -> None:
    """Each call's turns as the worker measured them (the recording index: livekit's turn
    metrics, and what its STT heard), found by the time the call started."""
    from navan_voice.db.engine import make_session_factory
    from navan_voice.recording.index import get_call, list_calls

    factory = make_session_factory(database_url)
    wait_calls_finalized(factory, wait_s)
    for call in calls:
        if len(call.window_utc) != 2:
            continue
        start, end = (datetime.fromisoformat(t) for t in call.window_utc)
        found = list_calls(factory, since=start, until=end, limit=5)
        if len(found) != 1 or (detail := get_call(factory, found[0].id)) is None:
            logger.warning("no single recorded call in %s–%s (found %d)", start, end, len(found))
            continue
        call.worker_turns = [
            {"user_text": t.user_text, **{k: getattr(t, k) for k in WORKER_STAGES}}
            for t in detail.turns
        ]


def summarize(calls: list[PhoneCall]) -> dict[str, Any]:
    """Latency percentiles per config (in the order first run), and over all calls."""
    per: dict[str, list[float | None]] = {}
    for call in calls:
        per.setdefault(call.config, []).extend(t.latency_s for t in call.turns)
        per[call.config].extend([None] * (len(TRAVEL_TURNS) - len(call.turns)))
    every = [x for values in per.values() for x in values]
    stages: dict[str, dict[str, Any]] = {}
    for config in per:
        turns = [t for c in calls if c.config == config for t in c.worker_turns]
        stages[config] = {
            k: percentiles([t[k] / 1000 if t[k] is not None else None for t in turns])
            for k in WORKER_STAGES
        }
    return {
        "per_config": {k: percentiles(v) for k, v in per.items()},
        "bargein_s": {
            k: percentiles([c.bargein_s for c in calls if c.config == k])
            for k in per
            if any(c.config == k and c.bargein_s is not None for c in calls)
        },
        "latency_s": percentiles(every),
        # the worker's own turn metrics, in seconds (the recording index)
        "worker_stages_s": stages,
    }


def run(
    *,
    configs: list[str] | None = None,
    calls: int = 2,
    reply_timeout_s: float = 20.0,
    spans: bool = False,
    barge_in_s: float | None = None,
) -> dict[str, Any]:
    """The phone-path benchmark; ``calls`` calls per config (voices alternate). ``spans``: the
    workers export their trace spans to a receiver here, and each turn's time after the commit
    is dated from them (bench/e2e/spans.py)."""
    configs = configs or ["default"]
    for config in configs:
        parse_config(config)  # a wrong config fails before anything starts
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir = RESULTS / "runs" / f"phone-{stamp}-{uuid.uuid4().hex[:4]}"
    run_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    load_before = load_avg()
    with contextlib.ExitStack() as stack:
        receiver = stack.enter_context(Receiver()) if spans else None
        result, loads, split, after_commit = asyncio.run(
            _run(run_dir, configs, calls, reply_timeout_s, receiver, barge_in_s)
        )
    payload: dict[str, Any] = {
        "path": "sipp → livekit-sip (G.711 µ-law) → livekit-server → local-profile worker",
        "configs": configs,
        "calls_per_config": calls,
        "turns_per_call": len(TRAVEL_TURNS),
        "load_avg_before": load_before,
        "load_avg_per_call": loads,
        "load_avg_after": load_avg(),
        "wall_s": round(time.monotonic() - started, 1),
        **summarize(result),
        "split_s": split,
        "after_commit": after_commit,
        "calls": [c.as_dict() for c in result],
        "run_dir": str(run_dir),
    }
    save("phone", payload)
    return payload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--configs",
        default="default",
        help="comma list, run in this order, one worker each: "
        f"{', '.join(sorted(NAMED))} or NAVAN_KEY=VALUE[+NAVAN_KEY=VALUE]",
    )
    parser.add_argument("--calls", type=int, default=2, help="calls per config (voices alternate)")
    parser.add_argument("--reply-timeout", type=float, default=20.0)
    parser.add_argument(
        "--spans", action="store_true", help="date each turn's steps after the commit (trace)"
    )
    parser.add_argument(
        "--barge-in",
        type=float,
        default=None,
        metavar="S",
        help="the caller speaks over the last reply S seconds after it starts (4: past livekit's "
        "3 s echo warm-up); time until the agent's audio stops at the phone",
    )
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("livekit", "httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    payload = run(
        configs=args.configs.split(","),
        calls=args.calls,
        reply_timeout_s=args.reply_timeout,
        spans=args.spans,
        barge_in_s=args.barge_in,
    )
    for config, stats in payload["per_config"].items():
        print(f"{config:>28}: {stats}")
        parts = payload["split_s"].get(config) or {}
        print(" " * 30 + "  ".join(f"{k} p50 {v.get('p50')}" for k, v in parts.items()))
        for name, value in (payload["after_commit"].get(config) or {}).items():
            print(" " * 30 + f"{name}: {value}")
    for config, stats in payload["bargein_s"].items():
        print(f"{config:>28}: barge-in {stats}")
    print(f"{'all':>28}: {payload['latency_s']}")


if __name__ == "__main__":
    main()
