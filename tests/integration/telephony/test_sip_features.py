"""Phone behaviours over real SIP and RTP (sipp ↔ livekit-sip ↔ livekit-server ↔ worker):
keypad digits, an outbound call with a notice, a cold transfer (REFER) that works and one whose
target does not answer, and a caller who hangs up mid-sentence.

Each test provisions the trunk for its own agent name, starts one worker and places one call;
the agent's audio is captured from RTP by an RtpSink and, where words matter, transcribed.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import soundfile as sf
from bench.telephony.sipp import (
    ANSWERED,
    CALLER_NUMBER,
    INVITE_SCENARIO,
    TWILIO_NUMBER,
    RtpSink,
    free_udp_port,
    sipp_trace,
    start_sipp,
    start_sipp_uas,
    transcribe_8k,
    trunk_settings,
    wait_for,
    wait_until_quiet,
    wav_to_ulaw,
)
from livekit import api
from tests.integration.telephony.conftest import ARTIFACTS
from tests.integration.telephony.scenarios import callee, transferred

from navan_voice.caller.audio import rms_dbfs
from navan_voice.config import Settings, load_settings
from navan_voice.stack.processes import ManagedProcess
from navan_voice.stack.sip import PhoneStack
from navan_voice.stack.up import start_worker
from navan_voice.telephony import provision

pytestmark = [pytest.mark.usefixtures("clean_sip"), pytest.mark.e2e]

CALLEE_NUMBER = "+15557650002"
DESK = "sip:desk@127.0.0.1:5099"  # the human desk REFER names (Twilio would dial it)
NOTICE = "Your flight to Denver was cancelled. I have rebooked you on the six PM flight."


@dataclass
class PhoneWorker:
    """One worker shared by this module's calls (starting one costs ~20 s on 2 cores)."""

    settings: Settings
    proc: ManagedProcess
    offset: int = 0  # where the current test's part of the log starts

    def log(self) -> str:
        """The worker's log since the current test began."""
        with self.proc.log_path.open("rb") as f:
            f.seek(self.offset)
            data: bytes = f.read()
        return data.decode(errors="replace")


@pytest.fixture(scope="module")
def module_worker(
    phone_stack: PhoneStack, database_url: str, run_dir: Path
) -> Iterator[PhoneWorker]:
    yield from phone_worker(
        phone_stack, database_url, run_dir, "navan-phone", {"NAVAN_SIP_TRANSFER_TO": DESK}
    )


def phone_worker(
    phone_stack: PhoneStack,
    database_url: str,
    run_dir: Path,
    prefix: str,
    extra_env: dict[str, str],
) -> Iterator[PhoneWorker]:
    """A real worker under its own agent name with ``extra_env``; its log kept as an artifact."""
    agent_name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    env = {
        "NAVAN_LIVEKIT_URL": phone_stack.url,
        "NAVAN_AGENT_NAME": agent_name,
        "NAVAN_DATABASE_URL": database_url,
        "NAVAN_PROFILE": "local",
        "NAVAN_DATA_DIR": str(run_dir / agent_name),
        **extra_env,
    }
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        settings = load_settings()
        log = run_dir / f"{agent_name}-worker.log"
        proc = start_worker(settings, phone_stack.url, log, 0)
        try:
            yield PhoneWorker(settings, proc)
        finally:
            proc.stop()
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copy(log, ARTIFACTS / log.name)


