"""Storage down → the call's files stay in the local recordings folder, the row says
``pending``; once the store is back they are uploaded (at the next start, or right after the
next call that uploads)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from livekit.agents import Agent, AgentSession
from sqlalchemy.orm import Session, sessionmaker
from tests.fakes.scripted_llm import ScriptedLLM, say

from navan_voice.config import Settings
from navan_voice.domain.errors import StorageError
from navan_voice.recording.api import attach, retry_pending_uploads
from navan_voice.recording.index import get_call
from navan_voice.recording.storage import LocalStore

pytestmark = pytest.mark.unit


class FlakyStore:
    """TEST STAND-IN for a remote store: an archive folder that refuses files while ``down``."""

    name = "archive"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.down = True
        self.refused: list[str] = []
        self.stored: list[str] = []

    def check(self) -> None:
        if self.down:
            raise StorageError("archive is down")

    def put(self, local_path: Path, key: str) -> str:
        if self.down:
            self.refused.append(key)
            raise StorageError(f"archive is down; {local_path.name} kept locally")
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(local_path.read_bytes())  # a copy, like an upload
        self.stored.append(key)
        return f"archive://{key}"


@dataclass
class State:
    call_id: str
    tags: dict[str, Any] = field(default_factory=dict)


async def _call(
    call_id: str, settings: Settings, factory: sessionmaker[Session], store: FlakyStore
) -> Path:
    """A short real (text-only) call, recorded and closed; returns its local folder."""
    session: AgentSession[State] = AgentSession(
        llm=ScriptedLLM([say("Your flight is on time.")]), userdata=State(call_id)
    )
    recorder = attach(session, session.userdata, settings=settings, session_factory=factory)
    recorder._store = store  # the worker's store is built from settings; this one flakes
    await session.start(Agent(instructions="Travel support."))
    await recorder.start()
    await session.run(user_input="Is my flight on time?")
    await recorder.aclose()
    await session.aclose()
    return recorder.folder


async def test_store_down_keeps_files_locally_then_uploads_them(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    settings = Settings(data_dir=tmp_path, database_url="")
    store = FlakyStore(tmp_path / "archive")

    folder = await _call("down-1", settings, session_factory, store)
    assert store.refused and not store.stored
    detail = get_call(session_factory, "down-1")
    assert detail is not None and detail.call.status == "complete"
    assert detail.upload_state == "pending"
    kept = sorted(p.name for p in folder.iterdir())
    assert {"transcript.json", "metadata.json", "events.jsonl"} <= set(kept), kept

    assert retry_pending_uploads(settings, session_factory=session_factory, store=store) == 0
    assert get_call(session_factory, "down-1").upload_state == "pending"  # type: ignore[union-attr]

    store.down = False
    assert retry_pending_uploads(settings, session_factory=session_factory, store=store) == 1
    detail = get_call(session_factory, "down-1")
    assert detail is not None and detail.upload_state == "uploaded"
    prefix = folder.relative_to(settings.effective_recordings_dir).as_posix()
    assert (tmp_path / "archive" / prefix / "transcript.json").read_bytes() == (
        folder / "transcript.json"
    ).read_bytes()
    assert retry_pending_uploads(settings, session_factory=session_factory, store=store) == 0


async def test_next_uploaded_call_takes_the_pending_ones_along(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    settings = Settings(data_dir=tmp_path, database_url="")
    store = FlakyStore(tmp_path / "archive")
    await _call("down-2", settings, session_factory, store)
    assert get_call(session_factory, "down-2").upload_state == "pending"  # type: ignore[union-attr]

    store.down = False
    await _call("up-3", settings, session_factory, store)
    for call_id in ("down-2", "up-3"):
        detail = get_call(session_factory, call_id)
        assert detail is not None and detail.upload_state == "uploaded", call_id


def test_local_store_that_cannot_move_a_file_raises_storage_error(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "recordings")
    with pytest.raises(StorageError, match="kept at"):
        store.put(tmp_path / "missing.ogg", "2026/01/01/x/audio.ogg")
