"""The agent's audio stops the moment the caller's voice pauses it.

livekit-agents 1.8.9 pauses its room audio output on barge-in (so a cough can resume the
reply), but its ``pause()`` leaves the 200 ms the audio source has queued to play out: the
queue is dropped only when the next frame reaches the paused output, and never when the TTS has
no frame ready. That is up to 0.2 s of the agent talking over a caller who has already started.
``stop_queued_audio_on_pause`` drops the queue inside ``pause()``, with the same playhead
bookkeeping livekit does when it drops it later, so a resumed reply and the transcript of what
the caller heard stay right. Our own code, because livekit has no option for it (the line is
commented out upstream); it reaches into livekit's room output, which this project pins.

One difference: a pause in the reply's last 0.2 s (all its audio already queued) drops that
tail, where livekit would have played it over the caller. If the sound was no words (a false
interruption), the reply is then over rather than resumed for its last syllable.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from livekit.agents import AgentSession
from livekit.agents.voice.room_io._output import _ParticipantAudioOutput

logger = logging.getLogger("navan_voice.playout")

_PATCHED = "_navan_stops_on_pause"


def stop_session_audio_on_pause(session: AgentSession[Any]) -> bool:
    """``stop_queued_audio_on_pause`` on the session's room audio output, if it has one."""
    room = getattr(session, "_room_io", None)
    return stop_queued_audio_on_pause(getattr(room, "_audio_output", None))


def stop_queued_audio_on_pause(output: Any) -> bool:
    """Make ``output`` (livekit's room audio output) drop its queued audio when paused.
    Returns False, and changes nothing, for any other output (an avatar's, a test's)."""
    if not isinstance(output, _ParticipantAudioOutput):
        return False
    if getattr(output, _PATCHED, False):
        return True
    livekit_pause = output.pause

    def pause() -> None:
        livekit_pause()
        drop_queued_audio(output)

    output.pause = pause  # type: ignore[method-assign]
    setattr(output, _PATCHED, True)
    return True


def drop_queued_audio(output: _ParticipantAudioOutput) -> float:
    """Drop what the room output's audio source holds and has not played; returns its length.

    The bookkeeping is livekit's own for a queue dropped while paused (``_forward_audio``):
    the current run of played audio ends where the queue began, and the next run resumes after
    the dropped audio, which never plays."""
    source = output._audio_source
    queued = source.queued_duration
    if queued <= 0.0:
        return 0.0
    output._source_discarded_duration += queued
    output._report_run(
        offset=output._source_pushed_duration - queued,
        ended_at=time.time(),
        resumes_at=output._source_pushed_duration,
    )
    source.clear_queue()
    logger.debug("paused: dropped %.0f ms of queued agent audio", queued * 1000)
    return queued
