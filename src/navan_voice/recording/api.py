"""What the worker, the agents and the tools call: attach, pause/resume, start-up chores.

Worker::

    check_recording_storage(settings)                 # at start: wrong credentials stop it here
    finalize_incomplete(settings)                     # at start: repair calls cut off by a crash
    recorder = attach(session, state, settings=settings)   # before session.start(..., record=False)
    ctx.add_shutdown_callback(recorder.aclose)
    await session.start(...)
    await recorder.start()

Agents and tools: ``pause_recording(ctx)`` / ``resume_recording(ctx)`` (a RunContext or the
AgentSession), or offer the model ``RECORDING_TOOLS``; ``tag(ctx.userdata, key, value)``.
"""

from __future__ import annotations

import logging
from typing import Any

from livekit.agents import AgentSession, RunContext, function_tool

from navan_voice.config import Settings
from navan_voice.db.engine import SessionFactory, make_session_factory
from navan_voice.recording import persist
from navan_voice.recording.recorder import CallRecorder, recorder_of
from navan_voice.recording.storage import RecordingStore, build_store

logger = logging.getLogger(__name__)


def attach(
    session: AgentSession[Any],
    state: Any,
    *,
    settings: Settings,
    session_factory: SessionFactory | None = None,
    store: RecordingStore | None = None,
) -> CallRecorder:
    """Record this call. Call before ``session.start``; then ``await recorder.start()`` after
    it, and ``await recorder.aclose()`` at shutdown."""
    return CallRecorder(
        session,
        state,
        recordings_dir=settings.effective_recordings_dir,
        session_factory=session_factory or make_session_factory(settings.effective_database_url),
        store=store or build_store(settings),
    )


def check_recording_storage(settings: Settings) -> RecordingStore:
    """Build the store and check it accepts files; raises StorageError saying what to fix."""
    store = build_store(settings)
    store.check()
    return store


def finalize_incomplete(
    settings: Settings,
    *,
    session_factory: SessionFactory | None = None,
    store: RecordingStore | None = None,
) -> list[str]:
    """Repair and mark ``incomplete`` the calls a dead worker process left open."""
    return persist.finalize_incomplete(
        session_factory or make_session_factory(settings.effective_database_url),
        store or build_store(settings),
        settings.effective_recordings_dir,
    )


def retry_pending_uploads(
    settings: Settings,
    *,
    session_factory: SessionFactory | None = None,
    store: RecordingStore | None = None,
) -> int:
    """Upload the recordings kept locally while the store was down; returns how many went."""
    return persist.retry_pending_uploads(
        session_factory or make_session_factory(settings.effective_database_url),
        store or build_store(settings),
        settings.effective_recordings_dir,
    )


def pause_recording(target: Any, reason: str = "payment") -> bool:
    """Silence the call's recording until ``resume_recording`` (a hook for payment flows).

    ``target`` is the AgentSession or a RunContext. False when there is no recorder or it is
    already paused.
    """
    recorder = recorder_of(target)
    if recorder is None:
        logger.warning("pause_recording: this session is not being recorded")
        return False
    return recorder.pause(reason)


def resume_recording(target: Any) -> bool:
    """End the silent span started by ``pause_recording``."""
    recorder = recorder_of(target)
    return recorder.resume() if recorder is not None else False


@function_tool(name="pause_recording")
async def pause_recording_tool(context: RunContext[Any]) -> str:
    """Pause the call recording before the caller reads out a card number, CVV or expiry date.

    Call it right before asking for payment details, and call resume_recording once they
    have been given.
    """
    pause_recording(context, reason="payment")
    return "The recording is paused; ask for the payment details now."


@function_tool(name="resume_recording")
async def resume_recording_tool(context: RunContext[Any]) -> str:
    """Resume the call recording after the caller has finished giving payment details."""
    resume_recording(context)
    return "The recording is running again."


RECORDING_TOOLS = [pause_recording_tool, resume_recording_tool]
