"""End of turn from the words (``speech/text_turn.py``): how often it waits, and on what.

Two measurements of the rules that decide whether a pause ends the caller's turn:

* **text** (instant): every caller utterance of the dialogue bench (``bench/dialogue/cases.py``,
  101 complete requests, none written for these rules) plus the turn-detector phrases. A
  complete utterance judged incomplete is a *missed* end of turn (the caller waits
  ``max_endpointing_delay``); each proper prefix, cut at every word, stands for a caller pausing
  there: the share judged incomplete is how many mid-sentence pauses the rules *protect*.
* **audio** (``--audio``, ~3 min): the turn-detector clips (three voices the agent never uses,
  16 kHz and 8 kHz; complete, cut mid-sentence, fragment said alone) through Whisper tiny.en as
  the call would run it (phone hints at 8 kHz), then the rules on what Whisper wrote -- its
  punctuation and spelling of fragments included.

    .venv/bin/python -m bench.speech.text_turn [--audio]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.dialogue.cases import BLIND, BOOKINGS, CASES, HELDOUT
from bench.speech.turn_detector import BANDS, PAIRS, ROOM_RATE, SHORT_COMPLETE, build_clips
from navan_voice.speech.text_turn import UNLIKELY, end_of_turn_probability

RESULTS = Path(__file__).resolve().parents[1] / "results"


def waits(text: str) -> bool:
    return end_of_turn_probability(text) < UNLIKELY


def complete_utterances() -> list[str]:
    said = [c.say for c in (*CASES, *HELDOUT, *BLIND, *BOOKINGS) if c.say]
    return list(dict.fromkeys([*said, *(full for full, _ in PAIRS), *SHORT_COMPLETE]))


def text_report() -> dict[str, Any]:
    utterances = complete_utterances()
    missed = [u for u in utterances if waits(u)]
    prefixes = [
        " ".join(words[:i])
        for words in (u.split() for u in utterances)
        for i in range(1, len(words))
    ]
    protected = [p for p in prefixes if waits(p)]
    # which last word a pause follows when it is not protected: where the rules could grow
    unprotected = Counter(p.split()[-1].lower().strip(",.?") for p in prefixes if not waits(p))
    return {
        "complete": len(utterances),
        "missed": missed,
        "missed_pct": 100 * len(missed) / len(utterances),
        "prefixes": len(prefixes),
        "protected_pct": 100 * len(protected) / len(prefixes),
        "unprotected_last_words": unprotected.most_common(15),
    }


def audio_report() -> dict[str, Any]:
    from navan_voice.speech.audio import resample
    from navan_voice.speech.vocabulary import travel_hints
    from navan_voice.speech.whisper_engine import WhisperEngine

    with tempfile.TemporaryDirectory() as tmp:
        clips = build_clips(Path(tmp))
    engine = WhisperEngine.load(cpu_threads=2)
    rows = []
    for clip in clips:
        audio16 = resample(clip.audio, ROOM_RATE, 16000)
        hints = travel_hints() if clip.band == 8000 else ""
        heard = engine.transcribe(audio16, hints=hints).text
        rows.append(
            {
                "label": clip.label,
                "voice": clip.voice,
                "band": clip.band,
                "said": clip.text,
                "heard": heard,
                "waits": waits(heard),
            }
        )
    table = {}
    for band in (*BANDS, None):
        for label in ("complete", "cut", "alone"):
            sel = [r for r in rows if r["label"] == label and band in (None, r["band"])]
            key = f"{label} {'all' if band is None else f'{band // 1000}k'}"
            table[key] = {
                "clips": len(sel),
                "waits_pct": 100 * sum(r["waits"] for r in sel) / max(1, len(sel)),
            }
    return {"table": table, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", action="store_true", help="also run the clips through Whisper")
    args = parser.parse_args()

    report: dict[str, Any] = {"at": datetime.now(UTC).isoformat(), "text": text_report()}
    text = report["text"]
    print(
        f"complete utterances: {text['complete']}, judged unfinished (caller waits): "
        f"{len(text['missed'])} ({text['missed_pct']:.1f} %)"
    )
    for utterance in text["missed"]:
        print(f"  waits on: {utterance!r}")
    print(
        f"pauses at every word of them: {text['prefixes']}, protected (turn waits): "
        f"{text['protected_pct']:.1f} %"
    )
    print("  most common last words of unprotected pauses:", text["unprotected_last_words"])

    if args.audio:
        report["audio"] = audio_report()
        print("\nWhisper's transcript of each clip, then the rules:")
        print(f"{'clips':22s} {'n':>4s} {'turn waits':>11s}")
        for key, row in report["audio"]["table"].items():
            print(f"{key:22s} {row['clips']:4d} {row['waits_pct']:10.1f} %")
        for row in report["audio"]["rows"]:
            wrong = row["waits"] == (row["label"] == "complete")
            if wrong:
                print(f"  {row['label']:8s} {row['voice']:8s} {row['band']:5d} {row['heard']!r}")

    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    for name in (f"text-turn-{stamp}.json", "text-turn-latest.json"):
        (RESULTS / name).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
