"""End of speech -> final transcript: streaming WhisperSTT vs livekit's StreamAdapter.

Caller audio comes from voices the agent never uses (flite, festival, espeak-ng), at 16 kHz and
8 kHz, pushed in 20 ms frames at real-time pace followed by 1.5 s of silence -- what a session
does. "end of speech" is the moment the last voiced sample was pushed.

    .venv/bin/python -m bench.speech.stt_latency [--repeat 3]
    .venv/bin/python -m bench.speech.stt_latency --configs passes1,passes2 --repeat 3

``passes1``/``passes2``: the worker's STT (its settings' silences, live-caption passes every
0.8 s) running one pass at a time or two (``NAVAN_STT_WORKERS``); besides the final, the
preflight (the text the look-ahead starts on) is timed from the end of speech.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from livekit.agents import stt

from bench.e2e.results import percentiles, save
from navan_voice.speech.audio import array_to_frame, resample, to_mono
from navan_voice.speech.vad import load_vad
from navan_voice.speech.whisper_engine import WhisperEngine
from navan_voice.speech.whisper_stt import WhisperSTT

PHRASES = [
    "I need to change my flight to Boston next Tuesday.",
    "Can you cancel my hotel reservation in Chicago, please?",
    "My confirmation number is A B C one two three and I would like a window seat.",
]
FRAME_S = 0.02


def make_caller_audio(text: str, voice: str, rate: int, out: Path) -> np.ndarray:
    """Synthesize ``text`` with a Debian voice and return mono float32 at ``rate``."""
    wav = out / f"{voice}-{abs(hash(text))}.wav"
    if voice == "flite":
        subprocess.run(["flite", "-t", text, "-o", str(wav)], check=True)
    elif voice == "espeak":
        subprocess.run(["espeak-ng", "-w", str(wav), text], check=True)
    else:
        subprocess.run(
            ["text2wave", "-eval", "(voice_cmu_us_slt_arctic_hts)", "-o", str(wav)],
            input=text.encode(),
            check=True,
        )
    data, sr = sf.read(str(wav), dtype="float32", always_2d=True)
    return resample(to_mono(data), int(sr), rate)


async def run_once(model: stt.STT[Any], audio: np.ndarray, rate: int) -> dict[str, float]:
    """Push ``audio`` at real-time pace; return seconds from end of speech to each event."""
    voiced = np.nonzero(np.abs(audio) > 0.02)[0]
    speech_end = (int(voiced[-1]) + 1) if voiced.size else audio.size
    padded = np.concatenate([audio, np.zeros(int(1.5 * rate), dtype=np.float32)])
    stream = model.stream()
    step = int(FRAME_S * rate)
    marks: dict[str, float] = {}
    t_end = 0.0

    async def push() -> None:
        nonlocal t_end
        start = time.perf_counter()
        for i, pos in enumerate(range(0, padded.size, step)):
            stream.push_frame(array_to_frame(padded[pos : pos + step], rate))
            if pos <= speech_end < pos + step:
                t_end = time.perf_counter()
            await asyncio.sleep(max(0.0, start + (i + 1) * FRAME_S - time.perf_counter()))
        stream.end_input()

    pusher = asyncio.create_task(push())
    text = ""
    async for ev in stream:
        now = time.perf_counter()
        if ev.type == stt.SpeechEventType.INTERIM_TRANSCRIPT and "first_interim" not in marks:
            marks["first_interim"] = now
        if ev.type == stt.SpeechEventType.PREFLIGHT_TRANSCRIPT:
            marks["preflight"] = now  # the last one: the text of the whole phrase
        if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT and "final" not in marks:
            marks["final"] = now
            text = ev.alternatives[0].text
    await pusher
    await stream.aclose()
    out = {k: v - t_end for k, v in marks.items()}
    logging.info("%s", text)
    return out


def _worker_stt(engine: WhisperEngine, vad: Any, passes: int) -> WhisperSTT:
    """The STT a web call's session gets from the default settings, ``passes`` at once."""
    from navan_voice.config import load_settings

    settings = load_settings()
    model = WhisperSTT(
        engine,
        vad=vad,
        interim_interval_s=settings.stt_interim_interval_s,
        candidate_silence_s=settings.stt_candidate_silence_s,
        final_silence_s=settings.stt_final_silence_s,
    )
    model.parallel_passes = passes
    return model


async def main(repeat: int, configs: list[str]) -> None:
    from navan_voice.config import load_settings

    engine = WhisperEngine.load(
        cpu_threads=load_settings().stt_threads, workers=2 if "passes2" in configs else 1
    )
    vad = load_vad()
    build = {
        "streaming": lambda: WhisperSTT(engine, vad=vad),
        "adapter": lambda: stt.StreamAdapter(stt=WhisperSTT(engine), vad=vad),
        "passes1": lambda: _worker_stt(engine, vad, 1),
        "passes2": lambda: _worker_stt(engine, vad, 2),
    }
    models: dict[str, stt.STT[Any]] = {name: build[name]() for name in configs}
    results: dict[str, list[float]] = {name: [] for name in models}
    preflights: dict[str, list[float]] = {name: [] for name in models}
    by_rate: dict[str, dict[int, list[float]]] = {name: {16000: [], 8000: []} for name in models}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        clips = [
            (voice, rate, make_caller_audio(text, voice, rate, Path(tmp)))
            for text in PHRASES
            for voice in ("flite", "festival", "espeak")
            for rate in (16000, 8000)
        ]
        for _ in range(repeat):
            for voice, rate, audio in clips:
                for name, model in models.items():
                    marks = await run_once(model, audio, rate)
                    if "preflight" in marks:
                        preflights[name].append(marks["preflight"])
                    if "final" in marks:
                        results[name].append(marks["final"])
                        by_rate[name][rate].append(marks["final"])
                    print(
                        f"{name:28s} {voice:8s} {rate:5d} Hz  {audio.size / rate:4.1f} s  "
                        + "  ".join(f"{k}={v:+.2f}s" for k, v in marks.items())
                    )
    print("\nend of speech -> final transcript (s)")
    for name, values in results.items():
        values.sort()
        p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
        print(f"{name:28s} n={len(values):2d} p50={statistics.median(values):.2f} p95={p95:.2f}")
    if any(preflights.values()):
        print("\nend of speech -> last preflight transcript (s)")
        for name, values in preflights.items():
            p = percentiles(values)
            got = f"p50={p.get('p50')} p95={p.get('p95')} max={p.get('max')}"
            print(f"{name:28s} n={p['n']:2d} {got}")
    save(
        "stt-latency",
        {
            "what": "end of speech -> final transcript, seconds",
            "load_avg_before": load_before,
            "load_avg_after": os.getloadavg(),
            "repeat": repeat,
            "results": {
                name: {
                    "all": percentiles(values),
                    **{str(r): percentiles(v) for r, v in by_rate[name].items()},
                    "preflight": percentiles(preflights[name]),
                }
                for name, values in results.items()
            },
        },
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--configs",
        default="streaming,adapter",
        help="comma list of streaming, adapter, passes1, passes2 (run alternately per clip)",
    )
    args = parser.parse_args()
    asyncio.run(main(args.repeat, args.configs.split(",")))
