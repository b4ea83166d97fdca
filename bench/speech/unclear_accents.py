"""Does the unclear-speech check ask accented English callers to repeat themselves?

The threshold behind ``NAVAN_STT_UNCLEAR_BELOW`` (speech/unclear.py) was chosen on other
languages against three Debian English voices (bench/speech/unclear_speech.py). Real callers have
accents. No accented recordings ship here, so this bench uses the nearest thing there is:
espeak-ng's regional English voices (Scotland, Caribbean, New York City, West Midlands,
Lancaster, received pronunciation) and, as a harder stress test, English text read with other
languages' espeak-ng voices (English words through Spanish, French, German, Italian or Hindi
pronunciation rules: a heavier accent than most speakers have). The 16 travel sentences of the
narrowband bench, at 16 kHz and as an 8 kHz µ-law line, decoded as calls decode them.

For each group it reports how many clips the shipped rule marks as unclear, and the word error
rate of what Whisper heard, for the marked and the unmarked clips apart. A mark on a clip Whisper
heard right costs the caller a repeat; a mark on a clip it heard wrong saves the dialogue from
acting on wrong words.

Run: .venv/bin/python -m bench.speech.unclear_accents
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.e2e.results import save
from bench.speech.unclear_speech import bands, decoding
from bench.telephony.narrowband_stt import HELD_OUT, SENTENCES
from bench.telephony.wer import normalize, word_errors
from navan_voice.config import load_settings
from navan_voice.speech.unclear import UNCLEAR_BELOW, is_unclear
from navan_voice.speech.whisper_engine import WhisperEngine

# espeak-ng voices: English accents of English, then English read by other languages' rules
REGIONAL = ("en-us", "en-gb-scotland", "en-029", "en-us-nyc", "en-gb-x-gbcwmd",
            "en-gb-x-gbclan", "en-gb-x-rp")  # fmt: skip
FOREIGN_RULES = ("es", "fr", "de", "it", "hi")
# a clip heard with at most this word error rate counts as understood
UNDERSTOOD_WER = 0.25


@dataclass(frozen=True)
class Heard:
    voice: str
    band: str
    text: str
    heard: str
    score: float
    errors: int
    words: int

    @property
    def wer(self) -> float:
        return self.errors / self.words


def transcribe_all(work: Path) -> list[Heard]:
    engine = WhisperEngine.load(cpu_threads=1)
    by_band = decoding(load_settings(profile="local"))
    out = []
    for voice in REGIONAL + FOREIGN_RULES:
        for i, text in enumerate(SENTENCES + HELD_OUT):
            wav = work / f"{voice}-{i}.wav"
            cmd = ["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), text]
            subprocess.run(cmd, check=True)
            for band, audio in bands(wav).items():
                hints, beam = by_band[band]
                result = engine.transcribe(audio, hints=hints, beam_size=beam)
                errors, words = word_errors(normalize(text), normalize(result.text))
                out.append(Heard(voice, band, text, result.text, result.avg_logprob, errors, words))
    return out


def summary(clips: list[Heard], below: float = UNCLEAR_BELOW) -> list[dict[str, object]]:
    """Per voice and band: clips marked by the shipped rule, and how well the marked and the
    unmarked ones were heard."""
    rows: list[dict[str, object]] = []
    for voice in REGIONAL + FOREIGN_RULES:
        for band in ("16k", "8k"):
            group = [c for c in clips if c.voice == voice and c.band == band]
            marked = [c for c in group if is_unclear(c.heard, c.score, below)]
            kept = [c for c in group if c not in marked]
            rows.append(
                {
                    "voice": voice,
                    "band": band,
                    "clips": len(group),
                    "marked": len(marked),
                    "marked, heard right": sum(c.wer <= UNDERSTOOD_WER for c in marked),
                    "WER marked": _wer(marked),
                    "WER not marked": _wer(kept),
                }
            )
    return rows


def _wer(clips: list[Heard]) -> str:
    if not clips:
        return "-"
    return f"{100 * sum(c.errors for c in clips) / sum(c.words for c in clips):.1f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clips = transcribe_all(Path(tmp))
    rows = summary(clips)
    header = list(rows[0])
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(str(row[h]) for h in header))
    for group, voices in (("regional", REGIONAL), ("foreign rules", FOREIGN_RULES)):
        mine = [c for c in clips if c.voice in voices]
        marked = [c for c in mine if is_unclear(c.heard, c.score, UNCLEAR_BELOW)]
        right = [c for c in marked if c.wer <= UNDERSTOOD_WER]
        print(
            f"{group}: {len(marked)}/{len(mine)} marked ({len(right)} of them heard right); "
            f"WER marked {_wer(marked)}, not marked {_wer([c for c in mine if c not in marked])}"
        )
    for c in sorted(clips, key=lambda c: c.score):
        if is_unclear(c.heard, c.score, UNCLEAR_BELOW):
            print(f"{c.score:6.2f} {c.voice:15} {c.band:3} wer {c.wer:4.2f} {c.heard!r}")
    save("unclear_accents", {"clips": [c.__dict__ for c in clips], "rows": rows})


if __name__ == "__main__":
    main()
