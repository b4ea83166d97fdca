"""sipp as a real SIP caller, plus an RTP endpoint we control for the agent's audio.

sipp sends the INVITE and streams the caller's µ-law file with its ``rtp_stream`` action; the SDP
it offers names a UDP socket of ours as its media address, so every RTP packet livekit-sip sends
back lands here, where it is decoded from G.711 µ-law to 16-bit PCM. The socket can also talk
(``RtpSink.start_talking``), and it times what it sends and receives, for the phone-path latency
benchmark (bench/telephony/phone_latency.py). The telephony integration tests use this module too.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import random
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from navan_voice.caller.audio import rms_dbfs
from navan_voice.config import Settings, load_settings
from navan_voice.stack.livekit_server import ServerPorts
from navan_voice.stack.processes import free_port, port_is_free
from navan_voice.stack.sip import PhoneStack, SipPorts

TWILIO_NUMBER = "+15550100"  # the number the test trunk answers (sipp dials it)
CALLER_NUMBER = "+15551230001"  # the number sipp calls from
FRAME_BYTES = 160  # 20 ms of 8 kHz µ-law: one RTP packet


def free_udp_port() -> int:
    for _ in range(50):
        port = free_port()
        if port_is_free(port, udp=True):
            return int(port)
    raise RuntimeError("no free port for SIP")


def free_media_port() -> int:
    """sipp's ``-mp``: an even UDP port with the three above it free too. sipp binds its audio
    RTP port and the video RTP port two above it (and their RTCP ports), and fails the call when
    one is taken, which a port the OS handed out alone does not rule out ("Unable to bind video
    RTP socket ... Address already in use"). Taken below the OS's ephemeral range and
    livekit-sip's RTP range (``rtp_range``), where nothing else picks ports."""
    for _ in range(100):
        port = random.randrange(12000, 19996, 2)
        if all(port_is_free(p, udp=True) for p in range(port, port + 4)):
            return port
    raise RuntimeError("no four free UDP ports for sipp's media")


def rtp_range(size: int = 200) -> tuple[int, int]:
    """A range of free UDP ports for livekit-sip's RTP."""
    for _ in range(50):
        start = random.randrange(20000, 30000, 2)
        if all(port_is_free(p, udp=True) for p in range(start, start + size, 17)):
            return start, start + size
    raise RuntimeError("no free RTP port range")


def loopback_phone_stack(run_dir: Path) -> PhoneStack:
    """Redis, livekit-server and livekit-sip (not started yet) on free loopback ports, with the
    local profile's settings; their logs and configs go to ``run_dir``."""
    settings = load_settings(profile="local", redis_address="")
    rtp_start, rtp_end = rtp_range()
    return PhoneStack(
        settings,
        server_ports=ServerPorts(http=free_port(), rtc_tcp=free_port(), rtc_udp=free_port()),
        sip_ports=SipPorts(sip=free_udp_port(), rtp_start=rtp_start, rtp_end=rtp_end),
        run_dir=run_dir,
    )


def trunk_settings(settings: Settings, phone_stack: PhoneStack) -> Settings:
    """``settings`` plus a trunk that answers TWILIO_NUMBER from 127.0.0.1 only."""
    return settings.model_copy(
        update={
            "livekit_url": phone_stack.url,
            "twilio_numbers": [TWILIO_NUMBER],
            "sip_allowed_addresses": ["127.0.0.1/32"],
            "sip_allowed_numbers": [],
            "sip_port": phone_stack.sip.ports.sip,
        }
    )


INVITE_SCENARIO = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="navan caller">
  <send retrans="500"><![CDATA[
      INVITE sip:{to}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:{to}@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 53655765 2353687637 IN IP4 127.0.0.1
      s=-
      c=IN IP4 127.0.0.1
      t=0 0
      m=audio {rtp_port} RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
      a=sendrecv
  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  {answer}
</scenario>
"""

ANSWERED = """<recv response="200" rtd="true"/>
  <send><![CDATA[
      ACK sip:{to}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:{to}@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
  <pause milliseconds="{before_ms}"/>
  <nop><action><exec rtp_stream="{audio},1,0"/></action></nop>
  <pause milliseconds="{hold_ms}"/>
  <send retrans="500"><![CDATA[
      BYE sip:{to}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:{to}@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
  ]]></send>
  <recv response="200" crlf="true"/>"""

ANSWER_REQUEST = """<send><![CDATA[
      SIP/2.0 {code}
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Content-Length: 0
  ]]></send>"""

WAIT_FOR_BYE = """<recv request="BYE" timeout="{hold_ms}"/>
  """ + ANSWER_REQUEST.replace("{code}", "200 OK")


def talking_caller(sink: RtpSink, hold_ms: int, *, caller: str, hangs_up: bool = True) -> str:
    """A caller whose words come from ``sink`` (``start_talking``). ``hangs_up``: stays
    ``hold_ms``, then sends BYE; otherwise waits up to ``hold_ms`` for the far end's BYE and
    answers it."""
    answer = ANSWERED.replace('<nop><action><exec rtp_stream="{audio},1,0"/></action></nop>', "")
    if not hangs_up:
        answer = answer.split('<pause milliseconds="{before_ms}"/>')[0] + WAIT_FOR_BYE
    answer = answer.format(to=TWILIO_NUMBER, caller=caller, before_ms=0, hold_ms=hold_ms)
    return INVITE_SCENARIO.format(
        to=TWILIO_NUMBER, caller=caller, rtp_port=sink.port, answer=answer
    )


# livekit-sip drops an INVITE that no trunk allows ("flood" protection): 100 and 180 come back,
# then no final answer. The scenario waits, then ends; the test reads sipp's message trace.
UNANSWERED = """<recv response="200" timeout="{wait_ms}" ontimeout="end"/>
  <label id="end"/>"""

_BIAS = 0x84


def ulaw_decode(data: bytes) -> np.ndarray:
    """G.711 µ-law bytes → int16 samples."""
    u = ~np.frombuffer(data, dtype=np.uint8)
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = ((mantissa.astype(np.int32) << 3) + _BIAS) << exponent
    pcm = np.where(sign != 0, _BIAS - magnitude, magnitude - _BIAS)
    return pcm.astype(np.int16)


def wav_to_ulaw(wav: Path, out: Path, pad_s: float = 0.5) -> Path:
    """Any WAV → raw 8 kHz mono µ-law (what a phone line carries), with silence after it."""
    subprocess.run(
        ["sox", str(wav), "-r", "8000", "-c", "1", "-t", "raw", "-e", "u-law", "-b", "8",
         str(out), "pad", "0", str(pad_s)],
        check=True,
    )  # fmt: skip
    return out


def frame_dbfs(ulaw: bytes) -> float:
    """RMS level of µ-law audio in dBFS (-inf for digital silence)."""
    return rms_dbfs(ulaw_decode(ulaw))


def last_loud_byte(ulaw: bytes, *, dbfs: float) -> int | None:
    """The first byte after the last 20 ms frame of ``ulaw`` louder than ``dbfs``: where the
    speaker's last sound ends. None if no frame is that loud."""
    end = None
    for start in range(0, len(ulaw), FRAME_BYTES):
        if frame_dbfs(ulaw[start : start + FRAME_BYTES]) > dbfs:
            end = min(start + FRAME_BYTES, len(ulaw))
    return end


def first_loud_byte(ulaw: bytes, *, dbfs: float) -> int | None:
    """Where the first 20 ms frame of ``ulaw`` louder than ``dbfs`` starts: the speaker's onset.
    None if no frame is that loud."""
    for start in range(0, len(ulaw), FRAME_BYTES):
        if frame_dbfs(ulaw[start : start + FRAME_BYTES]) > dbfs:
            return start
    return None


def packets_since(
    arrivals: list[tuple[float, int]], payload: bytes | bytearray, since: float
) -> Iterator[tuple[float, bytes]]:
    """Each packet that arrived after ``since``: (arrival time, its µ-law payload).
    ``arrivals``: (arrival time, payload length after that packet), in order."""
    first = bisect.bisect_right(arrivals, since, key=lambda a: a[0])
    previous = arrivals[first - 1][1] if first > 0 else 0
    for at, end in arrivals[first:]:
        yield at, bytes(payload[previous:end])
        previous = end


def first_loud_arrival(
    arrivals: list[tuple[float, int]], payload: bytes | bytearray, since: float, *, dbfs: float
) -> float | None:
    """The arrival time of the first packet after ``since`` whose audio is louder than
    ``dbfs``."""
    return next(
        (at for at, ulaw in packets_since(arrivals, payload, since) if frame_dbfs(ulaw) > dbfs),
        None,
    )


@dataclass
class RtpSink:
    """A UDP socket on loopback that collects the PCMU payload of every RTP packet."""

    sock: socket.socket = field(init=False)
    packets: int = 0
    payload: bytearray = field(default_factory=bytearray)
    dtmf_events: int = 0
    remote: tuple[str, int] | None = None  # livekit-sip's RTP socket (where its packets come from)
    # when each PCMU packet arrived (time.monotonic()) and the payload's length after it
    arrivals: list[tuple[float, int]] = field(default_factory=list)
    # when each 20 ms of queued speech was sent, and how many speech bytes were sent by then
    speech_sent: list[tuple[float, int]] = field(default_factory=list)
    speech_queued: int = 0  # speech bytes ever queued with ``say``
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    # what start_talking's thread sends: queued µ-law speech, and DTMF packets ahead of it
    _speech: bytearray = field(default_factory=bytearray)
    _keys: list[tuple[int, bytes]] = field(default_factory=list)  # (digit index, event body)
    _talk_lock: threading.Lock = field(default_factory=threading.Lock)
    _talker: threading.Thread | None = None

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def start(self) -> RtpSink:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            if len(data) < 12:
                continue
            self.packets += 1
            self.remote = (addr[0], int(addr[1]))
            pt = data[1] & 0x7F
            cc = data[0] & 0x0F
            body = data[12 + 4 * cc :]
            if pt == 0:
                self.payload += body
                self.arrivals.append((time.monotonic(), len(self.payload)))
            elif pt == 101:
                self.dtmf_events += 1

    @property
    def agent_audio_s(self) -> float:
        """Seconds of µ-law received so far (silence included)."""
        return len(self.payload) / 8000

    def decode_from(self, offset: int) -> np.ndarray:
        """The audio received after byte ``offset`` of the payload, as int16 PCM."""
        return ulaw_decode(bytes(self.payload[offset:]))

    def voiced_s(self, *, since: int = 0, threshold: float = 300.0) -> float:
        """Seconds of audible agent speech (20 ms frames above ``threshold`` RMS)."""
        pcm = self.decode_from(since).astype(np.float64)
        frames = pcm[: pcm.size // 160 * 160].reshape(-1, 160)
        if frames.size == 0:
            return 0.0
        return float(np.sum(np.sqrt(np.mean(frames**2, axis=1)) > threshold)) * 0.02

    def sent_at(self, speech_byte: int) -> float | None:
        """When the packet carrying speech byte ``speech_byte`` (counted over everything ever
        queued with ``say``) was sent; None while it is still queued."""
        for at, sent in self.speech_sent:  # short lists (one per 20 ms spoken)
            if sent > speech_byte:
                return at
        return None

    def first_loud_after(self, since: float, *, dbfs: float) -> float | None:
        """When the first received packet louder than ``dbfs`` (RMS) arrived after ``since``
        (time.monotonic()); None if none has yet."""
        return first_loud_arrival(self.arrivals, self.payload, since, dbfs=dbfs)

    def heard_since(self, since: float) -> list[tuple[float, np.ndarray]]:
        """Each packet received after ``since`` as (arrival time, int16 PCM): what a phone
        played, for ``bench.e2e.calls.stopped_at``."""
        heard = packets_since(self.arrivals, self.payload, since)
        return [(at, ulaw_decode(ulaw)) for at, ulaw in heard]

    def send_dtmf(self, digits: str, *, payload_type: int = 101, gap_s: float = 0.25) -> None:
        """Key ``digits`` as RFC 4733 telephone-events (what a phone's keypad sends) to the
        address livekit-sip's RTP comes from. Each digit: 3 packets sharing one timestamp,
        the last with the end bit, then ``gap_s`` of pause."""
        if self.remote is None:
            raise AssertionError("no RTP from livekit-sip yet, so no address to key DTMF to")
        codes = {d: i for i, d in enumerate("0123456789*#")}
        ssrc = 0x4E415641
        seq = 1000
        for n, digit in enumerate(digits):
            timestamp = 160000 + n * 8000
            for k, end in enumerate((False, False, True)):
                duration = 400 * (k + 1)
                header = struct.pack(
                    "!BBHII", 0x80, (0x80 if k == 0 else 0) | payload_type, seq, timestamp, ssrc
                )
                body = struct.pack("!BBH", codes[digit], (0x80 if end else 0) | 10, duration)
                self.sock.sendto(header + body, self.remote)
                seq += 1
                time.sleep(0.02)
            time.sleep(gap_s)

    # --- this end talking: a phone that streams from our own socket ---------------------

    def start_talking(self) -> RtpSink:
        """From the first packet livekit-sip sends, stream RTP back from this socket (the
        address our SDP offered) every 20 ms, in real time: µ-law silence, or what ``say``
        queued, or the keys ``key`` queued. A phone line never goes quiet, so livekit-sip's
        media timeout never fires; one stream (one SSRC) carries speech and DTMF, as on a
        real phone."""
        self._talker = threading.Thread(target=self._talk, daemon=True)
        self._talker.start()
        return self

    def say(self, ulaw: bytes) -> float:
        """Queue µ-law audio (8 kHz) to speak; returns its length in seconds."""
        with self._talk_lock:
            self._speech += ulaw
            self.speech_queued += len(ulaw)
        return len(ulaw) / 8000

    @property
    def speaking(self) -> bool:
        with self._talk_lock:
            return bool(self._speech) or bool(self._keys)

    def key(self, digits: str) -> None:
        """Queue keypad digits as RFC 4733 telephone-events (3 packets each, the last with
        the end bit, then 200 ms of silence)."""
        codes = {d: i for i, d in enumerate("0123456789*#")}
        with self._talk_lock:
            for n, digit in enumerate(digits):
                for k in range(3):
                    end = 0x80 if k == 2 else 0
                    body = struct.pack("!BBH", codes[digit], end | 10, 160 * (k + 1))
                    self._keys.append((n, body))
                self._keys.extend((-1, b"") for _ in range(10))  # a gap between digits

    def _talk(self) -> None:
        while self.remote is None and not self._stop.is_set():
            time.sleep(0.02)
        ssrc, seq, timestamp = 0x4E415642, 1, 0
        spoken = 0  # speech bytes sent so far
        event_at: dict[int, int] = {}  # digit index → the timestamp its event packets share
        next_at = time.monotonic()
        while not self._stop.is_set():
            with self._talk_lock:
                if self._keys:
                    digit, body = self._keys.pop(0)
                    chunk = None
                else:
                    digit, body = -1, b""
                    chunk = bytes(self._speech[:160])
                    del self._speech[:160]
            if digit >= 0:
                first = digit not in event_at
                ts = event_at.setdefault(digit, timestamp)
                header = struct.pack("!BBHII", 0x80, (0x80 if first else 0) | 101, seq, ts, ssrc)
                packet = header + body
            else:
                if not self._keys:
                    event_at.clear()
                payload = (chunk or b"").ljust(160, b"\xff")
                header = struct.pack("!BBHII", 0x80, 0, seq, timestamp, ssrc)
                packet = header + payload
            if self.remote is not None:
                with contextlib.suppress(OSError):
                    self.sock.sendto(packet, self.remote)
            if chunk:
                spoken += len(chunk)
                self.speech_sent.append((time.monotonic(), spoken))
            seq = (seq + 1) & 0xFFFF
            timestamp = (timestamp + 160) & 0xFFFFFFFF
            next_at += 0.02
            time.sleep(max(0.0, next_at - time.monotonic()))

    def stop(self) -> np.ndarray:
        self._stop.set()
        if self._talker is not None:
            self._talker.join(timeout=2)
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.sock.close()
        return ulaw_decode(bytes(self.payload))


def _sipp_argv(
    scenario: str,
    *,
    sip_port: int,
    work_dir: Path,
    local_ip: str,
    timeout_s: float,
    remote: bool = True,
) -> list[str]:
    path = work_dir / "scenario.xml"
    path.write_text(scenario)
    argv = ["sipp", "-sf", str(path), "-m", "1", "-i", local_ip,
            "-p", str(sip_port if not remote else free_port()), "-mi", local_ip,
            "-mp", str(free_media_port()), "-nostdin", "-trace_msg", "-trace_err",
            "-timeout", f"{int(timeout_s)}s", "-timeout_error"]  # fmt: skip
    return [*argv, f"127.0.0.1:{sip_port}"] if remote else argv


def start_sipp(
    scenario: str,
    *,
    sip_port: int,
    work_dir: Path,
    local_ip: str = "127.0.0.1",
    timeout_s: float = 120.0,
) -> subprocess.Popen[str]:
    """Start one sipp call in the background (the test acts on the call while it runs)."""
    argv = _sipp_argv(
        scenario, sip_port=sip_port, work_dir=work_dir, local_ip=local_ip, timeout_s=timeout_s
    )
    return subprocess.Popen(
        argv, cwd=work_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def start_sipp_uas(
    scenario: str, *, port: int, work_dir: Path, timeout_s: float = 120.0
) -> subprocess.Popen[str]:
    """Start sipp as a callee (UAS) listening on 127.0.0.1:``port``; it takes one call."""
    argv = _sipp_argv(scenario, sip_port=port, work_dir=work_dir, local_ip="127.0.0.1",
                      timeout_s=timeout_s, remote=False)  # fmt: skip
    return subprocess.Popen(
        argv, cwd=work_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def sipp_trace(work_dir: Path) -> str:
    """Every SIP message sipp sent and received (its -trace_msg log)."""
    return "".join(p.read_text(errors="replace") for p in sorted(work_dir.glob("*_messages.log")))


def run_sipp(
    scenario: str,
    *,
    sip_port: int,
    work_dir: Path,
    local_ip: str = "127.0.0.1",
    timeout_s: float = 120.0,
) -> subprocess.CompletedProcess[str]:
    """Run one sipp call with ``scenario`` against livekit-sip on 127.0.0.1:sip_port."""
    argv = _sipp_argv(
        scenario, sip_port=sip_port, work_dir=work_dir, local_ip=local_ip, timeout_s=timeout_s
    )
    return subprocess.run(
        argv, cwd=work_dir, capture_output=True, text=True, timeout=timeout_s + 30
    )


# --- waiting on a call, and what a phone heard -------------------------------------------------
async def wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        await asyncio.sleep(0.2)


async def wait_until_quiet(sink: RtpSink, *, quiet_s: float = 1.5, timeout_s: float = 30.0) -> None:
    """Until the agent has said nothing for ``quiet_s`` (its current reply is over)."""
    deadline = time.monotonic() + timeout_s
    last, since = sink.voiced_s(), time.monotonic()
    while time.monotonic() - since < quiet_s:
        if time.monotonic() > deadline:
            raise AssertionError(f"the agent kept talking for {timeout_s:.0f}s")
        await asyncio.sleep(0.25)
        now = sink.voiced_s()
        if now > last:
            last, since = now, time.monotonic()


def transcribe_8k(pcm: np.ndarray) -> str:
    """Transcribe 8 kHz int16 phone audio with the project's local Whisper."""
    from navan_voice.speech.audio import resample
    from navan_voice.speech.whisper_engine import WhisperEngine

    audio = resample(pcm.astype(np.float32) / 32768.0, 8000)
    return str(WhisperEngine.load().transcribe(audio).text)
