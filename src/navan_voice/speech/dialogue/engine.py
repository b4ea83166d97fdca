"""The livekit ``llm.LLM`` face of the offline dialogue engine.

``LocalDialogueLLM.chat`` turns livekit's chat context and tools into a :class:`Conversation`
and :class:`ToolSpec` list, asks the engine for a :class:`Decision`, and streams it back as
``ChatChunk``s: a ``FunctionToolCall`` or the reply text, sentence by sentence.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any, Protocol

from livekit.agents import llm, utils
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)

from . import replies
from .context import Conversation, ToolSpec, conversation_from_chat_ctx, tool_specs
from .rules import Decision

logger = logging.getLogger(__name__)


class DialogueEngine(Protocol):
    """Anything that decides the next step from the conversation and the current tools."""

    name: str

    def decide(
        self, conv: Conversation, specs: list[ToolSpec], *, tool_choice: str | None = None
    ) -> Decision: ...


def _tool_choice(choice: NotGivenOr[llm.ToolChoice]) -> tuple[str | None, str | None]:
    """("auto" | "required" | "none" | None, a forced tool name or None)."""
    if not choice:
        return None, None
    if isinstance(choice, str):
        return choice, None
    function = choice.get("function") or {}
    return "required", str(function.get("name")) if function.get("name") else None


class LocalDialogueLLM(llm.LLM[None]):
    """An offline LLM: agents talk to it exactly as to a cloud model."""

    def __init__(self, engine: DialogueEngine, *, blocking: bool = False, timeout_s: float = 8.0):
        """``blocking``: the engine does real compute (a model), so run it in a thread."""
        super().__init__()
        self._engine = engine
        self._blocking = blocking
        self._timeout_s = timeout_s

    @property
    def model(self) -> str:
        return f"navan-dialogue-{self._engine.name}"

    @property
    def provider(self) -> str:
        return "navan-local"

    @property
    def engine(self) -> DialogueEngine:
        return self._engine

    @property
    def blocking(self) -> bool:
        """The engine runs a model (seconds of CPU per decision), not rules (under 1 ms)."""
        return self._blocking

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> DialogueStream:
        return DialogueStream(
            self,
            chat_ctx=chat_ctx,
            tools=tools or [],
            conn_options=conn_options,
            tool_choice=tool_choice,
        )

    async def decide(
        self, chat_ctx: llm.ChatContext, tools: list[Any], tool_choice: NotGivenOr[llm.ToolChoice]
    ) -> Decision:
        """The engine's decision for this context (used by the stream and by the benchmark)."""
        conv = conversation_from_chat_ctx(chat_ctx)
        specs = tool_specs(tools)
        mode, forced = _tool_choice(tool_choice)
        if forced:
            specs = [s for s in specs if s.name == forced]
        if not self._blocking:
            return self._engine.decide(conv, specs, tool_choice=mode)
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self._engine.decide, conv, specs, tool_choice=mode),
                self._timeout_s,
            )
        except TimeoutError:
            logger.warning("dialogue engine %s timed out; apologising", self._engine.name)
            return Decision(text=replies.ENGINE_FAILED, reason="engine timeout")


class DialogueStream(llm.LLMStream):
    def __init__(
        self,
        llm_: LocalDialogueLLM,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[llm.Tool],
        conn_options: APIConnectOptions,
        tool_choice: NotGivenOr[llm.ToolChoice],
    ) -> None:
        super().__init__(llm_, chat_ctx=chat_ctx, tools=tools, conn_options=conn_options)
        self._owner = llm_
        self._tool_choice = tool_choice

    async def _run(self) -> None:
        request_id = utils.shortuuid("navan_")
        try:
            decision = await self._owner.decide(self._chat_ctx, self._tools, self._tool_choice)
        except Exception:
            # a bug in the engine must not leave the caller in silence: apologise instead
            logger.exception("dialogue engine %s failed; apologising", self._owner.model)
            decision = Decision(text=replies.ENGINE_FAILED, reason="engine error")
        logger.debug("decision: %s", decision)
        if decision.tool is not None:
            call = llm.FunctionToolCall(
                name=decision.tool,
                arguments=json.dumps(decision.arguments),
                call_id=utils.shortuuid("call_"),
            )
            self._event_ch.send_nowait(
                llm.ChatChunk(
                    id=request_id, delta=llm.ChoiceDelta(role="assistant", tool_calls=[call])
                )
            )
            return
        text = decision.text or replies.NOT_CAUGHT
        # sentence by sentence, so text-to-speech can start on the first one
        for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
            self._event_ch.send_nowait(
                llm.ChatChunk(
                    id=request_id, delta=llm.ChoiceDelta(role="assistant", content=sentence + " ")
                )
            )
