"""Audio helpers shared by the speech adapters: downmix, resample, frame conversion.

Everything here works on float32 numpy arrays in [-1, 1]; resampling goes through livekit's own
resampler (soxr) so the adapters need no extra dependency.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from livekit import rtc

FloatArray = npt.NDArray[np.float32]

WHISPER_RATE = 16_000


def to_mono(samples: npt.NDArray[np.floating] | npt.NDArray[np.integer]) -> FloatArray:
    """Return float32 mono samples in [-1, 1]; a (n, channels) array is averaged to one channel."""
    if np.issubdtype(samples.dtype, np.integer):
        scale = float(np.iinfo(samples.dtype.type).max)  # type: ignore[type-var]
        data = samples.astype(np.float32) / scale
    else:
        data = samples.astype(np.float32, copy=False)
    if data.ndim == 2:
        data = data.mean(axis=1, dtype=np.float32)
    return np.ascontiguousarray(data, dtype=np.float32)


def resample(samples: FloatArray, rate: int, target: int = WHISPER_RATE) -> FloatArray:
    """Resample mono float32 audio from ``rate`` to ``target`` Hz with livekit's soxr resampler."""
    if rate == target or samples.size == 0:
        return samples
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)
    resampler = rtc.AudioResampler(rate, target, quality=rtc.AudioResamplerQuality.HIGH)
    frame = rtc.AudioFrame(
        data=pcm.tobytes(), sample_rate=rate, num_channels=1, samples_per_channel=pcm.size
    )
    out = [*resampler.push(frame), *resampler.flush()]
    if not out:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate([frame_to_array(f) for f in out])


def frame_to_array(frame: rtc.AudioFrame) -> FloatArray:
    """Mono float32 samples of one livekit frame (channels averaged)."""
    pcm = np.frombuffer(frame.data, dtype=np.int16)
    if frame.num_channels > 1:
        pcm = pcm.reshape(-1, frame.num_channels)
    return to_mono(pcm)


def frames_to_16k(frames: list[rtc.AudioFrame]) -> FloatArray:
    """Join livekit frames (any rate, any channel count) into mono 16 kHz float32 samples."""
    if not frames:
        return np.zeros(0, dtype=np.float32)
    rate = frames[0].sample_rate
    data = np.concatenate([frame_to_array(f) for f in frames])
    return resample(data, rate, WHISPER_RATE)


def array_to_frame(samples: FloatArray, rate: int) -> rtc.AudioFrame:
    """A mono 16-bit livekit frame holding ``samples``."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype(np.int16)
    return rtc.AudioFrame(
        data=pcm.tobytes(), sample_rate=rate, num_channels=1, samples_per_channel=pcm.size
    )


def rms(samples: FloatArray) -> float:
    """Root-mean-square level of ``samples`` (0.0 for an empty array)."""
    if samples.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
