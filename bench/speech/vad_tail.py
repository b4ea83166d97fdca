"""How long after the caller's last word Silero VAD ends the segment, and which pauses it cuts.

The end-of-turn window starts at the VAD's END_OF_SPEECH; that comes ``min_silence_duration``
after the speech probability falls under the deactivation threshold, which itself trails the
last word (the "tail"). Both are measured here in audio time (independent of machine load), on
travel phrases from voices the agent never uses, 16 kHz and 8 kHz:

* ``wait_s``: last sound (> -45 dBFS) → END_OF_SPEECH, per min silence × deactivation threshold;
* ``cut_pct``: a sentence split by a pause of 0.3 / 0.4 / 0.5 s (the two halves, quiet
  between) — the share of those pauses that end the segment, i.e. an end of turn in ``vad``
  turn detection mode: the agent would answer a half sentence.

    .venv/bin/python -m bench.speech.vad_tail
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
from livekit.plugins import silero

from bench.speech.stt_latency import make_caller_audio
from bench.speech.turn_detector import PAIRS
from navan_voice.caller.audio import trailing_quiet_s
from navan_voice.speech.audio import array_to_frame

RESULTS = Path(__file__).resolve().parents[1] / "results"
VOICES = ("flite", "festival", "espeak")
RATES = (16000, 8000)
MIN_SILENCE = (0.3, 0.35, 0.4, 0.45, 0.55)
DEACTIVATION = (0.35, 0.5)  # livekit's default is activation (0.5) - 0.15
PAUSES = (0.3, 0.4, 0.5)
FRAME_S = 0.02


def last_sound_s(audio: np.ndarray, rate: int) -> float:
    """End of the last 10 ms window above -45 dBFS (float samples, full scale 1.0)."""
    return audio.size / rate - trailing_quiet_s(audio * 32768.0, rate)


def first_sound_s(audio: np.ndarray, rate: int) -> float:
    """Start of the first 10 ms window above -45 dBFS: the voice's lead-in quiet ends here
    (flite ≈0.28 s, festival ≈0.2 s, espeak-ng ≈0.03 s before a phrase)."""
    window = rate // 100
    for pos in range(0, audio.size - window + 1, window):
        if np.sqrt(np.mean(audio[pos : pos + window] ** 2)) > 10 ** (-45 / 20):
            return pos / rate
    return 0.0


async def end_of_speech_times(
    model: silero.VAD, audio: np.ndarray, rate: int
) -> list[tuple[float, float]]:
    """(audio time of each END_OF_SPEECH, its silence_duration), frames pushed all at once."""
    padded = np.concatenate([audio, np.zeros(int(1.5 * rate), dtype=np.float32)])
    stream = model.stream()
    step = int(FRAME_S * rate)
    for pos in range(0, padded.size - step + 1, step):
        stream.push_frame(array_to_frame(padded[pos : pos + step], rate))
    stream.end_input()
    out = []
    async for ev in stream:
        if ev.type == lk_vad.VADEventType.END_OF_SPEECH:
            out.append((ev.timestamp, ev.silence_duration))
    await stream.aclose()
    return out


async def measure(tmp: Path) -> dict[str, Any]:
    clips: list[tuple[str, int, np.ndarray, np.ndarray, np.ndarray]] = []
    for voice in VOICES:
        for rate in RATES:
            for sentence, fragment in PAIRS:
                whole = make_caller_audio(sentence, voice, rate, tmp)
                first = make_caller_audio(fragment, voice, rate, tmp)
                rest = make_caller_audio(sentence[len(fragment) :].strip(), voice, rate, tmp)
                clips.append((voice, rate, whole, first, rest))
    rows: list[dict[str, Any]] = []
    for silence in MIN_SILENCE:
        for deact in DEACTIVATION:
            model = silero.VAD.load(
                min_silence_duration=silence, deactivation_threshold=deact, sample_rate=16000
            )
            waits: list[float] = []
            tails: list[float] = []
            early = 0
            cuts = {p: 0 for p in PAUSES}
            for _voice, rate, whole, first, rest in clips:
                end = last_sound_s(whole, rate)
                events = await end_of_speech_times(model, whole, rate)
                early += sum(1 for t, _ in events if t < end)
                after = [(t, s) for t, s in events if t >= end]
                if after:
                    t, s = after[0]
                    waits.append(t - end)
                    tails.append(t - s - end)
                # both halves cut at their sounds: the quiet between them is the pause
                # (before 2026-12-04 the second half kept its voice's lead-in, see above)
                head = first[: int(last_sound_s(first, rate) * rate)]
                rest = rest[int(first_sound_s(rest, rate) * rate) :]
                for pause in PAUSES:
                    gap = np.zeros(int(pause * rate), dtype=np.float32)
                    joined = np.concatenate([head, gap, rest])
                    cut_at = head.size / rate + pause  # the second half starts here
                    events = await end_of_speech_times(model, joined, rate)
                    cuts[pause] += any(t <= cut_at + 0.05 for t, _ in events)
            n = len(clips)
            rows.append(
                {
                    "min_silence_s": silence,
                    "deactivation": deact,
                    "clips": n,
                    "wait_p50_s": round(statistics.median(waits), 3),
                    "wait_p95_s": round(float(np.percentile(waits, 95)), 3),
                    "tail_p50_s": round(statistics.median(tails), 3),
                    "split_mid_sentence": early,
                    "cut_pct": {str(p): round(100 * c / n, 1) for p, c in cuts.items()},
                }
            )
            print(json.dumps(rows[-1]))
    return {"measured_at": datetime.now(UTC).isoformat(), "rows": rows}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(measure(Path(tmp)))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    for name in (f"vad-tail-{stamp}.json", "vad-tail-latest.json"):
        (RESULTS / name).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
