"""One call's recording: audio, transcript, metadata, per-turn metrics, index row.

``attach(session, state, ...)`` (before ``session.start``) subscribes to the session's events;
``await recorder.start()`` (after it) wraps the session's audio input/output with the pausable
recorder and inserts the call's row (status ``recording``); ``await recorder.aclose()`` (at job
shutdown) finishes the file, writes ``transcript.json`` and ``metadata.json``, stores the turns
and hands the files to the store. Everything the dashboard needs is also appended, as it
happens, to ``events.jsonl`` next to the audio, so a call whose worker died is rebuilt by
``finalize_incomplete`` (see ``recovery.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import weakref
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession

from navan_voice.analytics.prometheus import call_metrics
from navan_voice.analytics.turns import TurnCollector
from navan_voice.db.engine import SessionFactory
from navan_voice.recording.audio import PausableRecorderIO
from navan_voice.recording.masking import mask_phone
from navan_voice.recording.persist import finish_call, insert_call
from navan_voice.recording.redaction import redact, redact_value
from navan_voice.recording.storage import RecordingStore
from navan_voice.recording.tags import tags_of

logger = logging.getLogger(__name__)

PAUSED_TEXT = "[recording paused]"
_recorders: weakref.WeakKeyDictionary[Any, CallRecorder] = weakref.WeakKeyDictionary()


class CallRecorder:
    def __init__(
        self,
        session: AgentSession[Any],
        state: Any,
        *,
        recordings_dir: Path,
        session_factory: SessionFactory,
        store: RecordingStore,
    ) -> None:
        self.session = session
        self.state = state
        self.call_id = str(getattr(state, "call_id", "") or f"call-{int(time.time() * 1000)}")
        self._root = recordings_dir
        now = datetime.now(UTC)
        self.key_prefix = f"{now:%Y/%m/%d}/{_safe(self.call_id)}"
        self.folder = recordings_dir / self.key_prefix
        self.audio_path = self.folder / "audio.ogg"
        self.started_at = now.replace(tzinfo=None)
        self.t0 = time.time()
        self._factory = session_factory
        self._store = store
        self._io: PausableRecorderIO | None = None
        self._journal: Any = None
        self._closed = False
        self.transcript: list[dict[str, Any]] = []
        self.tool_calls: list[dict[str, Any]] = []
        self.handoffs: list[dict[str, Any]] = []
        self.agents: list[str] = []
        self.metrics = call_metrics()
        self.turns = TurnCollector(
            t0=self.t0, agent_name=self._agent_name, observe=self.metrics.observe_stage
        )
        self._subscribe()
        _recorders[session] = self

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        """Wrap the session's audio I/O, start writing, insert the row. Call after start()."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._journal = (self.folder / "events.jsonl").open("a", encoding="utf-8")
        self._note_agent(self._agent_name())
        inp, out = self.session.input.audio, self.session.output.audio
        if inp is not None and out is not None:
            self._io = PausableRecorderIO(agent_session=self.session)
            self.session.input.audio = self._io.record_input(inp)
            self.session.output.audio = self._io.record_output(out)
            await self._io.start(output_path=self.audio_path)
            self.t0 = self._io.recording_started_at or self.t0
            self.turns.t0 = self.t0
        else:
            logger.warning("call %s has no audio input/output; recording text only", self.call_id)
        self._write({"kind": "start", "t0": self.t0})
        await asyncio.to_thread(insert_call, self._factory, self._row(), _owner())

    def pause(self, reason: str = "payment") -> bool:
        """Silence the recording from now on (both channels) and mark the span."""
        if self._io is None or not self._io.pause(reason):
            return False
        self._write({"kind": "pause", "start_s": self._rel(time.time()), "reason": reason})
        logger.info("call %s: recording paused (%s)", self.call_id, reason)
        return True

    def resume(self) -> bool:
        if self._io is None or not self._io.resume():
            return False
        self._write({"kind": "resume", "end_s": self._rel(time.time())})
        logger.info("call %s: recording resumed", self.call_id)
        return True

    @property
    def paused(self) -> bool:
        return self._io is not None and self._io.paused

    def capture(self, channel: int, frame: rtc.AudioFrame) -> None:
        """Record audio the session does not see (0: caller, 1: our side), e.g. a call bridged
        to a human colleague; nothing when the recording is not running."""
        if self._io is not None and not self._closed:
            self._io.capture(channel, frame)

    async def aclose(self, outcome: str | None = None) -> None:
        """Finish the file and the row, then store the files (kept locally if storage fails)."""
        if self._closed:
            return
        self._closed = True
        if self._io is not None:
            self._io.resume()
            await self._io.aclose()
        self.turns.finish()
        ended = datetime.now(UTC).replace(tzinfo=None)
        row = self._row()
        row.update(
            ended_at_utc=ended,
            duration_s=(ended - self.started_at).total_seconds(),
            outcome=outcome or self._outcome(),
            status="complete",
            summary=self.turns.summary(),
        )
        self.metrics.calls.labels(outcome=row["outcome"]).inc()
        self.metrics.turns.inc(len(self.turns.turns))
        self.metrics.unclear_turns.inc(row["summary"]["unclear_turns"])
        _write_json(self.folder / "transcript.json", self.transcript)
        _write_json(self.folder / "metadata.json", {**row, "turns": self._turn_rows()})
        if self._journal is not None:
            self._journal.close()
        await asyncio.to_thread(
            finish_call,
            self._factory,
            self._store,
            row,
            self._turn_rows(),
            self.folder,
            self.key_prefix,
            self._root,
        )

    # --- events ------------------------------------------------------------------------------
    def _subscribe(self) -> None:
        s = self.session
        s.on("conversation_item_added", self._on_item)
        s.on("function_tools_executed", self._on_tools)
        s.on("metrics_collected", lambda ev: self.turns.on_metrics(ev.metrics))
        s.on("user_state_changed", lambda ev: self.turns.on_user_state(ev.new_state, ev.created_at))
        s.on(
            "agent_state_changed", lambda ev: self.turns.on_agent_state(ev.new_state, ev.created_at)
        )
        s.on("agent_false_interruption", lambda ev: self._on_false_interruption())

    def _on_item(self, ev: Any) -> None:
        item = ev.item
        kind = getattr(item, "type", "")
        if kind == "agent_handoff":
            new, old = str(item.new_agent_id), item.old_agent_id
            entry = {"at_s": self._rel(item.created_at), "from": old, "to": new}
            self.handoffs.append(entry)
            self._note_agent(new)
            self._write({"kind": "handoff", **entry})
            return
        if kind != "message" or item.role not in ("user", "assistant"):
            return
        metrics: dict[str, Any] = dict(item.metrics or {})
        start = metrics.get("started_speaking_at") or item.created_at
        end = metrics.get("stopped_speaking_at")
        text = redact(item.text_content or "")
        if item.role == "user" and self._overlaps_pause(float(start), end):
            text = PAUSED_TEXT
        line = {
            "start_s": self._rel(float(start)),
            "end_s": self._rel(float(end)) if end else None,
            "speaker": "caller" if item.role == "user" else "agent",
            "agent": self._agent_name() if item.role == "assistant" else "",
            "text": text,
        }
        self.transcript.append(line)
        self._write({"kind": "line", **line})
        if text == PAUSED_TEXT:
            item = item.model_copy(update={"content": [PAUSED_TEXT]})
        self.turns.on_message(item)

    def _on_tools(self, ev: Any) -> None:
        records = self.turns.on_tools(list(ev.function_calls), list(ev.function_call_outputs))
        for rec in records:
            rec["agent"] = self._agent_name()
            rec["arguments"] = _parse_args(rec["arguments"])
            rec["result"] = str(redact_value(str(rec["result"])))[:2000]
            self.tool_calls.append(rec)
            self._write({"kind": "tool", **rec})

    def _on_false_interruption(self) -> None:
        self.turns.on_false_interruption()
        self.metrics.interruptions.labels(kind="false").inc()

    # --- helpers -----------------------------------------------------------------------------
    def _rel(self, at: float) -> float:
        return round(max(0.0, at - self.t0), 3)

    def _overlaps_pause(self, start: float, end: Any) -> bool:
        if self._io is None:
            return False
        stop = float(end) if end else time.time()
        return any(
            s.start <= stop and (s.end is None or s.end >= start - 0.5) for s in self._io.spans
        )

    def _agent_name(self) -> str:
        try:
            return str(self.session.current_agent.id)
        except RuntimeError:
            return ""

    def _note_agent(self, name: str) -> None:
        if name and name not in self.agents:
            self.agents.append(name)

    def _write(self, record: dict[str, Any]) -> None:
        if self._journal is not None and not self._journal.closed:
            self._journal.write(json.dumps(record, default=str) + "\n")
            self._journal.flush()

    def _outcome(self) -> str:
        explicit = getattr(self.state, "outcome", None) or tags_of(self.state).get("outcome")
        if explicit in ("resolved", "transferred", "abandoned"):
            return str(explicit)
        # the person hand-off is the escalation agent (agent id "escalation_agent")
        if any(w in a for a in self.agents for w in ("human", "transfer", "escalation")):
            return "transferred"
        if getattr(self.state, "pending", None) is not None:
            return "abandoned"  # the caller left a change read back and never answered it
        ok_tools = [t for t in self.tool_calls if not t["is_error"]]
        return "resolved" if ok_tools and self.turns.turns else "abandoned"

    def _paused_spans(self) -> list[dict[str, Any]]:
        spans = self._io.spans if self._io is not None else []
        return [
            {
                "start_s": self._rel(s.start),
                "end_s": self._rel(s.end) if s.end is not None else None,
                "reason": s.reason,
            }
            for s in spans
        ]

    def _turn_rows(self) -> list[dict[str, Any]]:
        return [t.as_row() for t in self.turns.turns]

    def _row(self) -> dict[str, Any]:
        st = self.state
        tags = dict(tags_of(st))
        pending = getattr(st, "pending", None)
        if pending is not None:
            # a change read back and never confirmed: kept with the call for a colleague
            tags["unconfirmed_change"] = str(getattr(pending, "read_back", pending))
        return {
            "id": self.call_id,
            "room": str(getattr(st, "room", "") or ""),
            "channel": str(getattr(st, "channel", "") or "web"),
            "caller_masked": mask_phone(getattr(st, "caller_phone", "") or ""),
            "traveler": _first_attr(st, "traveler_name", "traveler", "traveler_id"),
            "trip": _first_attr(st, "trip_id", "trip", "trip_locator"),
            "intent": str(tags.get("intent"))[:60] if tags.get("intent") else None,
            "started_at_utc": self.started_at,
            "agents": list(self.agents),
            "handoffs": list(self.handoffs),
            "tool_calls": list(self.tool_calls),
            "tags": tags,
            "providers": _providers(self.session),
            "paused_spans": self._paused_spans(),
            "transcript": list(self.transcript),
            "local_path": str(self.audio_path),
            "recording_uri": str(self.audio_path),
        }


def recorder_of(target: Any) -> CallRecorder | None:
    """The recorder of an AgentSession, or of a RunContext's session."""
    session = getattr(target, "session", target)
    return _recorders.get(session)


def _providers(session: AgentSession[Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for stage in ("stt", "llm", "tts"):
        model = getattr(session, stage, None)
        if model is None:
            continue
        provider = _safe_attr(model, "provider") or type(model).__module__.split(".")[-2:][0]
        out[stage] = f"{provider}/{_safe_attr(model, 'model') or type(model).__name__}"
    return out


def _safe_attr(obj: Any, name: str) -> str:
    try:
        value = getattr(obj, name, "")
    except Exception:  # a provider property may raise when unset
        return ""
    return str(value) if value else ""


def _first_attr(obj: Any, *names: str) -> str | None:
    for name in names:
        value = getattr(obj, name, None)
        if value:
            return str(value)[:120]
    return None


def _parse_args(raw: Any) -> Any:
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError:
        value = {"raw": raw}
    return redact_value(value)


def _write_json(path: Path, value: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, default=str, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)[:80] or "call"


def _owner() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}
