"""A read-only view of what the dialogue engine needs from livekit's chat context and tools.

The engine never touches livekit types directly: the adapter turns a ``ChatContext`` and the
current agent's tools into a :class:`Conversation` and a list of :class:`ToolSpec` first.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field, replace
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
    heard: bool = True  # False: its reply was cut off before the caller heard the output


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


# A caller who pauses mid-sentence can have the first half taken as a whole turn; when they go
# on, their voice cuts the agent's premature reply off in its first words. The two halves are
# then one request ("Can I move my flight" + "to next Tuesday?"): alone, the second half means
# nothing to the engine (13 of 37 bench requests split this way were misunderstood).
# The caller's pause between the halves, from livekit's timings (the VAD's last and first voiced
# windows: about 0.5 s more than the silence heard). A caller back this soon heard at most the
# first second of the agent's reply, which starts some 0.7 s after they stop.
CONTINUATION_MAX_GAP_S = 2.5
# without timings (typed text, tests): the reply the caller talked over, as far as it played
CUT_OFF_REPLY_MAX_WORDS = 4
# the second half of a split request starts where a sentence cannot: on a preposition, a
# conjunction or a determiner ("to next Tuesday?", "and my hotel", "my Denver flight"); a turn
# that starts like a sentence ("What trips do I have?", "Actually, cancel it") is a request of
# its own, even when it follows at once (joining those made 40 of 150 such pairs go wrong)
_CONTINUATION_WORDS = (
    "to from for with at in on of by about into via until around before after than "
    "and or but so because like then "
    "my the a an our their his her its this that these those"
)
_CONTINUATION_START = frozenset(_CONTINUATION_WORDS.split())
_FIRST_WORD = re.compile(r"[a-z']+")


def _starts_mid_sentence(text: str) -> bool:
    first = _FIRST_WORD.search(text.lower())
    return first is not None and first.group() in _CONTINUATION_START


# a tool that acted on the first half (made the change, identified the caller, opened a case)
# means that half was a turn of its own; lookups and hand-offs on it do not
_ACTED = re.compile(r"^(confirm|discard|identify|open|book)_")


@dataclass
class _Continuable:
    """The caller's latest turn, while their next turn would still continue it."""

    index: int  # in conv.items
    stopped_at: float | None  # when the caller stopped speaking (livekit's metrics)
    cut_off: list[int] = field(default_factory=list)  # agent fragments said in between
    cut_off_words: int = 0  # the most words in one of them
    tools: list[int] = field(default_factory=list)  # tool calls made in between


def _after_tool(prev: _Continuable | None, index: int, name: str) -> _Continuable | None:
    """``prev`` once the tool ``name`` (at ``index``) ran for the reply to it: still open to
    a continuation, unless the tool acted on it."""
    if prev is None or _ACTED.match(name):
        return None
    prev.tools.append(index)
    return prev


def _continues(prev: _Continuable, msg: llm.ChatMessage) -> bool:
    started = msg.metrics.get("started_speaking_at")
    if prev.stopped_at is None or started is None:
        return prev.cut_off_words <= CUT_OFF_REPLY_MAX_WORDS
    return started - prev.stopped_at <= CONTINUATION_MAX_GAP_S


def _unheard(conv: Conversation, indices: list[int]) -> None:
    """Mark the tool calls at ``indices`` as made for a reply the caller never heard."""
    for i in indices:
        tool = conv.items[i].tool
        if tool is not None:
            conv.items[i] = Item("tool", tool=replace(tool, heard=False))


def conversation_from_chat_ctx(chat_ctx: llm.ChatContext) -> Conversation:
    """Flatten a livekit ChatContext; the first system/developer message is the instructions.

    A caller turn that continues the one before it (nothing heard from the agent in between
    but the first words of a reply the caller talked over) joins it, in the later place."""
    conv = Conversation()
    calls: dict[str, int] = {}  # call_id -> index in conv.items
    seen_instructions = False
    continuable: _Continuable | None = None
    dropped: set[int] = set()  # indices of items merged away
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
                    continuable = None
            elif item.role == "user":
                if (
                    continuable is not None
                    and _starts_mid_sentence(text)
                    and _continues(continuable, item)
                ):
                    earlier = conv.items[continuable.index].text
                    dropped.update([continuable.index, *continuable.cut_off])
                    text = f"{earlier} {text}".strip()
                    _unheard(conv, continuable.tools)
                conv.items.append(Item("user", text))
                stopped = item.metrics.get("stopped_speaking_at")
                continuable = _Continuable(len(conv.items) - 1, stopped) if text else None
            elif item.role == "assistant" and text:
                conv.items.append(Item("assistant", text))
                if continuable is not None and item.interrupted:
                    continuable.cut_off.append(len(conv.items) - 1)
                    words = len(text.split())
                    continuable.cut_off_words = max(continuable.cut_off_words, words)
                else:
                    continuable = None
        elif isinstance(item, llm.FunctionCall):
            calls[item.call_id] = len(conv.items)
            conv.items.append(Item("tool", tool=ToolEvent(item.name, _loads(item.arguments))))
            continuable = _after_tool(continuable, len(conv.items) - 1, item.name)
        elif isinstance(item, llm.FunctionCallOutput):
            idx = calls.get(item.call_id)
            if idx is None:
                event = ToolEvent(item.name, {}, item.output, item.is_error)
                conv.items.append(Item("tool", tool=event))
                continuable = _after_tool(continuable, len(conv.items) - 1, item.name)
                continue
            old = conv.items[idx].tool
            assert old is not None
            event = ToolEvent(old.name, old.arguments, item.output, item.is_error)
            conv.items[idx] = Item("tool", tool=event)
        elif isinstance(item, llm.AgentHandoff):
            # a hand-off on the first half (routed already) does not end the request: the
            # next agent gets it whole
            conv.items.append(Item("handoff"))
    if dropped:
        conv.items = [it for i, it in enumerate(conv.items) if i not in dropped]
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
