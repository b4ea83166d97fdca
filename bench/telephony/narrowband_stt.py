"""STT accuracy on narrowband phone audio: caller sentences spoken by Debian voices (flite,
espeak-ng, festival) the models never heard, sent through G.711 µ-law at 8 kHz (what a SIP call
carries), decoded and transcribed by the local Whisper. Prints WER per voice and band and the
decode time per clip, for one front-end / decoding configuration per run.

Run: nice -n 19 .venv/bin/python -m bench.telephony.narrowband_stt [--help]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from bench.telephony.wer import normalize, raw_words, word_errors
from navan_voice.speech.audio import FloatArray, resample, to_mono
from navan_voice.speech.whisper_engine import WhisperEngine

# the sentences of the first report (tuned against: keep them fixed for comparisons)
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
# never looked at while choosing options: a check that a choice is not fitted to the above
HELD_OUT = [
    "My flight to Seattle was cancelled this morning.",
    "Can you book me a hotel near the airport in Dallas?",
    "The reference number is X Y seven four nine.",
    "I want a window seat on the flight to Miami.",
    "My train to Paris leaves at nine thirty tomorrow.",
    "Can I get a refund for the unused ticket?",
    "Please add my loyalty number to the booking.",
    "Is there an earlier flight from Atlanta on Thursday?",
]
VOICES = ("flite", "espeak-ng", "festival")


def speak(voice: str, text: str, out: Path) -> None:
    if voice == "flite":
        subprocess.run(["flite", "-t", text, "-o", str(out)], check=True)
    elif voice == "espeak-ng":
        subprocess.run(["espeak-ng", "-s", "150", "-w", str(out), text], check=True)
    elif voice == "festival":
        cmd = ["text2wave", "-eval", "(voice_cmu_us_slt_arctic_hts)", "-o", str(out)]
        subprocess.run(cmd, input=text.encode(), check=True)
    else:
        raise ValueError(voice)


def phone_line(wav: Path, seed: int = 0) -> tuple[FloatArray, int]:
    """``wav`` as a SIP call carries it: 8 kHz G.711 µ-law, encoded and decoded with sox.

    sox runs without dither (``-D``), so the line is the same on every run: with sox's default
    random dither, tiny.en's transcripts change from run to run by several words per voice.
    ``seed`` > 0 adds line hiss at -66 dBFS (seeded) before the µ-law encoding: the same
    sentence on another line, a way to average over the model's sensitivity to tiny changes.
    """
    narrow = wav.with_suffix(f".{seed}.8k-linear.wav")
    subprocess.run(["sox", "-D", str(wav), "-r", "8000", "-c", "1", "-b", "16", str(narrow)],
                   check=True)  # fmt: skip
    if seed:
        audio, rate = read(narrow)
        hiss = np.random.default_rng(seed).standard_normal(audio.size).astype(np.float32)
        sf.write(str(narrow), audio + hiss * 10 ** (-66 / 20), rate, subtype="PCM_16")
    ulaw = wav.with_suffix(f".{seed}.ul")
    subprocess.run(["sox", "-D", str(narrow), "-e", "u-law", "-t", "raw", str(ulaw)], check=True)
    back = wav.with_suffix(f".{seed}.8k.wav")
    decode = ["sox", "-D", "-t", "raw", "-r", "8000", "-e", "u-law", "-b", "8", "-c", "1"]
    subprocess.run([*decode, str(ulaw), "-b", "16", str(back)], check=True)
    return read(back)


def read(path: Path) -> tuple[FloatArray, int]:
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return to_mono(data), int(rate)


# --- front-ends under test: (audio, rate) -> 16 kHz ----------------------------------------
def _fft_filter(
    audio: FloatArray, rate: int, keep: Callable[[np.ndarray], np.ndarray]
) -> FloatArray:
    spectrum = np.fft.rfft(audio)
    spectrum *= keep(np.fft.rfftfreq(audio.size, 1.0 / rate))
    return np.fft.irfft(spectrum, audio.size).astype(np.float32)


def _highpass(cutoff: float) -> Callable[[FloatArray, int], FloatArray]:
    def run(audio: FloatArray, rate: int) -> FloatArray:
        return _fft_filter(audio, rate, lambda f: (f >= cutoff).astype(np.float64))

    return run


def _preemphasis(audio: FloatArray, rate: int) -> FloatArray:
    return np.append(audio[:1], audio[1:] - 0.97 * audio[:-1]).astype(np.float32)


def _peak(audio: FloatArray, rate: int) -> FloatArray:
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio * (0.9 / peak) if peak > 1e-4 else audio


def _fold(audio: FloatArray, rate: int) -> FloatArray:
    """Zero-insertion upsampling: the 0-4 kHz band mirrored into 4-8 kHz (no image filter)."""
    if rate != 8000:
        return resample(audio, rate)
    out = np.zeros(audio.size * 2, dtype=np.float32)
    out[::2] = audio * 2.0
    return out


def _fold_soft(audio: FloatArray, rate: int) -> FloatArray:
    """The mirrored band at -20 dB under the resampled original."""
    base = resample(audio, rate)
    if rate != 8000:
        return base
    mirror = _fold(audio, rate)[: base.size]
    mirror = _fft_filter(mirror, 16000, lambda f: (f > 4000.0).astype(np.float64))
    return (base + 0.1 * mirror[: base.size]).astype(np.float32)


def _noise_high(audio: FloatArray, rate: int) -> FloatArray:
    """Resampled, plus faint noise above 4 kHz (the band a phone line leaves empty)."""
    base = resample(audio, rate)
    noise = np.random.default_rng(0).standard_normal(base.size).astype(np.float32)
    noise = _fft_filter(noise, 16000, lambda f: (f > 3800.0).astype(np.float64))
    level = float(np.sqrt(np.mean(np.square(base)))) if base.size else 0.0
    return (base + noise * level * 0.03).astype(np.float32)


def _quality(name: str) -> Callable[[FloatArray, int], FloatArray]:
    from livekit import rtc

    from navan_voice.speech.audio import frame_to_array

    quality = getattr(rtc.AudioResamplerQuality, name)

    def run(audio: FloatArray, rate: int) -> FloatArray:
        if rate == 16000:
            return audio
        pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype(np.int16)
        resampler = rtc.AudioResampler(rate, 16000, quality=quality)
        frame = rtc.AudioFrame(pcm.tobytes(), rate, 1, pcm.size)
        out = [*resampler.push(frame), *resampler.flush()]
        return np.concatenate([frame_to_array(f) for f in out])

    return run


def _fft_resample(audio: FloatArray, rate: int) -> FloatArray:
    if rate == 16000:
        return audio
    n = round(audio.size * 16000 / rate)
    spectrum = np.fft.rfft(audio)
    out = np.zeros(n // 2 + 1, dtype=complex)
    m = min(out.size, spectrum.size)
    out[:m] = spectrum[:m]
    return (np.fft.irfft(out, n) * (n / audio.size)).astype(np.float32)


def _then(
    *steps: Callable[[FloatArray, int], FloatArray],
) -> Callable[[FloatArray, int], FloatArray]:
    def run(audio: FloatArray, rate: int) -> FloatArray:
        for step in steps[:-1]:
            audio = step(audio, rate)
        return steps[-1](audio, rate)

    return run


FRONTENDS: dict[str, Callable[[FloatArray, int], FloatArray]] = {
    "soxr-high": resample,  # what the adapter does now (livekit's soxr, HIGH)
    "soxr-quick": _quality("QUICK"),
    "soxr-very-high": _quality("VERY_HIGH"),
    "fft": _fft_resample,
    "peak": _then(_peak, resample),
    **{f"highpass{hz}": _then(_highpass(hz), resample) for hz in (50, 100, 200, 300)},
    "highpass200-preemphasis": _then(_highpass(200), _preemphasis, resample),
    "preemphasis": _then(_preemphasis, resample),
    "fold": _fold,
    "fold-soft": _fold_soft,
    "noise-high": _noise_high,
}


@dataclass
class Tally:
    errors: int = 0
    words: int = 0
    decode_s: list[float] | None = None

    def add(self, errors: int, count: int, seconds: float) -> None:
        self.errors += errors
        self.words += count
        self.decode_s = [*(self.decode_s or []), seconds]

    def line(self) -> str:
        wer = 100 * self.errors / max(1, self.words)
        times = self.decode_s or [0.0]
        return (
            f"WER {wer:5.1f}% ({self.errors}/{self.words})  decode/clip "
            f"mean {statistics.mean(times):.3f} s  median {statistics.median(times):.3f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frontend", choices=sorted(FRONTENDS), default="soxr-high")
    parser.add_argument("--beam", type=int, default=1, help="beam size (1: greedy)")
    parser.add_argument("--hints", default="", help="vocabulary given to the model as hotwords")
    parser.add_argument("--voices", default="flite,espeak-ng", help=f"comma list of {VOICES}")
    parser.add_argument("--bands", default="narrowband", help="comma list: narrowband,wideband")
    parser.add_argument("--set", choices=("main", "held-out", "all"), default="main")
    parser.add_argument(
        "--lines", type=int, default=3, help="phone lines per clip: 1 clean + N-1 with hiss"
    )
    parser.add_argument("--raw-scoring", action="store_true", help="the old scorer, for reference")
    parser.add_argument(
        "--repeat", type=int, default=1, help="decode each clip N times, keep the fastest time"
    )
    parser.add_argument("--verbose", action="store_true", help="print every wrong transcript")
    args = parser.parse_args()
    sentences = {"main": SENTENCES, "held-out": HELD_OUT, "all": SENTENCES + HELD_OUT}[args.set]
    engine = WhisperEngine.load(cpu_threads=2)
    engine.beam_size = args.beam
    frontend = FRONTENDS[args.frontend]
    norm = raw_words if args.raw_scoring else normalize
    print(
        f"frontend={args.frontend} beam={args.beam} hints={args.hints[:40]!r} set={args.set} "
        f"lines={args.lines}"
    )
    engine.transcribe(np.zeros(16000, dtype=np.float32) + 0.01)  # warm-up
    with tempfile.TemporaryDirectory() as tmp:
        for voice in args.voices.split(","):
            tallies = {band: Tally() for band in args.bands.split(",")}
            for n, text in enumerate(sentences):
                wav = Path(tmp) / f"{voice}-{n}.wav"
                speak(voice, text, wav)
                lines = range(max(1, args.lines))
                for band, line in [(band, line) for band in tallies for line in lines]:
                    tally = tallies[band]
                    if band == "narrowband":
                        audio, rate = phone_line(wav, line)
                        audio16 = frontend(audio, rate)
                    elif line == 0:
                        audio, rate = read(wav)
                        audio16 = resample(audio, rate)
                    else:
                        continue  # wideband: one clean copy
                    seconds = float("inf")
                    for _ in range(max(1, args.repeat)):  # decoding is deterministic
                        started = time.perf_counter()
                        hyp = engine.transcribe(audio16, hints=args.hints).text
                        seconds = min(seconds, time.perf_counter() - started)
                    errors, count = word_errors(norm(text), norm(hyp))
                    tally.add(errors, count, seconds)
                    if args.verbose and errors:
                        print(f"  {voice} {band} {errors}: {text!r} -> {hyp!r}")
            for band, tally in tallies.items():
                print(f"{voice:10s} {band:10s} {tally.line()}")


if __name__ == "__main__":
    main()
