"""STT accuracy on narrowband phone audio: caller sentences spoken by Debian voices (flite,
espeak-ng) the models never heard, sent through G.711 µ-law at 8 kHz (what a SIP call carries),
decoded and transcribed by the local Whisper. Prints WER per voice, wideband vs narrowband.

Run: .venv/bin/python -m bench.telephony.narrowband_stt
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from navan_voice.speech.audio import resample
from navan_voice.speech.whisper_engine import WhisperEngine

SENTENCES = [
    "I need to change my flight to Boston next Tuesday.",
    "My confirmation code is A B C one two three.",
    "Can you cancel my hotel reservation in Chicago?",
    "Is a business class upgrade within our travel policy?",
    "I was charged twice for my rental car in Denver.",
    "Please move my return flight from Friday to Sunday morning.",
    "What is the status of my expense report for the London trip?",
    "I would like to speak to a person please.",
]


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def wer(ref: str, hyp: str) -> tuple[int, int]:
    r, h = words(ref), words(hyp)
    d = np.arange(len(h) + 1)
    for i in range(1, len(r) + 1):
        prev, d[0] = d.copy(), i
        for j in range(1, len(h) + 1):
            d[j] = min(prev[j] + 1, d[j - 1] + 1, prev[j - 1] + (r[i - 1] != h[j - 1]))
    return int(d[len(h)]), len(r)


def speak(voice: str, text: str, out: Path) -> None:
    if voice == "flite":
        subprocess.run(["flite", "-t", text, "-o", str(out)], check=True)
    else:
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(out), text], check=True)


def main() -> None:
    engine = WhisperEngine.load()
    with tempfile.TemporaryDirectory() as tmp:
        for voice in ("flite", "espeak-ng"):
            totals = {"wideband": [0, 0], "narrowband": [0, 0]}
            for n, text in enumerate(SENTENCES):
                wav = Path(tmp) / f"{voice}-{n}.wav"
                speak(voice, text, wav)
                ulaw = wav.with_suffix(".ul")
                subprocess.run(["sox", str(wav), "-r", "8000", "-c", "1", "-e", "u-law",
                                "-t", "raw", str(ulaw)], check=True)  # fmt: skip
                back = wav.with_suffix(".8k.wav")
                decode = ["sox", "-t", "raw", "-r", "8000", "-e", "u-law", "-b", "8", "-c", "1"]
                subprocess.run([*decode, str(ulaw), "-b", "16", str(back)], check=True)
                for band, path in (("wideband", wav), ("narrowband", back)):
                    audio, rate = sf.read(path, dtype="float32")
                    hyp = engine.transcribe(resample(audio, rate)).text
                    errors, count = wer(text, hyp)
                    totals[band][0] += errors
                    totals[band][1] += count
            for band, (errors, count) in totals.items():
                print(f"{voice:10s} {band:10s} WER {100 * errors / count:5.1f}% ({errors}/{count})")


if __name__ == "__main__":
    main()
