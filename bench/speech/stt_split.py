"""A sentence paused mid-way through the streaming STT: split into two finals, and at what cost.

The streaming WhisperSTT calls a phrase final once ``final_silence_s`` of quiet has passed and a
pass (started at ``candidate_silence_s``) covers it. A caller's pause longer than that, but
shorter than the VAD silence that ends the turn, splits the sentence into two transcripts: the
second pass only hears the second half (prompted with the first's text). Lower settings bring
the final sooner (bench/REPORT.md, session 7) and split more pauses. Per setting, on the
turn-detector sentences cut at a word (two Debian voices the agent never uses, 16 kHz and 8 kHz
µ-law, phone hints at 8 kHz), with a pause of each length between the halves, pushed in real
time:

* ``split_pct``: clips whose sentence came back as two or more finals;
* ``wer_pct``: word errors of the finals joined, against the sentence (``bench.telephony.wer``);
* ``final_p50_s``: last loud sample → the last final, wall clock;
* ``early_end_pct`` (early ``end``: the preflight, and the early end of turn of
  speech/early_end.py, text judged by ``text_turn.sure_end_of_turn``): clips whose turn the STT
  ended early. With a pause, an early end there is a request answered half-way (it also shows
  as a split); without, it is the turn that ends ≈0.25 s sooner.

Both halves are cut at their sounds (> -45 dBFS), so the quiet between them is the pause.

    .venv/bin/python -m bench.speech.stt_split [--pauses 0,0.25,0.35]
        [--settings 0.1/0.3/final,0.064/0.2/final,0.064/0.2/preflight,0.064/0.2/end]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np
from livekit.agents import stt

from bench.speech.stt_latency import make_caller_audio
from bench.speech.turn_detector import PAIRS
from bench.speech.vad_tail import first_sound_s, last_sound_s
from bench.telephony.wer import normalize, word_errors
from navan_voice.speech.audio import array_to_frame, resample
from navan_voice.speech.text_turn import sure_end_of_turn
from navan_voice.speech.vad import load_vad
from navan_voice.speech.vocabulary import travel_hints
from navan_voice.speech.whisper_engine import WhisperEngine
from navan_voice.speech.whisper_stt import EarlyTranscript, WhisperSTT

RESULTS = Path(__file__).resolve().parents[1] / "results"
VOICES = ("flite", "festival")
RATES = (16000, 8000)
# candidate_silence_s/final_silence_s/early: session 7's defaults, its faster pair, and the
# faster pair as a preflight (the final at the VAD's end of speech)
SETTINGS = "0.1/0.3/final,0.064/0.2/final,0.064/0.2/preflight"
FRAME_S = 0.02
TURN_SILENCE_S = 0.45  # the VAD silence that ends the segment (the worker's default)


def phone_line(audio: np.ndarray, tmp: Path) -> np.ndarray:
    """8 kHz float audio through G.711 µ-law and back, as a SIP call carries it (sox, no dither)."""
    src, dst = tmp / "line-in.raw", tmp / "line-out.raw"
    (np.clip(audio, -1, 1) * 32767).astype("<i2").tofile(src)
    raw = ["-t", "raw", "-r", "8000", "-c", "1"]
    subprocess.run(
        [
            "sox",
            "-D",
            *raw,
            "-e",
            "signed",
            "-b",
            "16",
            str(src),
            *raw,
            "-e",
            "mu-law",
            "-b",
            "8",
            str(tmp / "line.ul"),
        ],
        check=True,
    )
    subprocess.run(
        [
            "sox",
            "-D",
            *raw,
            "-e",
            "mu-law",
            "-b",
            "8",
            str(tmp / "line.ul"),
            *raw,
            "-e",
            "signed",
            "-b",
            "16",
            str(dst),
        ],
        check=True,
    )
    return np.fromfile(dst, dtype="<i2").astype(np.float32) / 32768.0


async def transcribe_live(
    model: WhisperSTT, audio: np.ndarray, rate: int
) -> tuple[list[str], float, int]:
    """Push ``audio`` (then 1 s of quiet) in real time; the finals, last sound → last final, and
    how many times the STT ended the turn early."""
    ended: list[str] = []
    model.on("end_of_turn", ended.append)
    end = last_sound_s(audio, rate)
    padded = np.concatenate([audio, np.zeros(rate, dtype=np.float32)])
    stream = model.stream()
    step = int(FRAME_S * rate)
    start = time.perf_counter()

    async def push() -> None:
        for i, pos in enumerate(range(0, padded.size - step + 1, step)):
            stream.push_frame(array_to_frame(padded[pos : pos + step], rate))
            await asyncio.sleep(max(0.0, start + (i + 1) * FRAME_S - time.perf_counter()))
        stream.end_input()

    pusher = asyncio.create_task(push())
    finals: list[str] = []
    last = start
    async for ev in stream:
        if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT and ev.alternatives[0].text:
            finals.append(ev.alternatives[0].text)
            last = time.perf_counter()
    await pusher
    await stream.aclose()
    model.off("end_of_turn", ended.append)
    return finals, last - start - end, len(ended)


def build(tmp: Path, pauses: list[float]) -> list[dict[str, Any]]:
    clips = []
    for voice in VOICES:
        for sentence, fragment in PAIRS:
            first = make_caller_audio(fragment, voice, 16000, tmp)
            rest = make_caller_audio(sentence[len(fragment) :].strip(), voice, 16000, tmp)
            head = first[: int(last_sound_s(first, 16000) * 16000)]
            rest = rest[int(first_sound_s(rest, 16000) * 16000) :]
            for pause in pauses:
                joined = np.concatenate([head, np.zeros(int(pause * 16000), np.float32), rest])
                for rate in RATES:
                    audio = (
                        joined if rate == 16000 else phone_line(resample(joined, 16000, 8000), tmp)
                    )
                    clips.append(
                        {
                            "voice": voice,
                            "rate": rate,
                            "pause": pause,
                            "text": sentence,
                            "audio": audio,
                        }
                    )
    return clips


async def measure(
    clips: list[dict[str, Any]], settings: list[tuple[float, float, str]]
) -> list[dict[str, Any]]:
    engine = WhisperEngine.load(cpu_threads=2)
    vad = load_vad(min_silence_duration=TURN_SILENCE_S)
    rows = []
    for candidate, final, early in settings:
        models = {
            rate: WhisperSTT(
                engine,
                vad=vad,
                interim_interval_s=0.0,
                candidate_silence_s=candidate,
                final_silence_s=final,
                early=cast(EarlyTranscript, "preflight" if early == "end" else early),
                hints=travel_hints() if rate == 8000 else "",
            )
            for rate in RATES
        }
        for model in models.values():
            model.ends_turn = sure_end_of_turn if early == "end" else None
        for clip in clips:
            finals, delay, ended = await transcribe_live(
                models[clip["rate"]], clip["audio"], clip["rate"]
            )
            errors, words = word_errors(normalize(clip["text"]), normalize(" ".join(finals)))
            row = {k: clip[k] for k in ("voice", "rate", "pause", "text")}
            row |= {
                "candidate_s": candidate,
                "final_s": final,
                "early": early,
                "finals": finals,
                "errors": errors,
                "words": words,
                "final_delay_s": round(delay, 3),
                "early_ends": ended,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []

    def key(r: dict[str, Any]) -> tuple[float, float, str, float]:
        return (r["candidate_s"], r["final_s"], r.get("early", "final"), r["pause"])

    for k in sorted({key(r) for r in rows}):
        candidate, final, early, pause = k
        group = [r for r in rows if key(r) == k]
        out.append(
            {
                "candidate_s": candidate,
                "final_s": final,
                "early": early,
                "pause_s": pause,
                "clips": len(group),
                "split_pct": round(100 * sum(len(r["finals"]) > 1 for r in group) / len(group), 1),
                "wer_pct": round(
                    100 * sum(r["errors"] for r in group) / sum(r["words"] for r in group), 1
                ),
                "final_p50_s": round(statistics.median(r["final_delay_s"] for r in group), 3),
                "early_end_pct": round(
                    100 * sum(r.get("early_ends", 0) > 0 for r in group) / len(group), 1
                ),
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pauses", default="0,0.25,0.35")
    parser.add_argument(
        "--settings", default=SETTINGS, help="candidate/final/early, comma-separated"
    )
    args = parser.parse_args()
    pauses = [float(p) for p in args.pauses.split(",")]
    settings = []
    for item in args.settings.split(","):
        candidate, final, early = item.split("/")
        if early not in ("preflight", "final", "end"):
            parser.error(f"early must be preflight, final or end, not {early!r}")
        settings.append((float(candidate), float(final), early))
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        clips = build(Path(tmp), pauses)
        rows = asyncio.run(measure(clips, settings))
    table = summarize(rows)
    print("\ncandidate  final  early      pause  clips  split   WER    final p50  early end")
    for t in table:
        print(
            f"{t['candidate_s']:9.3f} {t['final_s']:6.2f} {t['early']:10s} {t['pause_s']:6.2f} "
            f"{t['clips']:6d} "
            f"{t['split_pct']:5.1f}% {t['wer_pct']:5.1f}%  {t['final_p50_s']:.3f} s"
            f"  {t['early_end_pct']:5.1f}%"
        )
    result = {
        "measured_at": datetime.now(UTC).isoformat(),
        "load_avg_before": load_before,
        "load_avg_after": os.getloadavg(),
        "summary": table,
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    for name in (f"stt-split-{stamp}.json", "stt-split-latest.json"):
        (RESULTS / name).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
