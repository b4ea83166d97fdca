"""Where a Whisper pass spends its time, and two ways to spend less of it that were measured.

A pass is one encoder run over the caller's phrase (padded to the engine's window) and one
decoder run over its words. On the caller sentences of ``bench.telephony.narrowband_stt`` (16
sentences, flite / espeak-ng / festival; ``--study beam``: 8 kHz µ-law over 3 lines, the phone
path's hints; ``--study window``: 16 kHz and 8 kHz, one line, no hints, as web calls decode),
one Whisper thread as in a call:

* ``--study beam``: the encoder, a greedy decode and a beam-2 decode timed apart on the same
  encoder output, per clip; then WER and pass time for greedy, beam 2 (phone calls' default),
  beam 2 with patience 0.5 (stop at the first finished hypothesis), and "greedy, then beam 2
  from the same encoder output when greedy's score is under T";
* ``--study window``: the engine's window (at least ``MIN_FRAMES``, 10 s) against windows of
  the phrase plus 1 s or 3 s (a shorter encoder run), with and without CTranslate2's
  ``no_repeat_ngram_size``.

    .venv/bin/python -m bench.speech.whisper_decode --study beam|window
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.e2e.stack import RESULTS
from bench.telephony.narrowband_stt import HELD_OUT, SENTENCES, phone_line, read, speak
from bench.telephony.wer import normalize, word_errors
from navan_voice.speech import whisper_engine as we
from navan_voice.speech.audio import WHISPER_RATE, FloatArray, resample
from navan_voice.speech.vocabulary import resolve_hints

VOICES = ("flite", "espeak-ng", "festival")
THRESHOLDS = (-0.2, -0.25, -0.3, -0.35, -0.4, -0.5)


def clips(*, bands: tuple[int, ...], lines: int) -> list[dict[str, Any]]:
    """Every sentence in every voice, at each rate (8 = µ-law phone line), as 16 kHz audio."""
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for part, sentences in (("main", SENTENCES), ("held-out", HELD_OUT)):
            for n, text in enumerate(sentences):
                for voice in VOICES:
                    wav = Path(tmp) / f"{part}-{n}-{voice}.wav"
                    speak(voice, text, wav)
                    for band in bands:
                        for line in range(lines if band == 8 else 1):
                            audio, rate = phone_line(wav, line) if band == 8 else read(wav)
                            out.append(
                                {"set": part, "voice": voice, "band": band, "line": line,
                                 "text": text, "audio": resample(audio, rate)}
                            )  # fmt: skip
    return out


class Decoder:
    """The engine's own steps, timed apart: its feature window, the encoder, the decoder."""

    def __init__(self, engine: we.WhisperEngine) -> None:
        self.engine = engine
        self.model = engine._model

    def encode(self, audio: FloatArray, *, min_frames: int, pad: int) -> tuple[Any, float]:
        from faster_whisper.transcribe import get_ctranslate2_storage

        features = self.model.feature_extractor(audio)
        frames = min(we.NATIVE_FRAMES, max(min_frames, features.shape[1] + pad))
        padded = np.zeros((features.shape[0], frames), dtype=np.float32)
        width = min(frames, features.shape[1])
        padded[:, :width] = features[:, :width]
        started = time.perf_counter()
        encoded = self.model.model.encode(get_ctranslate2_storage(padded[None]))
        return encoded, time.perf_counter() - started

    def decode(
        self, encoded: Any, tokens: list[int], audio_s: float, **options: Any
    ) -> dict[str, Any]:
        max_length = min(448, len(tokens) + 16 + math.ceil(audio_s * 7))  # as the engine
        started = time.perf_counter()
        out = self.model.model.generate(
            encoded, [tokens], max_length=max_length, return_scores=True, suppress_blank=True,
            return_no_speech_prob=True, **options,
        )[0]  # fmt: skip
        seconds = time.perf_counter() - started
        tokenizer = self.engine._tokenizer
        ids = [t for t in out.sequences_ids[0] if t < tokenizer.eot]
        text = we.collapse_repeated_sentences(tokenizer.decode(ids).strip())
        return {"text": text, "score": float(out.scores[0]), "s": seconds}


def errors(clip: dict[str, Any], text: str) -> tuple[int, int]:
    return word_errors(normalize(clip["text"]), normalize(text))


def wer(rows: list[dict[str, Any]], pick: Callable[[dict[str, Any]], str]) -> float:
    e = n = 0
    for row in rows:
        got, count = errors(row["clip"], pick(row))
        e, n = e + got, n + count
    return round(100 * e / max(1, n), 1)


def times(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50_ms": round(1000 * statistics.median(ordered), 1),
        "p95_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        "mean_ms": round(1000 * statistics.mean(ordered), 1),
    }


