"""Real parts for integration tests: a livekit-server on free loopback ports, agent workers,
a seeded SQLite database, and caller audio spoken by a different voice than the agent's."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from navan_voice.config import Settings, load_settings
from navan_voice.stack.livekit_server import LiveKitServer, start_on_free_ports
from navan_voice.stack.processes import ManagedProcess
from navan_voice.stack.up import start_worker

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture(scope="session")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stack")


@pytest.fixture(scope="session")
def livekit_server(run_dir: Path) -> Iterator[LiveKitServer]:
    """One real livekit-server for the whole session, on free ports (not the dev ones)."""
    server = start_on_free_ports(load_settings(profile="local"), run_dir)
    yield server
    server.stop()
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(run_dir / f"livekit-{server.ports.http}.log", ARTIFACTS / "livekit-server.log")


@pytest.fixture(scope="session")
def database_url(run_dir: Path) -> str:
    from navan_voice.db.engine import upgrade_database
    from navan_voice.db.seed import seed_database

    url = f"sqlite:///{run_dir / 'navan.db'}"
    upgrade_database(url)
    seed_database(url)
    return url


WorkerFactory = Callable[[int], ManagedProcess]


@pytest.fixture
def stack_settings(
    livekit_server: LiveKitServer,
    database_url: str,
    run_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    """Settings pointing at the test server, with an agent name no other worker uses."""
    agent_name = f"navan-test-{uuid.uuid4().hex[:6]}"
    env = {
        "NAVAN_LIVEKIT_URL": livekit_server.url,
        "NAVAN_AGENT_NAME": agent_name,
        "NAVAN_DATABASE_URL": database_url,
        "NAVAN_PROFILE": "local",
        "NAVAN_DATA_DIR": str(run_dir / agent_name),  # recordings of this test's calls
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return load_settings()


@pytest.fixture
def workers(stack_settings: Settings, run_dir: Path) -> Iterator[WorkerFactory]:
    """Start `navan-voice worker` processes on demand; all are stopped after the test."""
    started: list[ManagedProcess] = []

    def start(index: int) -> ManagedProcess:
        log = run_dir / f"{stack_settings.agent_name}-worker-{index}.log"
        proc = start_worker(stack_settings, stack_settings.livekit_url, log, index)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(proc.log_path, ARTIFACTS / proc.log_path.name)


def speak(text: str, path: Path, voice: str = "flite", *, language: str = "en") -> Path:
    """Synthesize caller speech with a Debian TTS that is not the agent's voice (``language``:
    espeak-ng's voice for it, e.g. "es"; flite speaks only English)."""
    if voice == "flite":
        subprocess.run(["flite", "-t", text, "-o", str(path)], check=True)
    else:
        subprocess.run(
            ["espeak-ng", "-v", language, "-s", "150", "-w", str(path), text], check=True
        )
    return path


@pytest.fixture
def caller_wav(tmp_path: Path) -> Callable[[str], Path]:
    counter = iter(range(1000))

    def make(text: str) -> Path:
        return speak(text, tmp_path / f"caller-{next(counter)}.wav")

    return make


# ``await paused_request(first, pause_s, rest)``: a call from the demo traveller who, after the
# greeting, says ``first``, pauses ``pause_s`` and says ``rest``; returns the closed caller (its
# recording of the agent kept) and the monotonic time ``first`` ended
PausedRequest = Callable[[str, float, str], Awaitable[tuple[Any, float]]]


@pytest.fixture
def paused_request(stack_settings: Settings, caller_wav: Callable[[str], Path]) -> PausedRequest:
    import numpy as np

    from navan_voice.caller.audio import load_audio
    from navan_voice.caller.client import SAMPLE_RATE, Caller
    from navan_voice.db.seed import DEMO_PHONE

    async def call(first_text: str, pause_s: float, rest_text: str) -> tuple[Any, float]:
        first = load_audio(caller_wav(first_text), SAMPLE_RATE).samples
        rest = load_audio(caller_wav(rest_text), SAMPLE_RATE).samples
        pause = np.zeros(int(pause_s * SAMPLE_RATE), dtype=np.int16)
        caller = Caller(stack_settings, phone=DEMO_PHONE)
        try:
            await caller.connect()
            await caller.wait_for_agent(90)
            await caller.greet(90)
            queued = caller.source.queued_duration
            first_end = time.monotonic() + queued + first.size / SAMPLE_RATE
            await caller.speak(np.concatenate([first, pause, rest]))
            assert await caller.wait_until_agent_talks(60), "no answer to the caller"
            await caller.wait_agent_done(60)
        finally:
            await caller.close()
        return caller, first_end

    return call


@pytest.fixture
def indexed_call(stack_settings: Settings) -> Callable[[str], Awaitable[Any]]:
    """``await indexed_call(room)``: the recording index's detail of the call in ``room``
    (turns, transcript, recording) once the worker has finalized it."""
    from navan_voice.db.engine import make_session_factory
    from navan_voice.recording.index import get_call, list_calls

    factory = make_session_factory(stack_settings.effective_database_url)

    async def wait(room: str, timeout: float = 30.0) -> Any:
        for _ in range(int(timeout / 0.5)):
            rows = [c for c in list_calls(factory, limit=200) if c.room == room]
            if rows and rows[0].status != "recording":
                return get_call(factory, rows[0].id)
            await asyncio.sleep(0.5)
        raise AssertionError(f"call in room {room} was not indexed within {timeout}s")

    return wait
