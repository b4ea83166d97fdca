"""A read-only view of what the dialogue engine needs from livekit's chat context and tools.

The engine never touches livekit types directly: the adapter turns a ``ChatContext`` and the
current agent's tools into a :class:`Conversation` and a list of :class:`ToolSpec` first.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from livekit.agents import llm
from livekit.agents.llm import utils as llm_utils

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToolSpec:
    """One tool as a model sees it: name, description and JSON schema of its arguments."""

    name: str
    description: str
    parameters: dict[str, Any]

    @property
    def properties(self) -> dict[str, dict[str, Any]]:
        props = self.parameters.get("properties", {})
        return props if isinstance(props, dict) else {}

    @property
    def required(self) -> list[str]:
        req = self.parameters.get("required", [])
        return [str(r) for r in req] if isinstance(req, list) else []


@dataclass(frozen=True)
class ToolEvent:
    """A tool call the model made earlier, with its output once the tool has run."""

    name: str
    arguments: dict[str, Any]
    output: str | None = None
    is_error: bool = False


@dataclass(frozen=True)
class Item:
    """One step of the conversation, flattened: a message or a tool call (with its output)."""

    kind: Literal["user", "assistant", "system", "tool", "handoff"]
    text: str = ""
    tool: ToolEvent | None = None


@dataclass
class Conversation:
    """The conversation so far, oldest first, as the engine reasons about it."""

    instructions: str = ""  # the current agent's instructions (first system message)
    items: list[Item] = field(default_factory=list)

    @property
    def user_turns(self) -> list[str]:
        return [i.text for i in self.items if i.kind == "user"]

    @property
    def last(self) -> Item | None:
        return self.items[-1] if self.items else None

    def last_of(self, kind: str) -> Item | None:
        for item in reversed(self.items):
            if item.kind == kind:
                return item
        return None

    def since_last_user(self) -> list[Item]:
        """The items after the caller's latest turn (tool calls, replies, system notes)."""
        for idx in range(len(self.items) - 1, -1, -1):
            if self.items[idx].kind == "user":
                return self.items[idx + 1 :]
        return list(self.items)

    def assistant_before_last_user(self) -> str:
        """The agent's last spoken words before the caller's latest turn ("" if none)."""
        items = self.items[:-1] if self.last is not None and self.last.kind == "user" else []
        for item in reversed(items):
            if item.kind == "assistant":
                return item.text
            if item.kind == "user":
                return ""
        return ""

    def tool_events(self) -> list[ToolEvent]:
        return [i.tool for i in self.items if i.kind == "tool" and i.tool is not None]

    def pending_instructions(self) -> str:
        """A system message given for this reply only (``generate_reply(instructions=...)``)."""
        last = self.last
        return last.text if last is not None and last.kind == "system" else ""


def _loads(arguments: str) -> dict[str, Any]:
    try:
        value = json.loads(arguments or "{}")
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def conversation_from_chat_ctx(chat_ctx: llm.ChatContext) -> Conversation:
    """Flatten a livekit ChatContext; the first system/developer message is the instructions."""
    conv = Conversation()
    calls: dict[str, int] = {}  # call_id -> index in conv.items
    seen_instructions = False
    for item in chat_ctx.items:
        if isinstance(item, llm.ChatMessage):
            text = (item.text_content or "").strip()
            if item.id.startswith("lk.") and item.role in ("system", "developer"):
                # livekit's own instructions messages (static and dynamic parts)
                conv.instructions = f"{conv.instructions}\n\n{text}".strip()
                seen_instructions = True
            elif not item.id.startswith("item_"):
                # a message the application keeps up to date under its own id (what the
                # caller's screen shows, say): context, neither a caller turn nor an order
                continue
            elif item.role in ("system", "developer"):
                if not seen_instructions:
                    conv.instructions = text
                    seen_instructions = True
                elif text:
                    conv.items.append(Item("system", text))
            elif item.role == "user":
                conv.items.append(Item("user", text))
            elif item.role == "assistant" and text:
                conv.items.append(Item("assistant", text))
        elif isinstance(item, llm.FunctionCall):
            calls[item.call_id] = len(conv.items)
            conv.items.append(Item("tool", tool=ToolEvent(item.name, _loads(item.arguments))))
        elif isinstance(item, llm.FunctionCallOutput):
            idx = calls.get(item.call_id)
            if idx is None:
                event = ToolEvent(item.name, {}, item.output, item.is_error)
                conv.items.append(Item("tool", tool=event))
                continue
            old = conv.items[idx].tool
            assert old is not None
            event = ToolEvent(old.name, old.arguments, item.output, item.is_error)
            conv.items[idx] = Item("tool", tool=event)
        elif isinstance(item, llm.AgentHandoff):
            conv.items.append(Item("handoff"))
    return conv


# schemas built from a function's signature, by (function, name): building one takes ~3 ms
_SPEC_CACHE: dict[tuple[int, str], ToolSpec] = {}
_SPEC_CACHE_MAX = 1024


def tool_specs(tools: list[Any]) -> list[ToolSpec]:
    """The function tools among ``tools`` with their JSON schemas (provider tools are skipped)."""
    specs: list[ToolSpec] = []
    for tool in tools:
        if isinstance(tool, llm.FunctionTool):
            key = (id(getattr(tool, "__wrapped__", tool)), tool.info.name)
            cached = _SPEC_CACHE.get(key)
            if cached is not None and cached.description == (tool.info.description or ""):
                specs.append(cached)
                continue
            schema = llm_utils.build_legacy_openai_schema(tool, internally_tagged=True)
            spec = ToolSpec(
                name=str(schema["name"]),
                description=str(schema.get("description") or ""),
                parameters=dict(schema.get("parameters") or {}),
            )
            if len(_SPEC_CACHE) >= _SPEC_CACHE_MAX:
                _SPEC_CACHE.clear()
            _SPEC_CACHE[key] = spec
            specs.append(spec)
        elif isinstance(tool, llm.RawFunctionTool):
            raw = tool.info.raw_schema
            specs.append(
                ToolSpec(
                    name=str(raw.get("name", tool.info.name)),
                    description=str(raw.get("description") or ""),
                    parameters=dict(raw.get("parameters") or {}),
                )
            )
        elif isinstance(tool, llm.Toolset):
            specs.extend(tool_specs(list(tool.tools)))
    return specs
