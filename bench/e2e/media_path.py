"""What the WebRTC legs add: one-way audio latency through the real livekit-server.

Two participants in one process (one clock) join a room; one publishes tone bursts, the other
times when each burst's first loud frame reaches its code. The legs are set up the way the call
path has them:

- ``uplink``: the benchmark caller (48 kHz source, 10 ms frames, silence between words) → the
  agent's room input (livekit's ``AudioStream`` at 24 kHz in ``frame_size`` frames; 50 ms is
  livekit's default, which the VAD and STT then see);
- ``downlink``: the agent's room output (TTS at 22.05 kHz pushed faster than real time into an
  ``AudioSource`` with livekit's 200 ms queue, nothing pushed while quiet) → the caller
  (``AudioStream`` at 48 kHz).

Run: ``python -m bench media`` (or ``python -m bench.e2e.media_path``).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from livekit import api, rtc

from bench.e2e.results import percentiles, save
from bench.e2e.stack import BenchStack, load_avg
from navan_voice.config import Settings

logger = logging.getLogger(__name__)

TONE_HZ = 1000.0
TONE_S = 0.2
GAP_S = 0.8  # quiet between bursts; the receiver re-arms after REARM_S of quiet
REARM_S = 0.3
LOUD = 0.05  # |sample| above this (full scale 1.0) is the burst


@dataclass(frozen=True)
class Leg:
    """One direction of the call path, as configured in the real parts."""

    name: str
    send_rate: int
    send_frame_ms: int
    send_queue_ms: int
    quiet_frames: bool  # the sender keeps pushing silence while quiet (the caller's microphone)
    recv_rate: int
    recv_frame_ms: int | None  # None: the SDK's default (10 ms)


LEGS = (
    Leg("uplink, agent input 50 ms frames (livekit default)", 48000, 10, 100, True, 24000, 50),
    Leg("uplink, agent input 20 ms frames", 48000, 10, 100, True, 24000, 20),
    Leg("uplink, agent input 10 ms frames", 48000, 10, 100, True, 24000, 10),
    Leg("downlink, agent output (200 ms queue) → caller", 22050, 50, 200, False, 48000, None),
)


def _token(settings: Settings, room: str, identity: str) -> str:
    secret = settings.livekit_api_secret.get_secret_value()
    grants = api.VideoGrants(room_join=True, room=room)
    return (
        api.AccessToken(settings.livekit_api_key, secret)
        .with_identity(identity)
        .with_grants(grants)
        .to_jwt()
    )


def _tone(rate: int) -> np.ndarray:
    t = np.arange(int(rate * TONE_S)) / rate
    return (0.5 * 32767 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.int16)


async def _send(source: rtc.AudioSource, leg: Leg, bursts: int, onsets: list[float]) -> None:
    """Push ``bursts`` tone bursts; note when each burst's first sample leaves the source."""
    frame = leg.send_rate * leg.send_frame_ms // 1000
    silence = np.zeros(frame, dtype=np.int16)
    rng = np.random.default_rng(7)

    async def push(samples: np.ndarray) -> None:
        await source.capture_frame(rtc.AudioFrame(samples.tobytes(), leg.send_rate, 1, frame))

    for _ in range(bursts):
        if leg.quiet_frames:  # real-time silence, like a microphone
            for _ in range(int(GAP_S * 1000 / leg.send_frame_ms)):
                await push(silence)
        else:  # nothing pushed while quiet, like the agent between replies
            await source.wait_for_playout()
            await asyncio.sleep(GAP_S)
        # a word starts anywhere inside a receiving frame, not on its boundary
        lead = int(rng.uniform(0.0, 0.05) * leg.send_rate)
        burst = np.concatenate([np.zeros(lead, dtype=np.int16), _tone(leg.send_rate)])
        burst = np.pad(burst, (0, -len(burst) % frame))
        onsets.append(time.monotonic() + source.queued_duration + lead / leg.send_rate)
        for i in range(0, len(burst), frame):
            await push(burst[i : i + frame])
    if not leg.quiet_frames:
        await source.wait_for_playout()


async def _receive(stream: rtc.AudioStream, arrivals: list[float], done: asyncio.Event) -> None:
    """Time each burst's first loud frame as the receiving code gets it."""
    armed, quiet_since = True, time.monotonic()
    async for event in stream:
        now = time.monotonic()
        samples = np.frombuffer(event.frame.data, dtype=np.int16) / 32768.0
        if np.abs(samples).max() > LOUD:
            if armed:
                arrivals.append(now)
                armed = False
            quiet_since = now
        elif not armed and now - quiet_since >= REARM_S:
            armed = True
        if done.is_set():
            break


async def measure_leg(settings: Settings, leg: Leg, bursts: int) -> dict[str, Any]:
    room_name = f"media-{uuid.uuid4().hex[:8]}"
    sender, receiver = rtc.Room(), rtc.Room()
    arrivals: list[float] = []
    onsets: list[float] = []
    done = asyncio.Event()
    subscribed: asyncio.Future[rtc.Track] = asyncio.get_running_loop().create_future()

    def on_track(track: rtc.Track, *_: Any) -> None:
        if track.kind == rtc.TrackKind.KIND_AUDIO and not subscribed.done():
            subscribed.set_result(track)

    receiver.on("track_subscribed", on_track)
    try:
        await receiver.connect(settings.livekit_url, _token(settings, room_name, "receiver"))
        await sender.connect(settings.livekit_url, _token(settings, room_name, "sender"))
        source = rtc.AudioSource(leg.send_rate, 1, queue_size_ms=leg.send_queue_ms)
        track = rtc.LocalAudioTrack.create_audio_track("audio", source)
        opts = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await sender.local_participant.publish_track(track, opts)
        remote = await asyncio.wait_for(subscribed, 20.0)
        kwargs: dict[str, Any] = {"sample_rate": leg.recv_rate, "num_channels": 1}
        if leg.recv_frame_ms:
            kwargs["frame_size_ms"] = leg.recv_frame_ms
        stream = rtc.AudioStream.from_track(track=remote, **kwargs)
        reader = asyncio.create_task(_receive(stream, arrivals, done))
        await asyncio.sleep(1.0)  # let the media path settle before the first burst
        await _send(source, leg, bursts, onsets)
        await asyncio.sleep(1.0)
        done.set()
        await stream.aclose()
        reader.cancel()
    finally:
        await sender.disconnect()
        await receiver.disconnect()
    latencies = [round(a - o, 4) for o, a in zip(onsets, arrivals, strict=False)]
    if len(arrivals) != len(onsets):
        logger.warning("%s: %d bursts sent, %d heard", leg.name, len(onsets), len(arrivals))
    return {"leg": leg.name, "sent": len(onsets), "heard": len(arrivals), **percentiles(latencies)}


async def _all(settings: Settings, bursts: int) -> list[dict[str, Any]]:
    out = []
    for leg in LEGS:
        result = await measure_leg(settings, leg, bursts)
        logger.info("%s: p50 %s s p95 %s s", leg.name, result.get("p50"), result.get("p95"))
        out.append(result)
    return out


def run(*, quick: bool) -> dict[str, Any]:
    bursts = 15 if quick else 40
    load_before = load_avg()
    with BenchStack("media") as stack:
        assert stack.settings is not None
        legs = asyncio.run(_all(stack.settings, bursts))
    payload = {
        "bursts_per_leg": bursts,
        "load_avg_before": load_before,
        "load_avg_after": load_avg(),
        "legs": legs,
    }
    save("media", payload)
    return payload


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    import json

    print(json.dumps(run(quick=True), indent=2))
