"""The worker's command line: plain by default, behind coreutils `nice` when asked."""

from __future__ import annotations

import subprocess
import sys

import pytest

from navan_voice.stack.up import worker_argv

pytestmark = pytest.mark.unit


def test_default_runs_the_worker_directly() -> None:
    assert worker_argv() == [sys.executable, "-m", "navan_voice.cli", "worker"]


def test_nice_prefix_lowers_the_priority_of_what_it_starts() -> None:
    argv = worker_argv(10)
    assert argv[-4:] == worker_argv()
    # run the prefix with a probe instead of the worker: the child sees the lower priority
    probe = [*argv[:-3], "-c", "import os; print(os.nice(0))"]
    out = subprocess.run(probe, capture_output=True, text=True, check=True).stdout
    assert int(out) >= 10


def test_negative_nice_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="needs root"):
        worker_argv(-5)
