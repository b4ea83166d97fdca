"""Warm transfer over real SIP and RTP: the agent dials the human desk (a sipp callee) through
the outbound trunk, briefs them while the caller holds, and connects both when the desk keys 1;
a desk that keys 2 leaves the caller with the agent. The same worker (short silence timeout)
also shows a silent line being prompted, then ended politely.

Both phones talk through their RtpSink (``start_talking``): the caller's words, the desk's
words and the desk's keys are RTP we send; what each side hears is the RTP livekit-sip sends
back, transcribed with the local Whisper.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from bench.telephony.sipp import (
    RtpSink,
    free_udp_port,
    sipp_trace,
    start_sipp,
    start_sipp_uas,
    talking_caller,
    transcribe_8k,
    trunk_settings,
    wait_for,
    wait_until_quiet,
    wav_to_ulaw,
)
from livekit import api
from tests.integration.telephony.scenarios import callee
from tests.integration.telephony.test_sip_features import (
    PhoneWorker,
    call_rooms,
    finish,
    phone_worker,
    stop,
)

from navan_voice.db.seed import DEMO_PHONE
from navan_voice.stack.sip import PhoneStack
from navan_voice.telephony import provision
from navan_voice.telephony.warm import DESK_IDENTITY

pytestmark = [pytest.mark.usefixtures("clean_sip"), pytest.mark.e2e]

DESK_NUMBER = "+15557650009"
DESK_PORT = free_udp_port()  # where the desk's sipp listens (the outbound trunk's address)


@pytest.fixture(scope="module")
def warm_worker(phone_stack: PhoneStack, database_url: str, run_dir: Path) -> Iterator[PhoneWorker]:
    yield from phone_worker(
        phone_stack,
        database_url,
        run_dir,
        "navan-warm",
        {
            "NAVAN_SIP_TRANSFER_MODE": "warm",
            "NAVAN_SIP_TRANSFER_TO": DESK_NUMBER,
            "NAVAN_SIP_WARM_ACCEPT_S": "20",  # the test keys 1 or 2 well before this
            "NAVAN_SIP_SILENCE_TIMEOUT_S": "16",  # prompt after 8 s of silence, hang up after 16
        },
    )


@asynccontextmanager
async def _call(
    lk: api.LiveKitAPI,
    worker: PhoneWorker,
    phone_stack: PhoneStack,
    tmp_path: Path,
    *,
    caller_hold_ms: int,
    caller_hangs_up: bool = True,
) -> AsyncIterator[
    tuple[RtpSink, RtpSink, subprocess.Popen[str], subprocess.Popen[str], Path, Path]
]:
    """Trunks for the call and the desk, the desk's sipp waiting, the caller's sipp dialled;
    both phones and both sipps are stopped on the way out."""
    settings = trunk_settings(worker.settings, phone_stack).model_copy(
        update={"sip_termination_uri": f"127.0.0.1:{DESK_PORT}"}
    )
    await provision.setup(lk, settings)
    desk_dir, caller_dir = tmp_path / "desk", tmp_path / "caller"
    desk_dir.mkdir()
    caller_dir.mkdir()
    desk = RtpSink().start().start_talking()
    desk_sipp = start_sipp_uas(callee(rtp_port=desk.port, audio=None, hold_ms=150_000),
                               port=DESK_PORT, work_dir=desk_dir, timeout_s=170)  # fmt: skip
    caller = RtpSink().start().start_talking()
    scenario = talking_caller(caller, caller_hold_ms, caller=DEMO_PHONE, hangs_up=caller_hangs_up)
    caller_sipp = start_sipp(scenario,
                             sip_port=phone_stack.sip.ports.sip, work_dir=caller_dir,
                             timeout_s=caller_hold_ms / 1000 + 40)  # fmt: skip
    try:
        yield caller, desk, caller_sipp, desk_sipp, caller_dir, desk_dir
    finally:
        stop(caller_sipp)
        stop(desk_sipp)
        caller.stop()
        desk.stop()


async def _ask_for_a_person(caller: RtpSink, caller_wav: Callable[[str], Path], tmp: Path) -> None:
    await wait_for(lambda: caller.voiced_s() > 1.5, 40, "the agent's greeting")
    await wait_until_quiet(caller)
    words = wav_to_ulaw(caller_wav("I want to talk to a person."), tmp / "ask.ulaw")
    caller.say(words.read_bytes())


async def _briefing(desk: RtpSink, desk_sipp: subprocess.Popen[str], worker: PhoneWorker) -> str:
    """Wait for the desk to ring and hear the whole briefing; returns what it heard."""
    await wait_for(
        lambda: desk.voiced_s() > 3.0 or desk_sipp.poll() is not None,
        90,
        f"the briefing at the desk (worker log {worker.proc.log_path})",
    )
    assert desk_sipp.poll() is None, "the desk's sipp ended before the briefing"
    await wait_until_quiet(desk, quiet_s=2.0, timeout_s=60)
    heard = transcribe_8k(desk.decode_from(0))
    print(f"desk heard: {heard!r}")
    return heard


def _heard_speech(pcm: np.ndarray) -> str:
    return transcribe_8k(pcm) if pcm.size else ""


async def test_warm_transfer_briefs_the_desk_then_connects_the_caller(
    lk: api.LiveKitAPI,
    warm_worker: PhoneWorker,
    phone_stack: PhoneStack,
    caller_wav: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    warm_worker.offset = warm_worker.proc.log_path.stat().st_size
    async with _call(lk, warm_worker, phone_stack, tmp_path, caller_hold_ms=110_000) as (
        caller,
        desk,
        caller_sipp,
        desk_sipp,
        _,
        desk_dir,
    ):
        await _ask_for_a_person(caller, caller_wav, tmp_path)
        heard = await _briefing(desk, desk_sipp, warm_worker)
        # who is calling (the demo number is Alex Rivera at Acme), and what to press
        assert re.search(r"alex|rivera|acme", heard, re.I), f"the briefing was: {heard!r}"
        assert re.search(r"press|one|1", heard, re.I), f"the briefing was: {heard!r}"
        # while the desk was briefed the caller heard hold music, not silence
        on_hold = caller.decode_from(len(caller.payload) - 8000 * 3)
        assert np.sqrt(np.mean(on_hold.astype(np.float64) ** 2)) > 100, "no hold music"

        room = next(r for r in await call_rooms(lk) if not r.endswith("-desk"))
        desk.key("1")
        await asyncio.sleep(1.5)
        at_caller = len(caller.payload)
        desk_spoke_at = time.time()
        spoken = desk.say(
            wav_to_ulaw(
                caller_wav("Hello, this is Sam at the travel desk. How can I help?"),
                tmp_path / "desk.ulaw",
            ).read_bytes()
        )
        await asyncio.sleep(spoken + 1.5)
        caller_heard = _heard_speech(caller.decode_from(at_caller))
        print(f"caller heard from the desk: {caller_heard!r}")
        assert re.search(r"travel desk|sam|help", caller_heard, re.I), caller_heard

        at_desk = len(desk.payload)
        caller_spoke_at = time.time()
        spoken = caller.say(
            wav_to_ulaw(
                caller_wav("My flight to Boston was cancelled."), tmp_path / "c2.ulaw"
            ).read_bytes()
        )
        await asyncio.sleep(spoken + 1.5)
        desk_heard = _heard_speech(desk.decode_from(at_desk))
        print(f"desk heard from the caller: {desk_heard!r}")
        assert re.search(r"boston|flight|cancel", desk_heard, re.I), desk_heard

        # the worker connected the two (and logged it)
        log = warm_worker.log()
        assert "warm transfer: caller" in log and "connected to the desk" in log, log[-3000:]

        # the caller hangs up: livekit-sip ends the desk's leg as well
        rc, out = await finish(caller_sipp, 140)
        assert rc == 0, f"the caller's sipp failed:\n{out[-3000:]}"
        rc, out = await finish(desk_sipp, 30)
        assert rc == 0, f"the desk was not hung up after the caller left:\n{out[-3000:]}"
        assert "BYE sip:" in sipp_trace(desk_dir)
    assert "Traceback" not in warm_worker.log(), warm_worker.proc.log_path
    # the call's recording holds the bridged part: the colleague on our side (right), the
    # caller on theirs (left), while the agent itself was silent
    recording, rate, started = await _recording(warm_worker, room)
    right = _loudest_rms(recording[:, 1], rate, desk_spoke_at - started)
    left = _loudest_rms(recording[:, 0], rate, caller_spoke_at - started)
    print(f"recording: colleague rms {right:.0f}, caller rms {left:.0f}")
    assert right > 300, "the colleague's words are missing from the call's recording"
    assert left > 300, "the caller's words to the colleague are missing from the recording"


async def _recording(worker: PhoneWorker, room: str) -> tuple[np.ndarray, int, float]:
    """The finished recording of the call in ``room``: samples, rate, wall time it starts."""
    from navan_voice.db.engine import make_session_factory
    from navan_voice.recording.index import get_call, list_calls

    factory = make_session_factory(worker.settings.effective_database_url)
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        rows = [c for c in list_calls(factory, limit=200) if c.room == room]
        if rows and rows[0].status != "recording":
            detail = get_call(factory, rows[0].id)
            assert detail is not None and detail.local_path, detail
            samples, rate = sf.read(detail.local_path, dtype="int16", always_2d=True)
            return samples, int(rate), rows[0].started_at.replace(tzinfo=UTC).timestamp()
        await asyncio.sleep(0.5)
    raise AssertionError(f"the call in {room} was not finalized in the index within 45s")


def _loudest_rms(channel: np.ndarray, rate: int, at_s: float) -> float:
    """The loudest 0.5 s of ``channel`` from 2 s before ``at_s`` to 6 s after (the index's
    start time and the recording's first sample differ by up to a second or two)."""
    lo, hi = max(0, int((at_s - 2) * rate)), int((at_s + 6) * rate)
    part = channel[lo:hi].astype(np.float64)
    step = rate // 2
    windows = [part[i : i + step] for i in range(0, max(1, part.size - step), step)]
    return max((float(np.sqrt(np.mean(w**2))) for w in windows if w.size), default=0.0)


async def test_warm_transfer_declined_by_the_desk_keeps_the_caller(
    lk: api.LiveKitAPI,
    warm_worker: PhoneWorker,
    phone_stack: PhoneStack,
    caller_wav: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    warm_worker.offset = warm_worker.proc.log_path.stat().st_size
    async with _call(
        lk, warm_worker, phone_stack, tmp_path, caller_hold_ms=120_000, caller_hangs_up=False
    ) as (caller, desk, caller_sipp, desk_sipp, _, _):
        await _ask_for_a_person(caller, caller_wav, tmp_path)
        await _briefing(desk, desk_sipp, warm_worker)
        at_caller = len(caller.payload)
        desk.key("2")
        # the desk's leg ends (its sipp answers livekit-sip's BYE and exits)...
        rc, out = await finish(desk_sipp, 30)
        assert rc == 0, f"the desk's call was not ended after it declined:\n{out[-3000:]}"
        # ...and the caller, still on the line, hears the agent again
        await wait_for(lambda: caller.voiced_s(since=at_caller) > 1.5, 30, "the agent's apology")
        await wait_until_quiet(caller)
        told = _heard_speech(caller.decode_from(at_caller))
        print(f"caller heard after the decline: {told!r}")
        assert re.search(r"sorry|apolog|through|colleague|follow", told, re.I), told
        assert re.search(r"transfer of call \S+ failed", warm_worker.log())
        await asyncio.sleep(2.0)
        assert caller_sipp.poll() is None, "the caller was dropped after the decline"
        # the call goes on with the agent; the test ends it (livekit-sip's BYE is expected)
        room = next(r for r in await call_rooms(lk) if not r.endswith("-desk"))
        await lk.room.delete_room(api.DeleteRoomRequest(room=room))
        rc, out = await finish(caller_sipp, 30)
        assert rc == 0, f"the caller's sipp failed:\n{out[-3000:]}"


async def test_silence_on_the_line_prompts_then_ends_the_call_politely(
    lk: api.LiveKitAPI,
    warm_worker: PhoneWorker,
    phone_stack: PhoneStack,
    tmp_path: Path,
) -> None:
    """The caller says nothing: after half of NAVAN_SIP_SILENCE_TIMEOUT_S the agent asks
    whether they are still there, after the rest it says goodbye and hangs up (BYE)."""
    warm_worker.offset = warm_worker.proc.log_path.stat().st_size
    async with _call(
        lk, warm_worker, phone_stack, tmp_path, caller_hold_ms=90_000, caller_hangs_up=False
    ) as (caller, _, caller_sipp, _, caller_dir, _):
        rc, out = await finish(caller_sipp, 100)  # ends when livekit-sip hangs up
        assert rc == 0, f"the agent did not hang up on a silent line:\n{out[-3000:]}"
        assert "BYE sip:" in sipp_trace(caller_dir)
    heard = transcribe_8k(caller.decode_from(0))
    print(f"the silent caller heard: {heard!r}")
    still = re.search(r"still there", heard, re.I)
    bye = re.search(r"goodbye|end the call", heard, re.I)
    assert still and bye and still.start() < bye.start(), heard
    log = warm_worker.log()
    assert "caller silent: prompting" in log and "ending the call" in log


async def test_colleague_leaving_hands_the_caller_back_to_the_agent(
    lk: api.LiveKitAPI,
    warm_worker: PhoneWorker,
    phone_stack: PhoneStack,
    caller_wav: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    warm_worker.offset = warm_worker.proc.log_path.stat().st_size
    async with _call(
        lk, warm_worker, phone_stack, tmp_path, caller_hold_ms=120_000, caller_hangs_up=False
    ) as (caller, desk, caller_sipp, desk_sipp, _, _):
        await _ask_for_a_person(caller, caller_wav, tmp_path)
        await _briefing(desk, desk_sipp, warm_worker)
        desk.key("1")
        await wait_for(
            lambda: "connected to the desk" in warm_worker.log(), 20, "the caller connected"
        )
        # the colleague's leg ends (as when they hang up): livekit-sip BYEs the desk
        room = next(r for r in await call_rooms(lk) if not r.endswith("-desk"))
        at_caller = len(caller.payload)
        await lk.room.remove_participant(
            api.RoomParticipantIdentity(room=f"{room}-desk", identity=DESK_IDENTITY)
        )
        rc, out = await finish(desk_sipp, 30)
        assert rc == 0, f"the desk's leg was not ended:\n{out[-3000:]}"
        # the agent is back: it speaks to the caller, who is still on the line
        await wait_for(lambda: caller.voiced_s(since=at_caller) > 1.5, 30, "the agent back")
        await wait_until_quiet(caller)
        told = _heard_speech(caller.decode_from(at_caller))
        print(f"caller heard after the colleague left: {told!r}")
        assert re.search(r"colleague|anything else|help", told, re.I), told
        assert caller_sipp.poll() is None, "the caller was dropped when the colleague left"
        await lk.room.delete_room(api.DeleteRoomRequest(room=room))
        rc, out = await finish(caller_sipp, 30)
        assert rc == 0, f"the caller's sipp failed:\n{out[-3000:]}"
