"""Model threads below the call's real-time media path in CPU priority.

A job process runs its event loop and livekit's media threads (audio in and out, VAD) next to
Whisper and piper. On a machine whose cores are all busy the scheduler shares them evenly, so
the audio path waits behind a model pass: the caller's end of speech is seen late and the reply
reaches the room with gaps (bench/REPORT.md session 13). Linux keeps a nice value per thread and
a thread inherits it from the thread that creates it, so the models are loaded on a niced thread
(CTranslate2's and onnxruntime's own threads are created then) and called from niced threads.
Raising a thread's nice needs no privilege; lowering it again would, so nothing is ever lowered
in place: work runs on threads that were niced when they started.

Written here rather than taken from a library: there is none for per-thread nice in Python.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

_nice = 0
_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def lower_this_thread(nice: int) -> None:
    """Raise the calling thread's nice by ``nice`` (Linux: per thread); a no-op where the OS
    cannot do it, with a log line saying so."""
    if nice <= 0:
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
    except (OSError, AttributeError) as e:  # not Linux, or a sandbox that forbids it
        logger.warning("could not lower the model threads' priority (%s); they run as usual", e)


def set_model_nice(nice: int) -> None:
    """How far below the rest of the process the model threads run (0: not at all); set once,
    before the models load (speech/models.py)."""
    global _nice, _executor
    with _lock:
        if nice != _nice and _executor is not None:
            _executor.shutdown(wait=False)
            _executor = None
        _nice = max(0, min(19, nice))


def model_executor() -> ThreadPoolExecutor:
    """The threads that call Whisper and piper, at the models' priority."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=8,  # a pass, a reply, a look-ahead render: a few per call
                thread_name_prefix="navan-model",
                initializer=lower_this_thread,
                initargs=(_nice,),
            )
        return _executor


def run_lowered(fn: Callable[[], T]) -> T:
    """Run ``fn`` (a model load) on a fresh thread at the models' priority and return its
    result (or raise its error): threads the model creates inherit that priority, the caller's
    thread keeps its own."""
    if _nice <= 0:
        return fn()
    with ThreadPoolExecutor(
        max_workers=1,
        thread_name_prefix="navan-model-load",
        initializer=lower_this_thread,
        initargs=(_nice,),
    ) as one:
        return one.submit(fn).result()
