"""Caller audio for the benchmarks, spoken by Debian voices that are not the agent's (piper joe),
then resampled with sox to 16 kHz (wideband) or 8 kHz (phone band)."""

from __future__ import annotations

import hashlib
import logging
import shutil
import subprocess
from pathlib import Path

import numpy as np

from navan_voice.caller.audio import load_audio, split_utterances
from navan_voice.caller.client import SAMPLE_RATE

logger = logging.getLogger(__name__)

# a short travel conversation of the seeded demo caller Alex Rivera (+14155550123), known by
# number, so the agents answer from the trip data instead of asking for identification
CALLER_PHONE = "+14155550123"
TRAVEL_TURNS = (
    "When does my flight to New York leave?",
    "What hotel am I staying at in New York?",
    "What is the cancellation policy?",
)
BARGE_IN = "Sorry, wait a moment please."
VOICES = ("flite", "festival")


def _synthesize(text: str, voice: str, path: Path) -> None:
    if voice == "flite":
        subprocess.run(["flite", "-t", text, "-o", str(path)], check=True, timeout=60)
    elif voice == "festival":
        subprocess.run(["text2wave", "-o", str(path)], input=text.encode(), check=True, timeout=60)
    else:
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(path), text], check=True, timeout=60)


def caller_wav(text: str, *, voice: str, rate: int, cache: Path) -> Path:
    """A WAV of ``text`` in ``voice`` at ``rate`` Hz (mono 16-bit), cached by content."""
    for tool in ("sox", "flite", "text2wave"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is missing: run `make install` (Debian packages)")
    key = hashlib.sha1(f"{voice}|{rate}|{text}".encode()).hexdigest()[:12]
    out = cache / f"{voice}-{rate}-{key}.wav"
    if out.exists():
        return out
    cache.mkdir(parents=True, exist_ok=True)
    raw = cache / f"raw-{key}.wav"
    _synthesize(text, voice, raw)
    subprocess.run(
        ["sox", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(out)], check=True, timeout=60
    )
    raw.unlink(missing_ok=True)
    return out


def caller_utterance(text: str, *, voice: str, rate: int, cache: Path) -> np.ndarray:
    """One utterance as the caller's microphone samples (48 kHz int16), from a ``rate`` WAV."""
    audio = load_audio(caller_wav(text, voice=voice, rate=rate, cache=cache), SAMPLE_RATE)
    parts = split_utterances(audio)
    if not parts:
        raise RuntimeError(f"synthesized caller audio for {text!r} is silent")
    return np.concatenate(parts) if len(parts) > 1 else parts[0]
