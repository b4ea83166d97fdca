"""How the phone-path benchmark dates a turn: the caller's last sound in the µ-law it sends,
the agent's first loud packet it receives, and the real RTP socket's send/arrival times."""

from __future__ import annotations

import socket
import struct
import time

import numpy as np
import pytest
from bench.telephony.phone_latency import (
    WORKER_STAGES,
    PhoneCall,
    PhoneTurn,
    parse_config,
    summarize,
)
from bench.telephony.sipp import (
    FRAME_BYTES,
    RtpSink,
    first_loud_arrival,
    first_loud_byte,
    frame_dbfs,
    free_media_port,
    last_loud_byte,
)

pytestmark = pytest.mark.unit

SILENCE = b"\xff" * FRAME_BYTES  # µ-law 0xFF decodes to 0


def ulaw_encode(pcm: np.ndarray) -> bytes:
    """int16 → G.711 µ-law (the inverse of sipp.ulaw_decode, for building test audio)."""
    x = np.clip(pcm.astype(np.int32), -32635, 32635)
    sign = np.where(x < 0, 0x80, 0)
    magnitude = np.abs(x) + 0x84
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return bytes((~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8))


def tone(frames: int, amplitude: float) -> bytes:
    t = np.arange(frames * FRAME_BYTES) / 8000
    return ulaw_encode((amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.int16))


def test_frame_level_follows_the_amplitude() -> None:
    assert frame_dbfs(SILENCE) == float("-inf")
    loud, soft = frame_dbfs(tone(1, 10000)), frame_dbfs(tone(1, 100))
    assert -14 < loud < -10  # a sine of 10000/32768 has RMS ≈ -13.3 dBFS
    assert soft < -45 < loud


def test_the_callers_last_sound_ends_after_its_last_loud_frame() -> None:
    words = SILENCE * 2 + tone(5, 8000) + tone(1, 50) + SILENCE * 10
    end = last_loud_byte(words, dbfs=-45)
    assert end == 7 * FRAME_BYTES  # the soft frame and the quiet after it are not speech
    assert last_loud_byte(SILENCE * 4, dbfs=-45) is None


def test_the_callers_onset_is_the_start_of_its_first_loud_frame() -> None:
    words = SILENCE * 3 + tone(1, 50) + tone(4, 8000) + SILENCE
    assert first_loud_byte(words, dbfs=-45) == 4 * FRAME_BYTES
    assert first_loud_byte(SILENCE * 2, dbfs=-45) is None


def test_what_the_phone_heard_since_a_time_comes_packet_by_packet() -> None:
    sink = RtpSink()
    try:
        sink.payload += SILENCE + tone(1, 8000) + SILENCE
        sink.arrivals += [(1.00, 160), (1.02, 320), (1.04, 480)]
        heard = sink.heard_since(1.01)
        assert [at for at, _ in heard] == [1.02, 1.04]
        assert np.abs(heard[0][1]).max() > 5000 and np.abs(heard[1][1]).max() == 0
    finally:
        sink.stop()


def test_the_agents_first_loud_packet_is_found_after_the_callers_last_sound() -> None:
    payload = SILENCE + tone(1, 8000) + SILENCE * 2 + tone(1, 8000)
    arrivals = [(1.00, 160), (1.02, 320), (1.04, 480), (1.06, 640), (1.08, 800)]
    # the loud packet at 1.02 came before the caller finished: the reply is the one at 1.08
    assert first_loud_arrival(arrivals, payload, 1.03, dbfs=-50) == pytest.approx(1.08)
    assert first_loud_arrival(arrivals, payload, 0.5, dbfs=-50) == pytest.approx(1.02)
    assert first_loud_arrival(arrivals, payload, 1.08, dbfs=-50) is None


