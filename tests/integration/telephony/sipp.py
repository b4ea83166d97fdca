"""sipp as a real SIP caller, plus an RTP endpoint we control for the agent's audio.

sipp sends the INVITE and streams the caller's µ-law file with its ``rtp_stream`` action; the SDP
it offers names a UDP socket of ours as its media address, so every RTP packet livekit-sip sends
back lands here, where it is decoded from G.711 µ-law to 16-bit PCM.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

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


@dataclass
class RtpSink:
    """A UDP socket on loopback that collects the PCMU payload of every RTP packet."""

    sock: socket.socket = field(init=False)
    packets: int = 0
    payload: bytearray = field(default_factory=bytearray)
    dtmf_events: int = 0
    remote: tuple[str, int] | None = None  # livekit-sip's RTP socket (where its packets come from)
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
    from navan_voice.stack.processes import free_port

    argv = ["sipp", "-sf", str(path), "-m", "1", "-i", local_ip,
            "-p", str(sip_port if not remote else free_port()), "-mi", local_ip,
            "-mp", str(free_port()), "-nostdin", "-trace_msg", "-trace_err",
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
    path = work_dir / "scenario.xml"
    path.write_text(scenario)
    from navan_voice.stack.processes import free_port

    argv = ["sipp", f"127.0.0.1:{sip_port}", "-sf", str(path), "-m", "1", "-i", local_ip,
            "-p", str(free_port()), "-mi", local_ip, "-mp", str(free_port()),
            "-nostdin", "-trace_msg", "-trace_err", "-timeout", f"{int(timeout_s)}s",
            "-timeout_error"]  # fmt: skip
    return subprocess.run(
        argv, cwd=work_dir, capture_output=True, text=True, timeout=timeout_s + 30
    )
