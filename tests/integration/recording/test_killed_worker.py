"""Nothing lost when the worker dies: a real process running a recorded call is SIGKILLed
mid-call; the audio it wrote so far plays, and the next start (``finalize_incomplete``) repairs
the file and marks the call ``incomplete`` with its duration."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
from tests.integration.recording.killed_call import CALL_ID

from navan_voice.config import Settings
from navan_voice.db.engine import make_session_factory, upgrade_database
from navan_voice.recording.api import finalize_incomplete
from navan_voice.recording.index import get_call

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
START_LIMIT_S = 120.0  # a guard against a hung child, not a measurement


def _decode(path: Path) -> tuple[np.ndarray, int, str | None]:
    """(channels × samples, rate, the error that ended decoding early or None)."""
    chunks: list[np.ndarray] = []
    error = None
    with av.open(str(path)) as f:
        stream = f.streams.audio[0]
        rate = stream.codec_context.sample_rate
        try:
            for frame in f.decode(stream):
                chunks.append(frame.to_ndarray())
        except (av.error.InvalidDataError, av.error.EOFError) as e:
            error = type(e).__name__
    audio = np.concatenate(chunks, axis=1) if chunks else np.zeros((2, 0), dtype=np.float32)
    return audio, rate, error


def _call_on_disk(audio_path: Path, scratch: Path) -> bool:
    """The file as the worker wrote it so far already holds 3 s of the call, with the caller's
    speech (left) and the agent's tone (right)."""
    if not audio_path.exists() or audio_path.stat().st_size < 200:
        return False
    shutil.copy(audio_path, scratch)
    try:
        audio, rate, _ = _decode(scratch)
    except av.error.FFmpegError:
        return False
    return (
        audio.shape[0] == 2
        and audio.shape[1] / rate >= 3.0
        and float(np.abs(audio[0]).max()) > 0.05
        and float(np.abs(audio[1]).max()) > 0.05
    )


def test_killed_worker_leaves_playable_file_finalized_incomplete(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url="", recordings_backend="local")
    upgrade_database(settings.effective_database_url)
    log = (tmp_path / "child.log").open("w")
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.recording.killed_call", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert child.stdout is not None
        first = child.stdout.readline()  # blocks until the call is recording (or the child died)
        assert first.startswith("RECORDING "), (tmp_path / "child.log").read_text()[-3000:]
        audio_path = Path(first.split(" ", 1)[1].strip())
        deadline = time.monotonic() + START_LIMIT_S
        while not _call_on_disk(audio_path, tmp_path / "peek.ogg"):
            assert child.poll() is None, (tmp_path / "child.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the call's audio never reached the file"
            time.sleep(0.3)
        child.send_signal(signal.SIGKILL)  # mid-call: the caller is still talking
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
        log.close()

    # the dead worker left its row open and a file that plays as it is
    factory = make_session_factory(settings.effective_database_url)
    before = get_call(factory, CALL_ID)
    assert before is not None and before.call.status == "recording"
    shutil.copy(audio_path, tmp_path / "as-left.ogg")
    left, rate, _ = _decode(tmp_path / "as-left.ogg")
    assert left.shape[0] == 2 and left.shape[1] / rate >= 3.0, left.shape

    # the next start: repaired, marked incomplete, with its duration
    assert finalize_incomplete(settings, session_factory=factory) == [CALL_ID]
    after = get_call(factory, CALL_ID)
    assert after is not None and after.call.status == "incomplete"
    audio, rate, error = _decode(Path(after.local_path))
    assert error is None, f"the repaired file still ends badly ({error})"
    seconds = audio.shape[1] / rate
    assert after.call.duration_s is not None
    assert abs(after.call.duration_s - seconds) < 0.5, (after.call.duration_s, seconds)
    assert seconds >= left.shape[1] / rate - 0.1  # repair kept everything that played before
    assert float(np.abs(audio[0]).max()) > 0.05, "the caller's speech is not in the left channel"
    assert float(np.abs(audio[1]).max()) > 0.05, "the agent's tone is not in the right channel"
    assert finalize_incomplete(settings, session_factory=factory) == []  # done once
