"""Barge-in from the first sound of a word, not from its vowel.

livekit pauses the agent once the VAD has counted ``min_interruption_duration`` of caller speech
(the VAD events' ``speech_duration``). Silero scores a voiceless onset, the hiss of "Sorry" or
"Stop", as non-speech, so a caller whose first word starts with one waited ≈0.1 s longer than a
caller whose first word starts voiced (bench/REPORT.md, session 5: 0.35 s against 0.21 s).

``OnsetVAD`` wraps a livekit VAD. When the inner VAD starts a speech segment, the loud stretch
right before it is counted as speech too, provided it rose out of quiet and lasted less than
``MAX_ONSET_S``: a consonant, not a noise bed (a line that is loud all along gets no credit, so
noise alone still never pauses the agent, and the segment itself must still be speech to the
inner VAD). Only ``speech_duration`` of the segment's INFERENCE_DONE events changes (that is what
livekit compares with ``min_interruption_duration``), and the window that starts a segment is
reported as speech too. Start and end of speech, and so end of turn, are the inner VAD's own.

livekit has no hook for this (its VAD stream is the whole decision), hence a wrapper.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import deque

import numpy as np
from livekit import rtc
from livekit.agents import vad

# a 10 ms window louder than this is sound (the bench callers' onsets are -45..-20 dBFS)
LOUD_DBFS = -50.0
# a loud stretch this long before the speech is a noise bed, not an onset (through Opus, flite's
# "Sorry" is loud for 0.29 s before Silero starts the segment; offline, 0.11 s)
MAX_ONSET_S = 0.5
_WINDOW_S = 0.01
_HISTORY_S = 1.0
_LOUD_RMS = 32768.0 * 10 ** (LOUD_DBFS / 20)

logger = logging.getLogger(__name__)


class OnsetVAD(vad.VAD):
    """``inner`` with each speech segment's voiceless onset counted as speech (see module)."""

    def __init__(self, inner: vad.VAD) -> None:
        super().__init__(capabilities=inner.capabilities)
        self._inner = inner

    @property
    def inner(self) -> vad.VAD:
        return self._inner

    @property
    def model(self) -> str:
        return self._inner.model

    @property
    def provider(self) -> str:
        return self._inner.provider

    def stream(self) -> OnsetVADStream:
        return OnsetVADStream(self, self._inner.stream())


class ForwardingVADStream(vad.VADStream):
    """A VAD stream whose audio goes to ``_inner`` (set before ``super().__init__``), the base
    of the wrappers that rewrite its events: OnsetVADStream, early_end.EarlyEndVADStream."""

    _inner: vad.VADStream

    def push_frame(self, frame: rtc.AudioFrame) -> None:
        self._check_input_not_ended()
        self._check_not_closed()
        self._inner.push_frame(frame)

    def flush(self) -> None:
        self._check_input_not_ended()
        self._check_not_closed()
        self._inner.flush()

    def end_input(self) -> None:
        self._inner.end_input()
        self._input_ch.close()

    async def aclose(self) -> None:
        await self._inner.aclose()
        await super().aclose()


class OnsetVADStream(ForwardingVADStream):
    """Frames go straight to the inner stream; its events come back with the onset credited."""

    def __init__(self, owner: OnsetVAD, inner: vad.VADStream) -> None:
        self._inner = inner
        # loud/quiet per 10 ms of the audio the inner VAD has scored, newest last
        self._loud: deque[bool] = deque(maxlen=int(_HISTORY_S / _WINDOW_S))
        self._rest = np.zeros(0, dtype=np.int16)  # samples short of a whole window
        self._credit = 0.0  # seconds credited to the current speech segment
        super().__init__(owner)  # starts _main_task

    async def _main_task(self) -> None:
        async for ev in self._inner:
            self._event_ch.send_nowait(self._credited(ev))
            if ev.type == vad.VADEventType.START_OF_SPEECH and self._credit:
                # Silero reports the window that starts a segment as not speaking (its
                # INFERENCE_DONE comes before START), so livekit's first chance to pause would be
                # the next window, 32 ms on: report this window again, as speech, with the credit
                self._event_ch.send_nowait(
                    vad.VADEvent(
                        type=vad.VADEventType.INFERENCE_DONE,
                        samples_index=ev.samples_index,
                        timestamp=ev.timestamp,
                        speech_duration=ev.speech_duration + self._credit,
                        silence_duration=0.0,
                        speaking=True,
                        raw_accumulated_speech=ev.speech_duration,
                    )
                )

    def _credited(self, ev: vad.VADEvent) -> vad.VADEvent:
        if ev.type == vad.VADEventType.INFERENCE_DONE:
            for frame in ev.frames:  # the audio this inference scored
                self._add(frame)
            if ev.speaking and self._credit:
                return dataclasses.replace(ev, speech_duration=ev.speech_duration + self._credit)
        elif ev.type == vad.VADEventType.START_OF_SPEECH:
            self._credit = self.onset_before(ev.speech_duration)
            logger.debug("speech starts; %.2f s of onset before it count as speech", self._credit)
        else:
            self._credit = 0.0
        return ev

    def _add(self, frame: rtc.AudioFrame) -> None:
        samples = np.frombuffer(frame.data, dtype=np.int16)
        if frame.num_channels > 1:
            samples = samples[:: frame.num_channels]
        samples = np.concatenate([self._rest, samples])
        step = max(1, int(_WINDOW_S * frame.sample_rate))
        whole = samples.size - samples.size % step
        self._rest = samples[whole:]
        if whole:
            windows = samples[:whole].astype(np.float64).reshape(-1, step)
            self._loud.extend(np.sqrt(np.mean(windows**2, axis=1)) > _LOUD_RMS)

    def onset_before(self, speech_s: float) -> float:
        """Seconds of loud audio just before the last ``speech_s`` seconds, if it rose out of
        quiet within MAX_ONSET_S; else 0."""
        history = list(self._loud)
        end = len(history) - round(speech_s / _WINDOW_S)
        start = end
        while start > 0 and history[start - 1]:
            start -= 1
        run = (end - start) * _WINDOW_S
        if start == 0 or run >= MAX_ONSET_S:
            return 0.0  # loud as far back as we know: no onset to credit
        return run
