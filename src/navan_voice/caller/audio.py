"""Caller audio: read a file as mono PCM at the needed rate, split utterances, write WAVs."""

from __future__ import annotations

import logging
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from navan_voice.domain.errors import AudioInputError
from navan_voice.speech.audio import resample, to_mono

logger = logging.getLogger(__name__)

FRAME_MS = 10


@dataclass(frozen=True)
class LoadedAudio:
    """Mono int16 samples at ``sample_rate``, with notes on what was converted."""

    samples: np.ndarray
    sample_rate: int
    notes: tuple[str, ...] = ()

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


def load_audio(path: Path, sample_rate: int) -> LoadedAudio:
    """Read ``path`` as mono 16-bit samples at ``sample_rate``; downmix and resample as needed.

    Raises AudioInputError with what was wrong when the file is missing, unreadable or not audio.
    """
    if not path.exists():
        raise AudioInputError(f"audio file {path} does not exist; give the path of a WAV file")
    if not path.is_file():
        raise AudioInputError(f"{path} is not a file; give the path of a WAV file")
    try:
        data, src_rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as e:
        raise AudioInputError(
            f"{path} is not a readable audio file ({e}); give a WAV, FLAC or OGG file"
        ) from e
    except OSError as e:
        raise AudioInputError(f"cannot read {path}: {e.strerror}; check its permissions") from e
    if data.shape[0] == 0:
        raise AudioInputError(f"{path} contains no audio samples; record something first")
    notes: list[str] = []
    if data.shape[1] > 1:
        notes.append(f"downmixed {data.shape[1]} channels to mono")
    mono = to_mono(data)
    if src_rate != sample_rate:
        notes.append(f"resampled {src_rate} Hz to {sample_rate} Hz")
        mono = resample(mono, int(src_rate), sample_rate)
    pcm = (np.clip(mono, -1.0, 1.0) * 32767.0).astype(np.int16)
    for note in notes:
        logger.info("%s: %s", path.name, note)
    return LoadedAudio(samples=pcm, sample_rate=sample_rate, notes=tuple(notes))


def rms_dbfs(samples: np.ndarray) -> float:
    """Loudness of int16 samples in dBFS (-inf for digital silence)."""
    if len(samples) == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))
    return 20.0 * np.log10(rms / 32768.0) if rms > 0 else float("-inf")


def trailing_quiet_s(samples: np.ndarray, rate: int, threshold_dbfs: float = -45.0) -> float:
    """Seconds of quiet at the end of ``samples`` (the padding after the last word)."""
    frame = rate * FRAME_MS // 1000
    quiet = 0
    for end in range(len(samples), frame - 1, -frame):
        if rms_dbfs(samples[end - frame : end]) > threshold_dbfs:
            break
        quiet += 1
    return quiet * FRAME_MS / 1000


def split_utterances(
    audio: LoadedAudio,
    min_pause_s: float = 0.8,
    threshold_dbfs: float = -45.0,
    pad_s: float = 0.15,
) -> list[np.ndarray]:
    """Split audio into utterances at pauses of at least ``min_pause_s`` of quiet.

    Each utterance keeps ``pad_s`` of its surrounding quiet so word edges are not clipped.
    Audio with no sound above ``threshold_dbfs`` gives an empty list.
    """
    frame = audio.sample_rate * FRAME_MS // 1000
    n_frames = len(audio.samples) // frame
    loud = np.array(
        [
            rms_dbfs(audio.samples[i * frame : (i + 1) * frame]) > threshold_dbfs
            for i in range(n_frames)
        ]
    )
    utterances: list[np.ndarray] = []
    pause_frames = int(min_pause_s * 1000 / FRAME_MS)
    pad = int(pad_s * 1000 / FRAME_MS)
    start: int | None = None
    quiet = 0
    for i, is_loud in enumerate(loud):
        if is_loud:
            if start is None:
                start = i
            quiet = 0
        elif start is not None:
            quiet += 1
            if quiet >= pause_frames:
                end = i - quiet + 1
                utterances.append(_cut(audio.samples, frame, start - pad, end + pad))
                start, quiet = None, 0
    if start is not None:
        utterances.append(_cut(audio.samples, frame, start - pad, n_frames - quiet + pad))
    return utterances


def _cut(samples: np.ndarray, frame: int, first: int, last: int) -> np.ndarray:
    return samples[max(first, 0) * frame : max(last, 0) * frame]


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write mono int16 samples as a WAV file, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(samples.astype(np.int16).tobytes())