@pytest.fixture
async def worker(
    module_worker: PhoneWorker, lk: api.LiveKitAPI, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[PhoneWorker]:
    """The shared worker, its log read from this test's start; its settings in the env.
    Every room is closed after the test, so no call (and no agent job) outlives it."""
    module_worker.offset = module_worker.proc.log_path.stat().st_size
    monkeypatch.setenv("NAVAN_AGENT_NAME", module_worker.settings.agent_name)
    monkeypatch.setenv("NAVAN_LIVEKIT_URL", module_worker.settings.livekit_url)
    yield module_worker
    for room in (await lk.room.list_rooms(api.ListRoomsRequest())).rooms:
        await lk.room.delete_room(api.DeleteRoomRequest(room=room.name))


def silence_ulaw(path: Path, seconds: float) -> Path:
    """µ-law silence (0xFF) that keeps RTP flowing so livekit-sip's media timeout never fires."""
    path.write_bytes(b"\xff" * int(8000 * seconds))
    return path


async def finish(proc: subprocess.Popen[str], timeout_s: float) -> tuple[int, str]:
    """Wait for a sipp process; kill it (and fail) if it outlives ``timeout_s``."""
    try:
        out, err = await asyncio.to_thread(proc.communicate, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(
            f"sipp did not finish within {timeout_s:.0f}s:\n{out}\n{err}"
        ) from None
    return proc.returncode, f"{out}\n{err}"


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.communicate()


async def call_rooms(lk: api.LiveKitAPI) -> list[str]:
    rooms = (await lk.room.list_rooms(api.ListRoomsRequest())).rooms
    return [r.name for r in rooms if r.name.startswith(provision.ROOM_PREFIX)]


def caller_scenario(sink: RtpSink, answer: str) -> str:
    return INVITE_SCENARIO.format(
        to=TWILIO_NUMBER, caller=CALLER_NUMBER, rtp_port=sink.port, answer=answer
    )


async def test_dtmf_digits_reach_the_agent(
    lk: api.LiveKitAPI,
    worker: PhoneWorker,
    phone_stack: PhoneStack,
    tmp_path: Path,
) -> None:
    await provision.setup(lk, trunk_settings(worker.settings, phone_stack))
    audio = silence_ulaw(tmp_path / "silence.ulaw", 60)
    sink = RtpSink().start()
    answer = ANSWERED.format(
        to=TWILIO_NUMBER, caller=CALLER_NUMBER, audio=audio, before_ms=200, hold_ms=60_000
    )
    proc = start_sipp(caller_scenario(sink, answer), sip_port=phone_stack.sip.ports.sip,
                      work_dir=tmp_path, timeout_s=90)  # fmt: skip
    try:
        await wait_for(lambda: sink.voiced_s() > 1.0, 60, "the agent's greeting on RTP")
        await wait_until_quiet(sink)
        before = len(sink.payload)
        # RFC 4733 telephone-events, as a phone keypad sends them: 4 2 7 then #
        await asyncio.to_thread(sink.send_dtmf, "427#")
        await wait_for(
            lambda: "caller keyed 3 digits" in worker.log(),
            20,
            f"'caller keyed 3 digits' in {worker.proc.log_path} "
            f"(livekit-sip log: {phone_stack.sip.log_path})",
        )
        # the digits are the caller's turn: the agent answers them
        await wait_for(lambda: sink.voiced_s(since=before) > 0.5, 30, "the agent's reply")
        await wait_until_quiet(sink)
        reply = transcribe_8k(sink.decode_from(before))
        print(f"agent's reply to the digits: {reply!r}")
        assert reply.strip(), "the agent's reply to the keyed digits was not speech"
    finally:
        stop(proc)
        sink.stop()


async def test_call_out_reaches_a_sipp_callee_who_hears_the_notice(
    lk: api.LiveKitAPI,
    worker: PhoneWorker,
    phone_stack: PhoneStack,
    tmp_path: Path,
) -> None:
    callee_port = free_udp_port()
    termination = f"127.0.0.1:{callee_port}"
    settings = trunk_settings(worker.settings, phone_stack).model_copy(
        update={"sip_termination_uri": termination}
    )
    changes = await provision.setup(lk, settings)
    assert any(c.kind == "outbound trunk" and c.action == "created" for c in changes), changes
    sink = RtpSink().start()
    uas = start_sipp_uas(
        callee(rtp_port=sink.port, audio=str(silence_ulaw(tmp_path / "silence.ulaw", 10))),
        port=callee_port,
        work_dir=tmp_path,
        timeout_s=90,
    )
    try:
        # the real command, as an operator runs it
        env = {
            **os.environ,
            "NAVAN_SIP_TERMINATION_URI": termination,
            "NAVAN_TWILIO_NUMBERS": TWILIO_NUMBER,
        }
        started = time.monotonic()
        cli = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "navan_voice.cli", "call-out", CALLEE_NUMBER, "-m", NOTICE],
            env=env, capture_output=True, text=True, timeout=90,
        )  # fmt: skip
        answered_s = time.monotonic() - started
        assert cli.returncode == 0, f"call-out failed:\n{cli.stdout}\n{cli.stderr}"
        room = re.search(r"in room (\S+)", cli.stdout + cli.stderr)
        assert room, f"call-out did not name the room:\n{cli.stdout}\n{cli.stderr}"
        print(f"call-out returned (answered) after {answered_s:.2f}s")
        await wait_for(lambda: sink.voiced_s() > 2.0, 60, "the notice on the callee's RTP")
        await wait_until_quiet(sink)
        text = transcribe_8k(sink.decode_from(0))
        print(f"callee heard: {text!r}")
        assert re.search(r"cancel|rebook|denver", text, re.I), f"callee heard: {text!r}"
        await lk.room.delete_room(api.DeleteRoomRequest(room=room.group(1)))
        rc, out = await finish(uas, 20)  # the callee answers livekit-sip's BYE and exits
        trace = sipp_trace(tmp_path)
        assert rc == 0, f"the callee's sipp failed:\n{out}\n{trace[-3000:]}"
        invite = trace[trace.index("INVITE sip:") :].split("\n\n")[0]
        assert CALLEE_NUMBER.lstrip("+") in invite.splitlines()[0], invite
        assert TWILIO_NUMBER.lstrip("+") in re.search(r"From:.*", invite).group(0), invite  # type: ignore[union-attr]
        assert "BYE sip:" in trace, "livekit-sip did not hang up the callee when the room closed"
        # the notice must be the first thing the callee hears, before any inbound-style greeting
        first = re.search(r"cancel|denver|rebook|help you|confirmation", text, re.I)
        assert first is not None and re.match(r"cancel|denver|rebook", first.group(0), re.I), (
            f"the notice was not the first thing the callee heard: {text!r}"
        )
    finally:
        stop(uas)
        sink.stop()


