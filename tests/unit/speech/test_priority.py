"""Model threads run below the call's media path: loads on a niced thread, whose children
inherit its priority, and calls on niced executor threads; the caller's thread is untouched."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest

from navan_voice.speech.priority import model_executor, run_lowered, set_model_nice

pytestmark = pytest.mark.unit


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.fixture
def niced() -> Iterator[int]:
    set_model_nice(7)
    yield 7
    set_model_nice(0)


def test_a_load_and_the_threads_it_starts_run_lower(niced: int) -> None:
    before = _nice()
    child: list[int] = []

    def load() -> int:
        # a model library starting its own worker thread while it loads
        t = threading.Thread(target=lambda: child.append(_nice()))
        t.start()
        t.join()
        return _nice()

    assert run_lowered(load) >= before + niced
    assert child and child[0] >= before + niced
    assert _nice() == before  # the caller's thread (the job's event loop) keeps its priority


def test_model_calls_run_on_lower_threads(niced: int) -> None:
    before = _nice()
    assert model_executor().submit(_nice).result() >= before + niced
    assert _nice() == before


def test_nice_zero_changes_nothing() -> None:
    set_model_nice(0)
    before = _nice()
    assert run_lowered(threading.get_native_id) == threading.get_native_id()  # inline
    assert model_executor().submit(_nice).result() == before


def test_a_load_error_reaches_the_caller(niced: int) -> None:
    def broken() -> None:
        raise RuntimeError("no model.bin")

    with pytest.raises(RuntimeError, match=r"no model\.bin"):
        run_lowered(broken)
