"""The local models' CPU threads when several calls share a few cores.

Every call's job process loads its own Whisper (CTranslate2, ``NAVAN_STT_THREADS``, default 2)
and piper (onnxruntime, one intra-op thread per core and spinning threads by default). With one
call that is fastest; with four calls on 2 cores each process's threads fight the others'.
This bench runs N processes, each a stand-in for one call's model work: a Whisper pass over a
caller's phrase, then piper rendering a reply sentence, then a pause (the caller listening), over
and over, all started together. It reports the time of each pass and each rendering (p50/p95)
for each thread setting, so the settings can be chosen by what a caller waits.

    .venv/bin/python -m bench.speech.threads [--procs 1,2,4] [--configs default,t1,t1-nospin]
        [--seconds 40] [--pause 1.0]

Settings: ``default`` (STT 2 threads, piper onnxruntime's own), ``t1`` (STT 1, piper 1),
``t1-nospin`` (also no busy-waiting piper threads), ``t2-nospin`` (STT 2, piper 2, no spinning).
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing as mp
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import soundfile as sf

from bench.e2e.results import percentiles, save
from navan_voice.speech.audio import FloatArray, resample, to_mono

logger = logging.getLogger(__name__)

CALLER = "I need to change my flight to Boston next Tuesday, in the morning if possible."
REPLY = "I found three flights to Boston on Tuesday morning. The first leaves at 8:15 AM."


@dataclass(frozen=True)
class Threads:
    stt: int
    tts: int  # 0: onnxruntime's default
    spin: bool


CONFIGS = {
    "default": Threads(stt=2, tts=0, spin=True),
    "t1": Threads(stt=1, tts=1, spin=True),
    "t1-nospin": Threads(stt=1, tts=1, spin=False),
    "t2-nospin": Threads(stt=2, tts=2, spin=False),
    "stt1": Threads(stt=1, tts=0, spin=True),
}


def caller_audio() -> FloatArray:
    """The caller's phrase in flite's voice (not the agent's), 16 kHz mono float32."""

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "caller.wav"
        subprocess.run(["flite", "-t", CALLER, "-o", str(path)], check=True)
        data, rate = sf.read(str(path), dtype="float32")
    return resample(to_mono(data), rate, 16000)


def _worker(
    threads: Threads,
    audio: FloatArray,
    ready: Any,
    start: Any,
    seconds: float,
    pause_s: float,
    out: Any,
) -> None:
    """One call's model work, repeated from ``start`` for ``seconds``; timings to ``out``."""
    from navan_voice.speech.piper_tts import load_piper_voice
    from navan_voice.speech.whisper_engine import WhisperEngine

    whisper = WhisperEngine.load(cpu_threads=threads.stt)
    voice = load_piper_voice(threads=threads.tts, spin=threads.spin)
    whisper.transcribe(audio)  # warm both up
    list(voice.synthesize(REPLY))
    ready.put(True)
    start.wait()
    stt_s: list[float] = []
    tts_first_s: list[float] = []
    tts_s: list[float] = []
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        t0 = time.perf_counter()
        whisper.transcribe(audio)
        stt_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        for i, _ in enumerate(voice.synthesize(REPLY)):
            if i == 0:
                tts_first_s.append(time.perf_counter() - t0)
        tts_s.append(time.perf_counter() - t0)
        time.sleep(pause_s)
    out.put({"stt_s": stt_s, "tts_first_s": tts_first_s, "tts_s": tts_s})


def run_one(
    name: str, procs: int, audio: FloatArray, seconds: float, pause_s: float
) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    ready, start, out = ctx.Queue(), ctx.Event(), ctx.Queue()
    args = (CONFIGS[name], audio, ready, start, seconds, pause_s, out)
    workers = [ctx.Process(target=_worker, args=args) for _ in range(procs)]
    for w in workers:
        w.start()
    for _ in workers:  # every process loaded and warmed up
        ready.get(timeout=180)
    time.sleep(1.0)  # their start-up CPU settles
    start.set()
    got = [out.get(timeout=seconds + 120) for _ in workers]
    for w in workers:
        w.join()
    merged = {k: [x for g in got for x in g[k]] for k in ("stt_s", "tts_first_s", "tts_s")}
    return {
        "config": name,
        "procs": procs,
        "rounds": len(merged["stt_s"]),
        **{k: percentiles(v) for k, v in merged.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.speech.threads", description=__doc__)
    parser.add_argument("--procs", default="1,2,4")
    parser.add_argument("--configs", default="default,t1,t1-nospin")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--pause", type=float, default=1.0, help="the caller listening, s")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    audio = caller_audio()
    rows = []
    for procs in (int(p) for p in args.procs.split(",")):
        for name in args.configs.split(","):
            row = run_one(name, procs, audio, args.seconds, args.pause)
            rows.append(row)
            logger.info(
                "%d procs %-10s rounds %3d  STT pass p50 %.3f p95 %.3f  TTS first %.3f / %.3f"
                "  TTS whole %.3f / %.3f",
                procs,
                name,
                row["rounds"],
                row["stt_s"]["p50"],
                row["stt_s"]["p95"],
                row["tts_first_s"]["p50"],
                row["tts_first_s"]["p95"],
                row["tts_s"]["p50"],
                row["tts_s"]["p95"],
            )
    save("threads", {"caller": CALLER, "reply": REPLY, "pause_s": args.pause, "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