async def _transfer_call(
    *,
    lk: api.LiveKitAPI,
    worker: PhoneWorker,
    phone_stack: PhoneStack,
    caller_wav: Callable[[str], Path],
    tmp_path: Path,
    notify_status: str,
) -> tuple[int, str, str, RtpSink, int | None]:
    """A caller asks for a person; sipp answers livekit-sip's REFER with 202 and a NOTIFY
    carrying ``notify_status``. Returns sipp's exit code and output, its SIP trace, the sink,
    and the sink's payload offset when the REFER arrived (None: no REFER)."""
    await provision.setup(lk, trunk_settings(worker.settings, phone_stack))
    # the words, then silence that keeps RTP flowing while the caller listens
    audio = wav_to_ulaw(caller_wav("I want to talk to a person."), tmp_path / "in.ulaw", pad_s=60)
    sink = RtpSink().start()
    answer = transferred(to=TWILIO_NUMBER, caller=CALLER_NUMBER, audio=str(audio),
                         before_ms=9000, notify_status=notify_status, refer_wait_ms=60_000,
                         hold_ms=15_000)  # fmt: skip
    proc = start_sipp(caller_scenario(sink, answer), sip_port=phone_stack.sip.ports.sip,
                      work_dir=tmp_path, timeout_s=110)  # fmt: skip
    refer_at: int | None = None
    try:
        deadline = time.monotonic() + 100
        while proc.poll() is None and time.monotonic() < deadline:
            if refer_at is None and "REFER sip:" in sipp_trace(tmp_path):
                refer_at = len(sink.payload)
            await asyncio.sleep(0.2)
        rc, out = await finish(proc, 15)
    finally:
        stop(proc)
        sink.stop()
    return rc, out, sipp_trace(tmp_path), sink, refer_at


