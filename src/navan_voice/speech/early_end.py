"""End of speech at the first short pause when the caller's words are a finished request.

livekit ends a turn only after the VAD's END_OF_SPEECH, which comes after ``min_silence``
(0.45 s) of quiet: long enough to wait out most mid-sentence pauses, and paid on every turn.
The local STT has the caller's words much sooner: a Whisper pass over everything said is ready
about 0.2 s into the quiet (speech/whisper_stt.py). When those words leave little doubt the
caller has finished (``text_turn.sure_end_of_turn``: "When does my flight to New York leave?",
not "I need to change my flight"), the STT sends them as the final transcript and asks this VAD
to end the speech now; livekit then commits the turn ``min_endpointing_delay`` after the speech
ended, as for any end of speech. Any other pause waits the full silence, as before.

``EarlyEndVAD`` wraps a livekit VAD (livekit has no hook for this: its VAD stream is the whole
decision). ``end_speech_now()`` emits END_OF_SPEECH for the segment in progress, its
``silence_duration`` the quiet so far, so livekit dates the end of speech where it was. The inner
VAD's own END_OF_SPEECH for that segment is then swallowed; if the caller speaks again first, the
wrapper reports a START_OF_SPEECH of its own (the inner VAD, still in its segment, sends none),
so livekit sees the caller resume -- barge-in and the next turn work as after any end of speech.
"""

from __future__ import annotations

import dataclasses
import logging
import weakref

from livekit.agents import vad

from navan_voice.speech.onset import ForwardingVADStream

logger = logging.getLogger(__name__)

# speech after an early end: windows scored at least this (Silero's activation threshold) ...
RESUME_PROB = 0.5
# ... for this long (two 32 ms windows, Silero's min_speech_duration rounded up) restart speech
RESUME_SPEECH_S = 0.05
# a window Silero scores above this is still speech once a segment has begun (its deactivation
# threshold, livekit's default)
QUIET_BELOW = 0.35
# the quiet the session's own VAD must have heard before an early end: the STT and the session
# run separate VAD streams, and a caller the session hears speaking has not paused
MIN_QUIET_S = 0.06


class EarlyEndVAD(vad.VAD):
    """``inner`` whose speech can be ended early by ``end_speech_now()`` (see the module)."""

    def __init__(self, inner: vad.VAD) -> None:
        super().__init__(capabilities=inner.capabilities)
        self._inner = inner
        self._streams: weakref.WeakSet[EarlyEndVADStream] = weakref.WeakSet()
        self.ended = 0  # speech segments ended early in this call
        self.resumed = 0  # ... after which the caller went on: a request answered half-way

    @property
    def model(self) -> str:
        return self._inner.model

    @property
    def provider(self) -> str:
        return self._inner.provider

    def stream(self) -> EarlyEndVADStream:
        stream = EarlyEndVADStream(self, self._inner.stream())
        self._streams.add(stream)
        return stream

    def end_speech_now(self) -> bool:
        """End the speech segment in progress on every open stream; True if one was ended."""
        ended = any([s.end_speech_now() for s in list(self._streams)])
        self.ended += ended
        return ended

    async def aclose(self) -> None:
        """Log the call's count (a job shutdown callback): how often the early end was wrong."""
        logger.info(
            "early end of turn: %d turns ended early, the caller went on after %d",
            self.ended,
            self.resumed,
        )


class EarlyEndVADStream(ForwardingVADStream):
    """The inner stream's events, with an early END_OF_SPEECH on request (see the module)."""

    def __init__(self, owner: EarlyEndVAD, inner: vad.VADStream) -> None:
        self._owner = owner
        self._inner = inner
        self._speaking = False  # the inner VAD is in a speech segment
        self._ended_early = False  # ... that this wrapper has already ended
        self._last: vad.VADEvent | None = None  # the newest INFERENCE_DONE
        self._resumed_s = 0.0  # speech heard since the early end
        self._quiet = 0.0  # quiet since the speech's last window, once ended early
        self._offset = 0.0  # the inner segment's speech before the caller resumed
        super().__init__(owner)  # starts _main_task

    async def _main_task(self) -> None:
        async for ev in self._inner:
            for out in self._translate(ev):
                self._event_ch.send_nowait(out)

    def _translate(self, ev: vad.VADEvent) -> list[vad.VADEvent]:
        if ev.type == vad.VADEventType.START_OF_SPEECH:
            self._speaking, self._ended_early, self._offset = True, False, 0.0
            return [ev]
        if ev.type == vad.VADEventType.END_OF_SPEECH:
            self._speaking = False
            if self._ended_early:  # reported already, when the words were done
                self._ended_early = False
                return []
            return [self._shifted(ev)]
        self._last = ev
        if not self._ended_early:
            return [self._shifted(ev)]
        # between an early end and the inner VAD's own: quiet to livekit (no speech to interrupt
        # the agent's answer with) unless the caller resumes
        window = _window_s(ev)
        self._quiet += window
        voiced = ev.probability >= RESUME_PROB
        self._resumed_s = self._resumed_s + window if voiced else 0.0
        if self._resumed_s < RESUME_SPEECH_S:
            return [
                dataclasses.replace(
                    ev,
                    speaking=False,
                    speech_duration=0.0,
                    silence_duration=self._quiet,
                    raw_accumulated_speech=0.0,
                )
            ]
        logger.info("the caller went on speaking after an early end of turn")
        self._owner.resumed += 1
        self._ended_early = False
        # the inner segment goes on: from here its speech is counted from the resumption
        self._offset = max(0.0, ev.speech_duration - self._resumed_s)
        start = vad.VADEvent(
            type=vad.VADEventType.START_OF_SPEECH,
            samples_index=ev.samples_index,
            timestamp=ev.timestamp,
            speech_duration=self._resumed_s,
            silence_duration=0.0,
            speaking=True,
        )
        return [start, self._shifted(ev)]

    def _shifted(self, ev: vad.VADEvent) -> vad.VADEvent:
        """``ev`` with the speech before a resumption left out of its ``speech_duration``."""
        if not self._offset:
            return ev
        return dataclasses.replace(ev, speech_duration=max(0.0, ev.speech_duration - self._offset))

    def end_speech_now(self) -> bool:
        """Send END_OF_SPEECH for the segment in progress if the caller is quiet; True if sent."""
        last = self._last
        if not self._speaking or self._ended_early or last is None:
            return False
        quiet = last.raw_accumulated_silence + _window_s(last)
        if last.probability > QUIET_BELOW or quiet < MIN_QUIET_S:
            logger.debug("no early end of speech: the caller is still speaking here")
            return False
        self._ended_early, self._resumed_s, self._quiet = True, 0.0, quiet
        logger.debug("early end of speech after %.2f s of quiet", quiet)
        self._event_ch.send_nowait(
            vad.VADEvent(
                type=vad.VADEventType.END_OF_SPEECH,
                samples_index=last.samples_index,
                timestamp=last.timestamp,
                speech_duration=max(0.0, last.speech_duration - self._offset - quiet),
                silence_duration=quiet,
                speaking=False,
            )
        )
        return True


def _window_s(ev: vad.VADEvent) -> float:
    """The audio one INFERENCE_DONE scored, in seconds (Silero's 32 ms if it sent no frames)."""
    return sum(f.duration for f in ev.frames) or 0.032