def test_a_talking_sink_dates_what_it_sends_and_what_it_hears() -> None:
    """Over real UDP on loopback: the far end (a plain socket) starts the sink talking by
    sending it a packet; the sink's words go out every 20 ms and are dated; the far end's loud
    reply is dated on arrival."""
    far = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    far.bind(("127.0.0.1", 0))
    far.settimeout(2.0)
    sink = RtpSink().start().start_talking()
    try:

        def send(payload: bytes, seq: int) -> None:
            header = struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 7)
            far.sendto(header + payload, sink.sock.getsockname())

        send(SILENCE, 1)  # the sink learns where to talk to
        words = tone(3, 8000) + SILENCE
        before = time.monotonic()
        sink.say(words)
        end = last_loud_byte(words, dbfs=-45)
        assert end == 3 * FRAME_BYTES
        deadline = time.monotonic() + 3
        while sink.sent_at(end - 1) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        said_at = sink.sent_at(end - 1)
        assert said_at is not None and said_at >= before
        # the three loud frames went out 20 ms apart: the last no sooner than 40 ms after the first
        first_at = sink.sent_at(0)
        assert first_at is not None and said_at - first_at >= 0.035
        assert sink.sent_at(len(words)) is None  # nothing beyond what was queued

        send(SILENCE, 2)
        time.sleep(0.05)
        replied = time.monotonic()
        send(tone(1, 8000), 3)
        deadline = time.monotonic() + 3
        while sink.first_loud_after(said_at, dbfs=-50) is None and time.monotonic() < deadline:
            time.sleep(0.01)
        heard_at = sink.first_loud_after(said_at, dbfs=-50)
        assert heard_at is not None and heard_at >= replied  # the silent packet did not count
        assert sink.first_loud_after(heard_at, dbfs=-50) is None
    finally:
        sink.stop()
        far.close()


def test_configs_are_named_or_navan_settings() -> None:
    assert parse_config("default") == {}
    assert parse_config("beam1") == {"NAVAN_STT_PHONE_BEAM": "1"}
    assert parse_config("NAVAN_STT_PHONE_BEAM=3+NAVAN_TTS_THREADS=2") == {
        "NAVAN_STT_PHONE_BEAM": "3",
        "NAVAN_TTS_THREADS": "2",
    }
    with pytest.raises(ValueError, match="NAVAN_KEY=VALUE"):
        parse_config("beam=1")


def test_a_turn_without_a_reply_counts_as_missing_for_its_config() -> None:
    a = PhoneCall("flite", "beam1", turns=[PhoneTurn("x", 0.8), PhoneTurn("y", None)])
    b = PhoneCall("festival", "beam2", turns=[PhoneTurn("x", 1.0)], error="hung up")
    a.worker_turns = [{k: 100.0 for k in WORKER_STAGES}]
    out = summarize([a, b])
    assert out["per_config"]["beam1"]["n"] == 1
    assert out["per_config"]["beam1"]["missing"] == 2  # no reply, and the third turn never ran
    assert out["per_config"]["beam2"]["missing"] == 2  # the call failed after one turn
    assert out["latency_s"]["p50"] == pytest.approx(0.9)
    assert out["worker_stages_s"]["beam1"]["e2e_latency_ms"]["p50"] == pytest.approx(0.1)


def test_sipps_media_port_leaves_room_for_its_video_and_rtcp_ports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """sipp binds -mp and the three ports above it; a candidate whose video port (+2) is taken
    is passed over, and the port given can be bound with all three above it."""
    import bench.telephony.sipp as sipp

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        taken = busy.getsockname()[1]
        candidates = iter([taken - 2, 14000, 14002, 14004, 14006])
        monkeypatch.setattr(sipp.random, "randrange", lambda *a, **k: next(candidates))
        port = free_media_port()
    assert port != taken - 2
    assert port % 2 == 0
    held = []
    try:
        for p in range(port, port + 4):
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            held.append(sock)
            sock.bind(("127.0.0.1", p))  # raises if sipp could not have bound it
    finally:
        for sock in held:
            sock.close()
