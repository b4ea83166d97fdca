"""TEST STAND-IN for a language model: ``ScriptedLLM`` plays back preset tool calls and text.

It is not a model and decides nothing. Each caller message starts the next scripted turn; a
turn is a list of steps (``call(...)`` a tool, ``say(...)`` text) used by the LLM requests that
follow, one step per request (so a turn can span a tool's output and a hand-off). When a turn
has no steps left, the stand-in reads back the latest tool result ("Sorry: <error>" for a
failed one), which lets tests check what a real model would be told.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import llm
from livekit.agents.llm import ChatChunk, ChatContext, ChoiceDelta, FunctionToolCall, Tool
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)

GENERIC_REPLY = "How can I help you with your travel today?"


@dataclass(frozen=True)
class Step:
    text: str | None = None
    tool: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)


def call(tool: str, **arguments: Any) -> Step:
    """A step that calls ``tool`` with ``arguments``."""
    return Step(tool=tool, arguments=arguments)


def say(text: str) -> Step:
    """A step that says ``text``."""
    return Step(text=text)


class ScriptedLLM(llm.LLM):
    """Plays back ``turns`` (one list of steps per caller message) in order."""

    def __init__(self, *turns: list[Step]) -> None:
        super().__init__()
        self._turns = [list(t) for t in turns]
        self._answered: set[str] = set()  # caller message ids that started a turn
        self._steps: list[Step] = []
        self._ids = itertools.count(1)
        self.errors: list[str] = []  # script mistakes (a tool the agent does not offer)
        self.offered: list[list[str]] = []  # the tool names of each request, for assertions

    @property
    def model(self) -> str:
        return "scripted-test-stand-in"

    @property
    def provider(self) -> str:
        return "tests"

    def _next_step(self, chat_ctx: ChatContext) -> Step | None:
        last = next(
            (
                i
                for i in reversed(chat_ctx.items)
                if getattr(i, "role", None) not in ("system", "developer")
            ),
            None,
        )
        if (
            last is not None
            and getattr(last, "role", None) == "user"
            and last.id not in self._answered
        ):
            self._answered.add(last.id)
            if not self._turns:
                self.errors.append(f"no scripted turn left for {last.text_content!r}")
                return None
            self._steps = self._turns.pop(0)
        return self._steps.pop(0) if self._steps else None

    @staticmethod
    def _read_back(chat_ctx: ChatContext) -> str:
        for item in reversed(chat_ctx.items):
            if item.type == "function_call_output":
                return f"Sorry: {item.output}" if item.is_error else item.output
            if item.type == "message" and item.role == "user":
                break
        return GENERIC_REPLY

    def chat(
        self,
        *,
        chat_ctx: ChatContext,
        tools: list[Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[Any] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        names = [t.id for t in tools or []]
        self.offered.append(names)
        step = self._next_step(chat_ctx)
        if step is not None and step.tool is not None and step.tool not in names:
            self.errors.append(f"scripted tool {step.tool!r} is not offered (offered: {names})")
        if step is None:
            step = say(self._read_back(chat_ctx))
        return _ScriptedStream(
            self,
            chat_ctx=chat_ctx,
            tools=tools or [],
            conn_options=conn_options,
            step=step,
            call_id=f"call_{next(self._ids)}",
        )


class _ScriptedStream(llm.LLMStream):
    def __init__(
        self,
        llm_: ScriptedLLM,
        *,
        chat_ctx: ChatContext,
        tools: list[Tool],
        conn_options: APIConnectOptions,
        step: Step,
        call_id: str,
    ) -> None:
        super().__init__(llm_, chat_ctx=chat_ctx, tools=tools, conn_options=conn_options)
        self._step = step
        self._call_id = call_id

    async def _run(self) -> None:
        if self._step.tool is not None:
            delta = ChoiceDelta(
                role="assistant",
                tool_calls=[
                    FunctionToolCall(
                        name=self._step.tool,
                        arguments=json.dumps(self._step.arguments),
                        call_id=self._call_id,
                    )
                ],
            )
        else:
            delta = ChoiceDelta(role="assistant", content=self._step.text or "")
        self._event_ch.send_nowait(ChatChunk(id=self._call_id, delta=delta))