def study_beam(decoder: Decoder) -> dict[str, Any]:
    tokens = decoder.engine._prefix("", resolve_hints("travel"))
    rows: list[dict[str, Any]] = []
    for clip in clips(bands=(8,), lines=3):
        audio_s = clip["audio"].size / WHISPER_RATE
        encoded, encode_s = decoder.encode(clip["audio"], min_frames=we.MIN_FRAMES, pad=100)
        rows.append(
            {
                "clip": clip,
                "encode_s": encode_s,
                "greedy": decoder.decode(encoded, tokens, audio_s, beam_size=1),
                "beam2": decoder.decode(encoded, tokens, audio_s, beam_size=2),
                "patience": decoder.decode(encoded, tokens, audio_s, beam_size=2, patience=0.5),
            }
        )

    enc = [r["encode_s"] for r in rows]

    def policy(name: str, pick: Callable[[dict[str, Any]], str], extra: list[float]) -> dict:
        """WER per voice and per sentence set, and the pass (encoder + ``extra``) times."""
        by_voice = {v: wer([r for r in rows if r["clip"]["voice"] == v], pick) for v in VOICES}
        by_set = {
            s: wer([r for r in rows if r["clip"]["set"] == s], pick) for s in ("main", "held-out")
        }
        seconds = [e + x for e, x in zip(enc, extra, strict=True)]
        return {"policy": name, "wer_pct": by_voice, "wer_by_set_pct": by_set,
                "pass": times(seconds)}  # fmt: skip

    policies = [
        policy(label, lambda r, k=key: r[k]["text"], [r[key]["s"] for r in rows])  # type: ignore[misc]
        for label, key in (
            ("greedy", "greedy"),
            ("beam 2", "beam2"),
            ("beam 2, patience 0.5", "patience"),
        )
    ]
    for threshold in THRESHOLDS:

        def unsure(r: dict[str, Any], t: float = threshold) -> bool:
            return bool(r["greedy"]["score"] < t)

        entry = policy(
            f"greedy, beam 2 when score < {threshold}",
            lambda r, u=unsure: r["beam2"]["text"] if u(r) else r["greedy"]["text"],  # type: ignore[misc]
            [r["greedy"]["s"] + (r["beam2"]["s"] if unsure(r) else 0.0) for r in rows],
        )
        entry["beam_share_pct"] = round(100 * sum(unsure(r) for r in rows) / len(rows))
        policies.append(entry)
    return {
        "clips": len(rows),
        "encode": times(enc),
        "greedy_decode": times([r["greedy"]["s"] for r in rows]),
        "beam2_decode": times([r["beam2"]["s"] for r in rows]),
        "policies": policies,
    }


def study_window(decoder: Decoder) -> dict[str, Any]:
    tokens = decoder.engine._prefix("", "")
    configs = [
        ("engine window (>= 10 s)", we.MIN_FRAMES, 100, 0),
        ("phrase + 1 s", 0, 100, 0),
        ("phrase + 3 s", 0, 300, 0),
        ("phrase + 1 s, no repeated 3-grams", 0, 100, 3),
        ("phrase + 3 s, no repeated 3-grams", 0, 300, 3),
    ]
    all_clips = clips(bands=(16, 8), lines=1)
    out = []
    for name, min_frames, pad, ngram in configs:
        rows, seconds = [], []
        for clip in all_clips:
            encoded, encode_s = decoder.encode(clip["audio"], min_frames=min_frames, pad=pad)
            audio_s = clip["audio"].size / WHISPER_RATE
            result = decoder.decode(
                encoded, tokens, audio_s, beam_size=1, no_repeat_ngram_size=ngram
            )
            rows.append({"clip": clip, **result})
            seconds.append(encode_s + result["s"])
        out.append(
            {
                "window": name,
                "wer_pct": {
                    f"{band} kHz": wer(
                        [r for r in rows if r["clip"]["band"] == band], lambda r: r["text"]
                    )
                    for band in (16, 8)
                },
                "pass": times(seconds),
            }
        )
        print(out[-1], flush=True)
    return {"clips": len(all_clips), "windows": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--study", choices=("beam", "window"), default="beam")
    args = parser.parse_args()
    engine = we.WhisperEngine.load(cpu_threads=1)  # one thread per call, as the worker runs it
    engine.transcribe(np.zeros(16000, dtype=np.float32) + 0.01)  # warm-up
    decoder = Decoder(engine)
    result = study_beam(decoder) if args.study == "beam" else study_window(decoder)
    result = {"benchmark": f"whisper_decode_{args.study}", "at": datetime.now(UTC).isoformat(),
              **result}  # fmt: skip
    path = RESULTS / f"whisper-decode-{args.study}-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: v for k, v in result.items() if k != "windows"}, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
