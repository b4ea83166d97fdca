"""End of turn: livekit's local turn-detector-v1-mini on travel phrases, threshold by measurement.

What livekit-agents 1.8.9 does with ``TurnDetector(version="v1-mini")`` (audio only, no text):

* every session audio frame (room input, 24 kHz) is pushed to the detector stream, resampled to
  16 kHz (``AudioResamplerQuality.QUICK``) into a ring buffer of the last 1.2 s;
* when the session's Silero VAD reports >= 0.2 s of raw silence while the caller is speaking,
  ``predict()`` snapshots that ring buffer and runs ``EOT.predict`` on it in a thread;
  speech resuming cancels the request and the next 0.2 s of silence asks again;
* at the VAD's END_OF_SPEECH (``min_silence_duration``, 0.55 s here) the session compares the
  probability with ``unlikely_threshold``: below it, the turn waits ``max_endpointing_delay``
  from the last speech; otherwise ``min_endpointing_delay``.

So each clip here is pushed through the project's own Silero VAD to find that moment, then
through livekit's own ``TurnDetector().stream()`` (``push_audio`` + ``predict``), exactly the
way ``AudioRecognition`` drives it. The probability is also recomputed directly with
``EOT.predict`` on an identical snapshot, to time the model alone.

Clips: travel phrases from voices the agent never uses (flite, festival, espeak-ng, via
``bench.speech.stt_latency.make_caller_audio``), 16 kHz wideband and 8 kHz phone band (resampled
back up to the room's 24 kHz, as the pipeline does). Labels:

* complete -- the whole sentence;
* incomplete, cut -- the same sentence's audio cut at a word boundary mid-sentence (the caller
  stops mid-sentence, with mid-sentence intonation);
* incomplete, alone -- the fragment synthesized on its own (the voice closes it like a sentence:
  a caller who trails off on a falling tone; the hard case).

    .venv/bin/python -m bench.speech.turn_detector [--lag-ms 0] [--verify]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from livekit import rtc
from livekit.agents import vad as lk_vad
from livekit.agents.inference import TurnDetector
from livekit.local_inference import EOT, EOT_MAX_SAMPLES

from bench.speech.stt_latency import make_caller_audio
from navan_voice.speech.audio import array_to_frame, resample
from navan_voice.speech.vad import load_vad

# (complete sentence, where a caller might stop mid-sentence); the fragment is a prefix
PAIRS = [
    ("I need to change my flight to Boston next Tuesday.", "I need to change my flight to"),
    ("My confirmation code is A B C one two three.", "My confirmation code is A B C"),
    ("Can you cancel my hotel in Chicago?", "Can you cancel my hotel in"),
    ("When does my flight to New York leave?", "When does my flight to"),
    ("What hotel am I staying at in New York?", "What hotel am I staying at in"),
    ("I would like a window seat, please.", "I would like a"),
    ("Please book me a room for two nights.", "Please book me a room for"),
    ("I want to fly from Denver to Seattle on Friday morning.", "I want to fly from Denver to"),
    ("Can you move my return flight to Sunday evening?", "Can you move my return flight to"),
    (
        "I need to submit an expense for the taxi from the airport.",
        "I need to submit an expense for the",
    ),
    ("What is the cancellation policy for my hotel?", "What is the cancellation policy for"),
    ("My employee number is four five six seven.", "My employee number is"),
    ("Is there an earlier flight to San Francisco?", "Is there an earlier flight to"),
    ("I'd like to add my frequent flyer number.", "I'd like to add my"),
    ("Book the cheapest fare on that route.", "Book the cheapest fare on"),
    ("I'm calling about my trip to London.", "I'm calling about my trip to"),
]
SHORT_COMPLETE = ["Yes, please.", "No, that's all.", "Thank you.", "The second one."]
VOICES = ("flite", "festival", "espeak")
BANDS = (16000, 8000)
ROOM_RATE = 24000  # what room_io hands the session (RoomInputOptions.sample_rate)
FRAME_S = 0.01
LEAD_S, TAIL_S = 0.3, 1.0
VOICED = 0.02  # |sample| above this counts as voiced (as in stt_latency)
PREDICT_SILENCE_S = 0.2  # livekit.agents.inference.eot.base.MIN_SILENCE_DURATION_MS
DEFAULT_THRESHOLD = 0.36  # livekit's shipped "en" threshold for v1-mini
CANDIDATES = [0.02, 0.05, 0.08, 0.1, 0.15, 0.2, 0.25, 0.3, 0.36, 0.4, 0.5, 0.6, 0.7, 0.8]
# session timing (src/navan_voice/speech/vad.py, config.py defaults)
VAD_SILENCE_S = 0.55
MIN_DELAY_S, MAX_DELAY_S = 0.4, 3.0
RESULTS = Path(__file__).resolve().parents[1] / "results"


@dataclass
class Clip:
    text: str
    voice: str
    band: int
    label: str  # complete | cut | alone
    audio: np.ndarray  # float32 at ROOM_RATE, lead and tail silence included


@dataclass
class Result:
    text: str
    voice: str
    band: int
    label: str
    probability: float  # through livekit's TurnDetector stream
    direct_probability: float  # EOT.predict on an identical snapshot
    inference_s: float  # livekit's reported inference_duration (thread hop included)
    model_s: float  # EOT.predict alone
    trigger_after_speech_s: float  # predict() moment after the last voiced sample
    vad_eos_after_speech_s: float | None
    predictions: int  # predict() calls (earlier ones cancelled by resumed speech)


def _voiced(audio: np.ndarray) -> tuple[int, int]:
    idx = np.nonzero(np.abs(audio) > VOICED)[0]
    return (int(idx[0]), int(idx[-1]) + 1) if idx.size else (0, audio.size)


def _features(audio: np.ndarray, rate: int) -> np.ndarray:
    """Log spectra, 25 ms windows every 10 ms, each row normalized (for cosine distances)."""
    win, hop = int(0.025 * rate), int(0.01 * rate)
    count = max(1, 1 + (audio.size - win) // hop)
    idx = np.arange(win)[None, :] + hop * np.arange(count)[:, None]
    padded = np.pad(audio, (0, max(0, idx.max() + 1 - audio.size)))
    spec = np.log(np.abs(np.fft.rfft(padded[idx] * np.hanning(win), axis=1)) + 1e-4)
    spec -= spec.mean(axis=1, keepdims=True)
    return spec / (np.linalg.norm(spec, axis=1, keepdims=True) + 1e-9)


def cut_at_word(full: np.ndarray, fragment: np.ndarray, rate: int) -> np.ndarray:
    """``full`` cut where its first words -- ``fragment``, the same words in the same voice
    synthesized alone -- end. Found by aligning the two (DTW over log spectra, the fragment
    fixed at both ends, the sentence free to end anywhere): a voice lengthens a sentence's last
    word, so the fragment's length alone would cut too late."""
    f0, _ = _voiced(full)
    p0, p1 = _voiced(fragment)
    a = _features(fragment[p0:p1], rate)
    b = _features(full[f0:], rate)
    cost = 1.0 - a @ b.T  # (fragment frames, sentence frames)
    acc = np.full(cost.shape, np.inf)
    acc[0, 0] = cost[0, 0]
    for i in range(1, cost.shape[0]):  # the sentence advances 0, 1 or 2 frames per step
        prev = acc[i - 1]
        best = prev.copy()
        best[1:] = np.minimum(best[1:], prev[:-1])
        best[2:] = np.minimum(best[2:], prev[:-2])
        acc[i] = cost[i] + best
    end_frame = int(np.argmin(acc[-1]))
    cut = f0 + int((end_frame * 0.01 + 0.025) * rate)
    out = full[: min(cut, full.size)].copy()
    fade = min(int(0.015 * rate), out.size)
    out[out.size - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return out


def to_room(audio16: np.ndarray, band: int) -> np.ndarray:
    """16 kHz speech -> band-limited to ``band`` -> the room's 24 kHz, padded with silence."""
    x = audio16 if band == 16000 else resample(audio16, 16000, band)
    x = resample(x, band, ROOM_RATE)
    lead = np.zeros(int(LEAD_S * ROOM_RATE), dtype=np.float32)
    tail = np.zeros(int(TAIL_S * ROOM_RATE), dtype=np.float32)
    return np.concatenate([lead, x, tail]).astype(np.float32)


def build_clips(tmp: Path) -> list[Clip]:
    clips: list[Clip] = []
    for voice in VOICES:
        for full_text, fragment_text in PAIRS:
            full = make_caller_audio(full_text, voice, 16000, tmp)
            alone = make_caller_audio(fragment_text, voice, 16000, tmp)
            cut = cut_at_word(full, alone, 16000)
            for band in BANDS:
                clips.append(Clip(full_text, voice, band, "complete", to_room(full, band)))
                clips.append(Clip(fragment_text, voice, band, "cut", to_room(cut, band)))
                clips.append(Clip(fragment_text, voice, band, "alone", to_room(alone, band)))
        for text in SHORT_COMPLETE:
            audio = make_caller_audio(text, voice, 16000, tmp)
            for band in BANDS:
                clips.append(Clip(text, voice, band, "complete", to_room(audio, band)))
    return clips


def frames(audio: np.ndarray) -> list[rtc.AudioFrame]:
    step = int(FRAME_S * ROOM_RATE)
    return [array_to_frame(audio[i : i + step], ROOM_RATE) for i in range(0, audio.size, step)]


async def vad_trigger(vad: lk_vad.VAD, audio: np.ndarray) -> tuple[float | None, float | None, int]:
    """AudioRecognition's logic over the VAD events: (time of the last predict() before the
    VAD's END_OF_SPEECH, time of that END_OF_SPEECH, number of predict() calls), seconds into
    ``audio``."""
    stream = vad.stream()
    for frame in frames(audio):
        stream.push_frame(frame)
    stream.end_input()
    speaking = False
    pending: float | None = None
    chosen: float | None = None
    eos: float | None = None
    calls = 0
    async for ev in stream:
        if ev.type == lk_vad.VADEventType.START_OF_SPEECH:
            speaking, pending = True, None
        elif ev.type == lk_vad.VADEventType.INFERENCE_DONE:
            if ev.raw_accumulated_speech > 0.0 and speaking:
                pending = None  # resumed speech cancels the request
            if ev.raw_accumulated_silence >= PREDICT_SILENCE_S and speaking and pending is None:
                pending = ev.timestamp
                calls += 1
        elif ev.type == lk_vad.VADEventType.END_OF_SPEECH:
            speaking = False
            chosen, eos = pending, ev.timestamp
    await stream.aclose()
    if chosen is None:  # no END_OF_SPEECH: the last request made
        chosen = pending
    return chosen, eos, calls


async def predict_through_livekit(
    detector: TurnDetector, audio: np.ndarray, upto: int
) -> tuple[float, float]:
    """Push ``audio[:upto]`` into a detector stream as AudioRecognition does, then predict()."""
    stream = detector.stream()
    for frame in frames(audio[:upto]):
        stream.push_audio(frame)
    # the stream drains its channel into the ring buffer on its own task; in a session the
    # VAD lags the audio by far more than this, so the buffer is always up to date
    for _ in range(1000):
        if stream._audio_ch.empty():
            break
        await asyncio.sleep(0)
    await asyncio.sleep(0.005)
    event = await stream.predict()
    await stream.aclose()
    return float(event.end_of_turn_probability), float(event.inference_duration or 0.0)


def snapshot(audio: np.ndarray, upto: int) -> np.ndarray:
    """The last 1.2 s at 16 kHz int16, resampled frame by frame like the detector stream."""
    resampler = rtc.AudioResampler(
        ROOM_RATE, 16000, num_channels=1, quality=rtc.AudioResamplerQuality.QUICK
    )
    out: list[np.ndarray] = []
    for frame in frames(audio[:upto]):
        out += [np.frombuffer(f.data, dtype=np.int16) for f in resampler.push(frame)]
    pcm = np.concatenate(out) if out else np.zeros(0, dtype=np.int16)
    return np.ascontiguousarray(pcm[-EOT_MAX_SAMPLES:])


async def measure(clips: list[Clip], lag_s: float) -> list[Result]:
    vad = load_vad()
    detector = TurnDetector(version="v1-mini")
    eot = EOT()
    eot.predict(np.zeros(EOT_MAX_SAMPLES, dtype=np.int16))  # warm up
    results: list[Result] = []
    for clip in clips:
        trigger, eos, calls = await vad_trigger(vad, clip.audio)
        _, speech_end = _voiced(clip.audio)
        if trigger is None:
            print(f"no prediction for {clip.voice} {clip.band} {clip.label}: {clip.text!r}")
            continue
        upto = min(clip.audio.size, int((trigger + lag_s) * ROOM_RATE))
        probability, inference_s = await predict_through_livekit(detector, clip.audio, upto)
        pcm = snapshot(clip.audio, upto)
        started = time.perf_counter()
        direct = float(eot.predict(pcm))
        model_s = time.perf_counter() - started
        results.append(
            Result(
                text=clip.text,
                voice=clip.voice,
                band=clip.band,
                label=clip.label,
                probability=probability,
                direct_probability=direct,
                inference_s=inference_s,
                model_s=model_s,
                trigger_after_speech_s=upto / ROOM_RATE - speech_end / ROOM_RATE,
                vad_eos_after_speech_s=None if eos is None else eos - speech_end / ROOM_RATE,
                predictions=calls,
            )
        )
        r = results[-1]
        print(
            f"{clip.label:8s} {clip.voice:8s} {clip.band:5d}  p={probability:.3f}"
            f"  {1000 * model_s:5.0f} ms  trig +{r.trigger_after_speech_s:.2f}s  {clip.text}"
        )
    return results


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def commit_after(vad_eos: float, delay: float) -> float:
    """Seconds from the last word to the committed turn: the VAD's END_OF_SPEECH triggers the
    decision, which then waits ``delay`` counted from the last speech."""
    return max(vad_eos, delay)


def threshold_table(results: list[Result], labels: tuple[str, ...]) -> list[dict[str, Any]]:
    complete = [r for r in results if r.label == "complete"]
    incomplete = [r.probability for r in results if r.label in labels]
    rows = []
    for t in CANDIDATES:
        false_eot = sum(p >= t for p in incomplete) / len(incomplete)
        missed = sum(r.probability < t for r in complete) / len(complete)
        # each complete clip's wait after its last voiced sample, with its own measured
        # VAD END_OF_SPEECH (0.55 s of silence + Silero's lag)
        waits = [
            commit_after(
                r.vad_eos_after_speech_s or VAD_SILENCE_S,
                MIN_DELAY_S if r.probability >= t else MAX_DELAY_S,
            )
            for r in complete
        ]
        rows.append(
            {
                "threshold": t,
                "false_eot_incomplete": false_eot,
                "missed_eot_complete": missed,
                "mean_wait_complete_s": statistics.mean(waits),
                "p50_wait_complete_s": statistics.median(waits),
                "p95_wait_complete_s": pct(waits, 0.95),
                "n_complete": len(complete),
                "n_incomplete": len(incomplete),
            }
        )
    return rows


def summarize(results: list[Result]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for band in (*BANDS, 0):
        sel = [r for r in results if band in (0, r.band)]
        key = "all" if band == 0 else f"{band // 1000}k"
        out[key] = {
            label: {
                "n": len(ps),
                "p_min": min(ps),
                "p10": pct(ps, 0.1),
                "p50": statistics.median(ps),
                "p90": pct(ps, 0.9),
                "p_max": max(ps),
            }
            for label in ("complete", "cut", "alone")
            if (ps := [r.probability for r in sel if r.label == label])
        }
    return out


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    print(f"\n{title}")
    print("| threshold | false EOT, incomplete | missed EOT, complete | wait, complete turn |")
    print("|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['threshold']:.2f} | {100 * row['false_eot_incomplete']:.1f} %"
            f" | {100 * row['missed_eot_complete']:.1f} %"
            f" | mean {row['mean_wait_complete_s']:.2f} s,"
            f" p50 {row['p50_wait_complete_s']:.2f} s, p95 {row['p95_wait_complete_s']:.2f} s |"
        )


async def main(lag_ms: float, verify: bool) -> None:
    load_before = os.getloadavg()
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        clips = build_clips(Path(tmp))
    synth_s = time.time() - started
    if verify:  # check the cut points with Whisper: the transcript should end on the fragment
        from navan_voice.speech.whisper_engine import WhisperEngine

        engine = WhisperEngine.load(cpu_threads=2)
        for clip in clips:
            if clip.label == "cut" and clip.band == 16000:
                text = engine.transcribe(resample(clip.audio, ROOM_RATE, 16000)).text
                print(f"cut {clip.voice:8s} {clip.text!r:45s} -> {text!r}")
    load_start = os.getloadavg()
    results = await measure(clips, lag_ms / 1000)
    load_end = os.getloadavg()

    tables = {
        "cut": threshold_table(results, ("cut",)),
        "alone": threshold_table(results, ("alone",)),
        "cut+alone": threshold_table(results, ("cut", "alone")),
    }
    for band in BANDS:
        sel = [r for r in results if r.band == band]
        tables[f"cut+alone {band // 1000}k"] = threshold_table(sel, ("cut", "alone"))
    for name, rows in tables.items():
        print_table(f"incomplete = {name}", rows)
    model_ms = [1000 * r.model_s for r in results]
    lk_ms = [1000 * r.inference_s for r in results]
    trig = [r.trigger_after_speech_s for r in results]
    eos = [r.vad_eos_after_speech_s for r in results if r.vad_eos_after_speech_s is not None]
    diff = max(abs(r.probability - r.direct_probability) for r in results)
    timing = {
        "model_ms_p50": statistics.median(model_ms),
        "model_ms_p95": pct(model_ms, 0.95),
        "model_ms_max": max(model_ms),
        "livekit_inference_ms_p50": statistics.median(lk_ms),
        "livekit_inference_ms_p95": pct(lk_ms, 0.95),
        "trigger_after_speech_s_p50": statistics.median(trig),
        "vad_eos_after_speech_s_p50": statistics.median(eos) if eos else None,
        "max_abs_diff_livekit_vs_direct": diff,
    }
    print("\nprobabilities:", json.dumps(summarize(results), indent=1))
    print("timing:", json.dumps(timing, indent=1))
    print(f"load average: before {load_start}, after {load_end}")
    doc = {
        "benchmark": "turn-detector",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.speech.turn_detector"
        + (f" --lag-ms {lag_ms}" if lag_ms else ""),
        "cpu_count": os.cpu_count(),
        "loadavg_before_synthesis": load_before,
        "loadavg_start": load_start,
        "loadavg_end": load_end,
        "synthesis_s": synth_s,
        "lag_ms": lag_ms,
        "session": {
            "vad_min_silence_s": VAD_SILENCE_S,
            "min_endpointing_delay_s": MIN_DELAY_S,
            "max_endpointing_delay_s": MAX_DELAY_S,
        },
        "timing": timing,
        "probabilities": summarize(results),
        "tables": tables,
        "results": [asdict(r) for r in results],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for name in ("turn-detector-latest.json", f"turn-detector-{stamp}.json"):
        (RESULTS / name).write_text(json.dumps(doc, indent=1))
    print(f"wrote {RESULTS / 'turn-detector-latest.json'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--lag-ms", type=float, default=0.0, help="extra audio after the predict() moment"
    )
    parser.add_argument("--verify", action="store_true", help="transcribe the cut clips")
    args = parser.parse_args()
    asyncio.run(main(args.lag_ms, args.verify))
