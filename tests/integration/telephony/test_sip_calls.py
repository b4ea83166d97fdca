"""Real SIP calls: sipp dials livekit-sip, G.711 µ-law RTP both ways, the agent answers.

The agent's audio is captured from RTP, decoded and transcribed with the local Whisper.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from bench.telephony.sipp import (
    ANSWERED,
    CALLER_NUMBER,
    INVITE_SCENARIO,
    TWILIO_NUMBER,
    UNANSWERED,
    RtpSink,
    run_sipp,
    transcribe_8k,
    trunk_settings,
    wav_to_ulaw,
)
from livekit import api

from navan_voice.config import Settings
from navan_voice.stack.processes import ManagedProcess
from navan_voice.stack.sip import PhoneStack
from navan_voice.telephony import provision

WorkerFactory = Callable[[int], ManagedProcess]
pytestmark = [pytest.mark.usefixtures("clean_sip")]


@pytest.mark.e2e
async def test_inbound_call_is_answered_with_speech(
    lk: api.LiveKitAPI,
    stack_settings: Settings,
    phone_stack: PhoneStack,
    workers: WorkerFactory,
    caller_wav: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    await provision.setup(lk, trunk_settings(stack_settings, phone_stack))
    workers(0)
    audio = wav_to_ulaw(caller_wav("Hello, I need help with my flight."), tmp_path / "in.ulaw")
    sink = RtpSink().start()
    scenario = INVITE_SCENARIO.format(
        to=TWILIO_NUMBER,
        caller=CALLER_NUMBER,
        rtp_port=sink.port,
        answer=ANSWERED.format(
            to=TWILIO_NUMBER, caller=CALLER_NUMBER, audio=audio, before_ms=9000, hold_ms=16000
        ),
    )
    result = run_sipp(scenario, sip_port=phone_stack.sip.ports.sip, work_dir=tmp_path)
    pcm = sink.stop()
    sf.write(tmp_path / "agent-8k.wav", pcm, 8000)
    assert result.returncode == 0, f"sipp failed:\n{result.stdout}\n{result.stderr}"
    assert sink.packets > 100, "no RTP came back from livekit-sip"
    spoken = pcm.size / 8000
    assert spoken > 2.0
    assert float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) > 100, "agent audio is silent"
    text = transcribe_8k(pcm)
    assert re.search(r"navan|help|travel|flight", text, re.I), f"agent said: {text!r}"


@pytest.mark.integration
async def test_caller_not_on_allow_list_is_rejected(
    lk: api.LiveKitAPI, sip_settings: Settings, phone_stack: PhoneStack, tmp_path: Path
) -> None:
    await provision.setup(lk, sip_settings)  # allows 127.0.0.1/32 only
    sink = RtpSink().start()
    scenario = INVITE_SCENARIO.format(
        to=TWILIO_NUMBER,
        caller=CALLER_NUMBER,
        rtp_port=sink.port,
        answer=UNANSWERED.format(wait_ms=6000),
    )
    result = run_sipp(
        scenario,
        sip_port=phone_stack.sip.ports.sip,
        work_dir=tmp_path,
        local_ip="127.0.0.2",  # a loopback source the trunk does not allow
        timeout_s=20,
    )
    sink.stop()
    trace = "".join(p.read_text(errors="replace") for p in tmp_path.glob("*_messages.log"))
    assert "INVITE sip:" in trace, f"sipp sent nothing:\n{result.stdout}\n{result.stderr}"
    assert "SIP/2.0 200" not in trace, "the call was answered from a source not allowed"
    assert sink.packets == 0
    rooms = await lk.room.list_rooms(api.ListRoomsRequest())
    assert not [r for r in rooms.rooms if r.name.startswith(provision.ROOM_PREFIX)]
    log = phone_stack.sip.log_path.read_text(errors="replace")
    assert "not authorized" in log or "Rejecting inbound" in log
