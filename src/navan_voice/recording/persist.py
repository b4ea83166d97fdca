"""Writing the recording index, and the two start-up chores: repair and pending uploads.

``finalize_incomplete`` finds calls left ``recording`` by a worker process that no longer runs
(same host, process gone), repairs their audio file, rebuilds transcript, tools, hand-offs and
paused spans from ``events.jsonl`` and marks them ``incomplete``. ``retry_pending_uploads``
sends files a down store could not take.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from navan_voice.db.engine import SessionFactory, transaction
from navan_voice.db.recording_tables import (
    STATUS_INCOMPLETE,
    STATUS_RECORDING,
    UPLOAD_DONE,
    UPLOAD_LOCAL,
    UPLOAD_PENDING,
    CallRecord,
    CallTurnRecord,
)
from navan_voice.domain.errors import StorageError
from navan_voice.recording.audio import repair_ogg

logger = logging.getLogger(__name__)

FILES = ("audio.ogg", "transcript.json", "metadata.json", "events.jsonl")


def insert_call(factory: SessionFactory, row: dict[str, Any], owner: dict[str, Any]) -> None:
    """The call's row at its start: status ``recording``, owner recorded for recovery."""
    with transaction(factory) as s:
        s.merge(CallRecord(**row, status=STATUS_RECORDING, summary={"owner": owner}))


def finish_call(
    factory: SessionFactory,
    store: Any,
    row: dict[str, Any],
    turns: list[dict[str, Any]],
    folder: Path,
    key_prefix: str,
    recordings_dir: Path | None = None,
) -> None:
    """The final row and its turns; then the files to the store (pending if it fails).

    When the upload works and ``recordings_dir`` is given, the calls kept locally while the
    store was down go too: the store is back, so they need not wait for the next start.
    """
    with transaction(factory) as s:
        s.merge(CallRecord(**row))
        s.flush()
        for old in s.scalars(select(CallTurnRecord).where(CallTurnRecord.call_id == row["id"])):
            s.delete(old)
        s.add_all(CallTurnRecord(call_id=row["id"], **t) for t in turns)
    if upload(factory, store, row["id"], folder, key_prefix) and recordings_dir is not None:
        retry_pending_uploads(factory, store, recordings_dir)


def upload(factory: SessionFactory, store: Any, call_id: str, folder: Path, prefix: str) -> bool:
    """Store the call's files; on failure mark the row ``pending`` and keep them locally."""
    try:
        uri = ""
        for name in FILES:
            path = folder / name
            if path.exists():
                stored = store.put(path, f"{prefix}/{name}")
                if name == "audio.ogg":
                    uri = stored
        state = UPLOAD_LOCAL if store.name == "local" else UPLOAD_DONE
    except StorageError as e:
        logger.warning("call %s: %s", call_id, e)
        uri, state = "", UPLOAD_PENDING
    with transaction(factory) as s:
        rec = s.get(CallRecord, call_id)
        if rec is not None:
            rec.upload_state = state
            if uri:
                rec.recording_uri = uri
    return state != UPLOAD_PENDING


def retry_pending_uploads(factory: SessionFactory, store: Any, recordings_dir: Path) -> int:
    """Upload every call kept locally because the store was down; returns how many went."""
    with factory() as s:
        pending = list(
            s.scalars(select(CallRecord).where(CallRecord.upload_state == UPLOAD_PENDING))
        )
    done = 0
    for rec in pending:
        folder = Path(rec.local_path).parent
        prefix = _prefix(folder, recordings_dir)
        if upload(factory, store, rec.id, folder, prefix):
            done += 1
    if pending:
        logger.info("pending recordings: %d of %d uploaded", done, len(pending))
    return done


def finalize_incomplete(
    factory: SessionFactory, store: Any, recordings_dir: Path, *, all_hosts: bool = False
) -> list[str]:
    """Repair and close calls whose worker died mid-call; returns their ids."""
    with factory() as s:
        open_calls = list(
            s.scalars(select(CallRecord).where(CallRecord.status == STATUS_RECORDING))
        )
    finalized = []
    for rec in open_calls:
        if not all_hosts and _owner_alive(rec.summary or {}):
            continue
        audio = Path(rec.local_path)
        seconds = repair_ogg(audio)
        events = _read_journal(audio.parent / "events.jsonl")
        with transaction(factory) as s:
            row = s.get(CallRecord, rec.id)
            if row is None:
                continue
            row.status = STATUS_INCOMPLETE
            row.duration_s = seconds
            row.ended_at_utc = row.started_at_utc + timedelta(seconds=seconds)
            row.transcript = [_strip(e) for e in events if e["kind"] == "line"]
            row.tool_calls = [_strip(e) for e in events if e["kind"] == "tool"]
            row.handoffs = [_strip(e) for e in events if e["kind"] == "handoff"]
            row.agents = _agents(row.agents, row.handoffs)
            row.paused_spans = _spans(events)
            row.summary = {**(row.summary or {}), "repaired": True, "audio_s": seconds}
        upload(factory, store, rec.id, audio.parent, _prefix(audio.parent, recordings_dir))
        finalized.append(rec.id)
        logger.warning(
            "call %s was cut off (worker died); its %.1fs recording was repaired and marked "
            "incomplete",
            rec.id,
            seconds,
        )
    return finalized


def _owner_alive(summary: dict[str, Any]) -> bool:
    owner = summary.get("owner") or {}
    if owner.get("host") != socket.gethostname():
        return True  # another machine's call: not ours to close
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _read_journal(path: Path) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    if not path.exists():
        return events
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            continue  # the last line may be cut off
        if isinstance(value, dict) and "kind" in value:
            events.append(value)
    return events


def _strip(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != "kind"}


def _spans(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    spans: list[dict[str, Any]] = []
    for e in events:
        if e["kind"] == "pause":
            spans.append({"start_s": e.get("start_s"), "end_s": None, "reason": e.get("reason")})
        elif e["kind"] == "resume" and spans and spans[-1]["end_s"] is None:
            spans[-1]["end_s"] = e.get("end_s")
    return spans


def _agents(agents: list[str], handoffs: list[dict[str, Any]]) -> list[str]:
    out = list(agents or [])
    for h in handoffs:
        if h.get("to") and h["to"] not in out:
            out.append(str(h["to"]))
    return out


def _prefix(folder: Path, root: Path) -> str:
    try:
        return folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return folder.name