async def test_cold_transfer_sends_refer_to_the_desk(
    lk: api.LiveKitAPI,
    worker: PhoneWorker,
    phone_stack: PhoneStack,
    caller_wav: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    rc, out, trace, sink, refer_at = await _transfer_call(
        lk=lk, worker=worker, phone_stack=phone_stack, caller_wav=caller_wav,
        tmp_path=tmp_path, notify_status="200 OK",
    )  # fmt: skip
    log = worker.log()
    assert refer_at is not None, (
        f"livekit-sip sent no REFER within 60s of 'I want to talk to a person'; worker log: "
        f"{worker.proc.log_path}\n{out[-2000:]}"
    )
    refer = trace[trace.index("REFER sip:") :].split("\n\n")[0]
    refer_to = re.search(r"Refer-To:\s*<?([^>\s]+)", refer)
    assert refer_to and refer_to.group(1) == DESK, f"REFER names the wrong target:\n{refer}"
    # before the line moved, the caller heard where they were going
    said = transcribe_8k(sink.decode_from(0)[:refer_at])
    print(f"agent before the REFER: {said!r}")
    assert re.search(r"transfer|colleague|connect", said, re.I), f"agent said: {said!r}"
    # after NOTIFY 200 livekit-sip hangs up its leg (the scenario waits for that BYE)
    assert rc == 0, f"sipp (caller) failed after the transfer:\n{out[-3000:]}\n{trace[-3000:]}"
    assert "cold transfer with summary" in log
    assert "transfer of call" not in log, "the worker logged a failed transfer"


async def test_transfer_target_not_answering_keeps_the_caller(
    lk: api.LiveKitAPI,
    worker: PhoneWorker,
    phone_stack: PhoneStack,
    caller_wav: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    # the desk rings out: Twilio reports the new leg's failure in the NOTIFY
    rc, out, trace, sink, refer_at = await _transfer_call(
        lk=lk, worker=worker, phone_stack=phone_stack, caller_wav=caller_wav,
        tmp_path=tmp_path, notify_status="480 Temporarily Unavailable",
    )  # fmt: skip
    assert refer_at is not None, f"no REFER reached the caller; worker log {worker.proc.log_path}"
    # the caller stayed 15 s after the failed NOTIFY and hung up itself: a BYE from livekit-sip
    # in that time would be an unexpected message and fail sipp
    assert rc == 0, f"the caller was dropped or sipp failed:\n{out[-3000:]}\n{trace[-3000:]}"
    assert trace.count("BYE sip:") == 1, "someone other than the caller hung up"
    log = worker.log()
    assert re.search(r"transfer of call \S+ failed", log), (
        f"no failed transfer in {worker.proc.log_path}"
    )
    told = transcribe_8k(sink.decode_from(refer_at))
    print(f"agent after the failed transfer: {told!r}")
    assert re.search(r"transfer|through|colleague|follow|sorry|apolog", told, re.I), told


async def test_caller_hanging_up_mid_sentence_ends_the_call_cleanly(
    lk: api.LiveKitAPI,
    worker: PhoneWorker,
    phone_stack: PhoneStack,
    caller_wav: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    from navan_voice.db.engine import make_session_factory
    from navan_voice.recording.index import get_call, list_calls

    await provision.setup(lk, trunk_settings(worker.settings, phone_stack))
    sentence = "Hello, I need to change my flight to Boston next Tuesday because my meeting moved."
    audio = wav_to_ulaw(caller_wav(sentence), tmp_path / "in.ulaw")
    sink = RtpSink().start()
    # the caller starts the sentence after the greeting and hangs up 1.5 s into it
    answer = ANSWERED.format(
        to=TWILIO_NUMBER, caller=CALLER_NUMBER, audio=audio, before_ms=9000, hold_ms=1500
    )
    earlier = set(await call_rooms(lk))  # rooms of earlier calls may still be closing
    proc = start_sipp(caller_scenario(sink, answer), sip_port=phone_stack.sip.ports.sip,
                      work_dir=tmp_path, timeout_s=40)  # fmt: skip
    rooms: list[str] = []
    try:
        deadline = time.monotonic() + 20
        while not rooms and time.monotonic() < deadline:
            rooms = [r for r in await call_rooms(lk) if r not in earlier]
            await asyncio.sleep(0.3)
        rc, out = await finish(proc, 45)
    finally:
        stop(proc)
        sink.stop()
    assert rooms, "no call room appeared for the sipp call"
    assert rc == 0, f"sipp failed:\n{out[-3000:]}"
    assert sink.voiced_s() > 1.0, "the agent never spoke before the caller hung up"
    # the job ends and the recorder finalizes the index row
    factory = make_session_factory(worker.settings.effective_database_url)
    room = rooms[0]
    row = None
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        rows = [c for c in list_calls(factory, limit=200) if c.room == room]
        if rows and rows[0].status != "recording":
            row = rows[0]
            break
        await asyncio.sleep(0.5)
    assert row is not None, f"the call in {room} was not finalized in the index within 45s"
    assert row.status == "complete", row
    assert row.channel == "phone" and row.ended_at is not None, row
    assert row.duration_s is not None and row.duration_s > 5, row
    detail = get_call(factory, row.id)
    assert detail is not None and detail.local_path and Path(detail.local_path).exists(), detail
    recording, _rate = sf.read(detail.local_path, dtype="int16", always_2d=True)
    assert recording.shape[1] == 2 and recording.shape[0] / _rate > 5, recording.shape
    # what the caller managed to say before hanging up is kept (left channel)
    assert rms_dbfs(recording[:, 0]) > -70, "the caller's last words are missing"
    assert "Traceback" not in worker.log(), (
        f"the worker raised while the call ended: {worker.proc.log_path}"
    )
    # the greeting (the only thing the agent said) belongs on the right channel
    assert rms_dbfs(recording[:, 1]) > -70, "the agent's greeting is missing from the recording"
