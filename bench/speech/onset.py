"""How soon after a caller's first sound the VAD has counted enough speech to pause the agent.

livekit pauses the agent's reply once the VAD has counted ``min_interruption_duration`` (0.1 s)
of caller speech. Measured in audio time (independent of machine load), Silero alone against
``OnsetVAD`` (Silero with the word's voiceless onset counted, ``navan_voice.speech.onset``):

* ``pause_s``: the caller's first sound (a 10 ms window > -50 dBFS) → the first INFERENCE_DONE
  whose ``speech_duration`` reaches 0.1 s, over interruption phrases said by three Debian voices
  at 16 and 8 kHz, after 0.5 s of line hiss at -66 dBFS;
* ``noise``: sounds that are no words (a click, a 0.3 s rustle of noise, a steady noise bed at
  -40 dBFS): how many would pause the agent, and the phrases over the noise bed (no credit
  expected: the stretch before the word is not an onset).

    .venv/bin/python -m bench.speech.onset
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from livekit.agents import vad as lk_vad

from bench.speech.stt_latency import make_caller_audio
from navan_voice.speech.audio import array_to_frame
from navan_voice.speech.onset import LOUD_DBFS, OnsetVAD
from navan_voice.speech.vad import load_vad

RESULTS = Path(__file__).resolve().parents[1] / "results"
VOICES = ("flite", "festival", "espeak")
RATES = (16000, 8000)
PHRASES = (
    "Sorry, wait a moment please.",
    "Stop, that's not right.",
    "Hold on a second.",
    "Wait, no.",
    "Cancel that.",
    "Actually, I meant Tuesday.",
    "Excuse me.",
    "So what about my hotel?",
    "Five, not four.",
    "Thanks, that's all.",
    "Hey, can you repeat that?",
    "Change it to Friday.",
)
MIN_INTERRUPTION_S = 0.1
FRAME_S = 0.02
LEAD_S = 0.5
HISS_DBFS = -66.0


def _hiss(n: int, dbfs: float, seed: int) -> np.ndarray:
    level = 10 ** (dbfs / 20)
    return (np.random.default_rng(seed).standard_normal(n) * level).astype(np.float32)


def first_sound_s(audio: np.ndarray, rate: int) -> float | None:
    step = int(0.01 * rate)
    for i in range(0, audio.size - step, step):
        if 20 * np.log10(np.sqrt(np.mean(audio[i : i + step] ** 2)) + 1e-12) > LOUD_DBFS:
            return i / rate
    return None


async def pause_at_s(model: lk_vad.VAD, audio: np.ndarray, rate: int) -> float | None:
    """Audio time at which the VAD has counted MIN_INTERRUPTION_S of speech (None: never)."""
    padded = np.concatenate([audio, np.zeros(int(1.0 * rate), dtype=np.float32)])
    stream = model.stream()
    step = int(FRAME_S * rate)
    for pos in range(0, padded.size - step + 1, step):
        stream.push_frame(array_to_frame(padded[pos : pos + step], rate))
    stream.end_input()
    at: float | None = None
    async for ev in stream:
        if (
            at is None
            and ev.type == lk_vad.VADEventType.INFERENCE_DONE
            and ev.speech_duration >= MIN_INTERRUPTION_S
        ):
            at = ev.timestamp
    await stream.aclose()
    return at


def _noises(rate: int) -> dict[str, np.ndarray]:
    lead = _hiss(int(LEAD_S * rate), HISS_DBFS, 1)
    click = np.zeros(int(0.5 * rate), dtype=np.float32)
    click[: int(0.004 * rate)] = 0.5
    rustle = _hiss(int(0.3 * rate), -25.0, 2)
    bed = _hiss(int(2.0 * rate), -40.0, 3)
    return {
        "click": np.concatenate([lead, click]),
        "rustle 0.3 s": np.concatenate([lead, rustle]),
        "noise bed -40 dBFS": bed,
    }


async def main() -> dict[str, Any]:
    raw = load_vad()
    onset = OnsetVAD(load_vad())
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for voice in VOICES:
            for rate in RATES:
                for i, phrase in enumerate(PHRASES):
                    words = make_caller_audio(phrase, voice, rate, Path(tmp))
                    lead = _hiss(int(LEAD_S * rate), HISS_DBFS, i)
                    clip = np.concatenate([lead, words])
                    bed = _hiss(clip.size + int(1.0 * rate), -40.0, 100 + i)[: clip.size]
                    sound = first_sound_s(clip, rate)
                    assert sound is not None
                    row: dict[str, Any] = {"voice": voice, "rate": rate, "phrase": phrase}
                    for name, model in (("silero", raw), ("onset", onset)):
                        at = await pause_at_s(model, clip, rate)
                        row[name] = None if at is None else round(at - sound, 3)
                        over_bed = await pause_at_s(model, clip + bed, rate)
                        row[f"{name}_over_bed"] = (
                            None if over_bed is None else round(over_bed - sound, 3)
                        )
                    rows.append(row)
        noise = {
            f"{name} @{rate}": {
                "silero": await pause_at_s(raw, audio, rate) is not None,
                "onset": await pause_at_s(onset, audio, rate) is not None,
            }
            for rate in RATES
            for name, audio in _noises(rate).items()
        }

    def p(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    summary: dict[str, Any] = {}
    for key in ("silero", "onset", "silero_over_bed", "onset_over_bed"):
        for voice in (*VOICES, "all"):
            got = [r[key] for r in rows if (voice == "all" or r["voice"] == voice)]
            values = [v for v in got if v is not None]
            summary.setdefault(key, {})[voice] = {
                "p50": round(statistics.median(values), 3) if values else None,
                "p95": p(values, 0.95) if values else None,
                "missed": len(got) - len(values),
            }
    out = {
        "benchmark": "onset",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "min_interruption_s": MIN_INTERRUPTION_S,
        "summary": summary,
        "noise_pauses": noise,
        "rows": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "onset-latest.json").write_text(json.dumps(out, indent=1))
    print(json.dumps({"summary": summary, "noise_pauses": noise}, indent=1))
    return out


if __name__ == "__main__":
    asyncio.run(main())
