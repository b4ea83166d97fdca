"""Look-ahead: the reply's first words are rendered while the end of the caller's turn is pending.

livekit starts a reply on the final transcript (preemptive generation), but it runs tools only
once the turn is committed, and a hand-off's new agent only after that. So with the local models
the caller waits, after the end of turn, for the tools, the reply and piper's first piece
(0.1-0.17 s: bench/REPORT.md, session 7), while the time between the STT's text and the commit
(the rest of the VAD's silence) is idle. The text is the local STT's preflight transcript at a
pause (``on_preflight``) or any STT's final. The look-ahead plays the turn through in that gap,
on a copy of the call state: the agent's decisions, its lookup tools and hand-offs to a
specialist, until a reply; then the TTS renders that reply's first piece. The real turn runs as
always; its database reads are taken from the look-ahead's (tools/reads_ahead.py) and, when its
first piece is the same text, its audio is ready. A reply that needs no tool
is left to livekit's preemptive synthesis, which starts on the same transcript
(``NAVAN_PREEMPTIVE_TTS``).

Only tools named in ``read_only`` (they read the database and change nothing but the call state,
which here is a copy) and hand-offs in ``handoffs`` are run ahead; a turn that reaches any other
tool (a change, a case, a person) is not looked ahead. A wrong guess costs only CPU: nothing is
said that the real turn did not decide. It is used with deterministic local models only (a cloud
LLM would be asked, and paid, twice for a reply it may word differently).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
from collections.abc import Iterable
from typing import Any, Protocol, cast

from livekit.agents import Agent, AgentSession, RunContext, llm
from livekit.agents.llm import utils as llm_utils
from livekit.agents.telemetry import tracer
from livekit.agents.voice.events import ConversationItemAddedEvent, UserInputTranscribedEvent
from livekit.agents.voice.generation import update_instructions

from navan_voice.agents.base import NavanAgent, count_days_where_the_booking_is
from navan_voice.tools.state import CallState

logger = logging.getLogger(__name__)

MAX_STEPS = 4  # decisions per turn: e.g. hand-off → lookup → reply


@dataclasses.dataclass(frozen=True)
class Prediction:
    """The reply a turn would end in, as the text chunks the LLM streams."""

    chunks: list[str]
    after_tools: bool  # a tool or hand-off ran first (livekit runs those only after the turn)


class Prerenderer(Protocol):
    """A TTS that can render the first piece of a reply before it is asked to speak it."""

    ahead_rendered: int  # pieces rendered ahead
    ahead_spoken: int  # of those, pieces a reply then spoke
    ahead_late: int  # pieces not rendered ahead: their reply was there first

    def prerender(self, chunks: Iterable[str]) -> None: ...


def shadow_state(state: CallState) -> CallState:
    """A copy of the call state that tools may change: its lists and dicts are copies, the
    database and the hooks are shared (the look-ahead only reads through them), and so is
    ``reads_ahead``, where its reads are kept for the real turn (tools/reads_ahead.py)."""
    return dataclasses.replace(
        state,
        ahead=True,
        options=list(state.options),
        agents_visited=list(state.agents_visited),
        notes=list(state.notes),
        tags=dict(state.tags),
        extra_tools=list(state.extra_tools),
    )


@dataclasses.dataclass
class _AgentView:
    chat_ctx: llm.ChatContext


@dataclasses.dataclass
class _SessionView:
    current_agent: _AgentView
    userdata: CallState


@dataclasses.dataclass
class _AheadContext:
    """What our tools read of livekit's ``RunContext``: the call state, and (hand-offs) the
    conversation of the current agent. A tool reaching for anything else fails, which ends
    the look-ahead."""

    userdata: CallState
    session: _SessionView


class Lookahead:
    """Plays each final transcript of a call through ahead of its turn; see the module doc."""

    def __init__(
        self,
        session: AgentSession[CallState],
        model: llm.LLM[Any],
        tts: Prerenderer,
        *,
        read_only: frozenset[str],
        handoffs: frozenset[str],
    ) -> None:
        self._session = session
        self._llm = model
        self._tts = tts
        self._read_only = read_only
        self._handoffs = handoffs
        self._heard: list[str] = []  # final transcripts of the turn in progress
        self._last = ""  # the transcript last played ahead in this turn
        self._task: asyncio.Task[None] | None = None
        self.played = 0  # final transcripts played ahead

    def attach(self) -> None:
        self._session.on("user_input_transcribed", self._on_transcribed)
        self._session.on("conversation_item_added", self._on_item)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        logger.info(
            "look-ahead: %d transcripts played ahead, %d replies rendered ahead, %d spoken, "
            "%d too late to render, %d database reads taken by the real turns",
            self.played,
            self._tts.ahead_rendered,
            self._tts.ahead_spoken,
            self._tts.ahead_late,
            self._session.userdata.reads_ahead.taken,
        )

    def on_preflight(self, text: str) -> None:
        """A preflight transcript (the STT's text at a pause, before its final): play the turn
        ahead from it; the final that follows with the same words is not played again."""
        if text.strip():
            self._play(" ".join([*self._heard, text]).strip())

    def _on_transcribed(self, ev: UserInputTranscribedEvent) -> None:
        if not ev.is_final or not ev.transcript.strip():
            return
        # the turn's text as livekit builds it: its final transcripts, joined by a space
        self._heard.append(ev.transcript)
        self._play(" ".join(self._heard).strip())

    def _play(self, transcript: str) -> None:
        if transcript == self._last:
            return  # already played (or playing) ahead
        self._last = transcript
        if self._task is not None:
            self._task.cancel()
        self._task = asyncio.create_task(self._run(transcript))

    def _on_item(self, ev: ConversationItemAddedEvent) -> None:
        if isinstance(ev.item, llm.ChatMessage) and ev.item.role == "user":
            # the turn was committed: the next transcript starts a new one
            self._heard.clear()
            self._last = ""

    async def _run(self, transcript: str) -> None:
        self.played += 1
        # a span in the call's trace (the text is not in it): when the look-ahead started and
        # ended against the commit, which bench/e2e/spans.py dates; piper's render is its child
        with tracer.start_as_current_span("lookahead") as span:
            try:
                reply = await self.play_ahead(transcript)
            except asyncio.CancelledError:
                span.set_attribute("navan.lookahead.outcome", "cancelled")
                raise
            except Exception:
                span.set_attribute("navan.lookahead.outcome", "failed")
                logger.debug("look-ahead of %r failed", transcript, exc_info=True)
                return
            # a reply without a tool is livekit's own preemptive generation's to render
            if reply is None or not reply.after_tools:
                outcome = "no reply" if reply is None else "no tool"
                span.set_attribute("navan.lookahead.outcome", outcome)
                return
            span.set_attribute("navan.lookahead.outcome", "rendered")
            self._tts.prerender(reply.chunks)

    async def play_ahead(self, transcript: str) -> Prediction | None:
        """The reply the current agent would give to ``transcript``; None when the turn
        reaches a tool that may not run ahead."""
        agent = self._session.current_agent
        if not isinstance(agent, NavanAgent):
            return None
        agent.state.reads_ahead.clear()  # an earlier transcript's reads: not this turn's
        count_days_where_the_booking_is(agent.state)  # "tomorrow" as the real turn has it
        state = shadow_state(agent.state)
        chat_ctx = agent.chat_ctx.copy()
        chat_ctx.add_message(role="user", content=transcript)
        tools: list[Any] = list(agent.tools)
        for step in range(MAX_STEPS):
            text, calls = await self._decide(chat_ctx, tools)
            if not calls:
                return Prediction(text, after_tools=step > 0) if text else None
            for call in calls:
                outcome = await self._run_tool(call, tools, state, chat_ctx)
                if outcome is None:
                    return None
                if isinstance(outcome, Agent):  # a hand-off: the specialist answers next
                    chat_ctx = outcome.chat_ctx.copy()
                    update_instructions(
                        chat_ctx, instructions=outcome.instructions, add_if_missing=True
                    )
                    tools = list(outcome.tools)
                    break
        return None

    async def _decide(
        self, chat_ctx: llm.ChatContext, tools: list[Any]
    ) -> tuple[list[str], list[llm.FunctionToolCall]]:
        text: list[str] = []
        calls: list[llm.FunctionToolCall] = []
        async with self._llm.chat(chat_ctx=chat_ctx, tools=tools) as stream:
            async for chunk in stream:
                if chunk.delta is None:
                    continue
                if chunk.delta.content:
                    text.append(chunk.delta.content)
                calls.extend(chunk.delta.tool_calls or [])
        return text, calls

    async def _run_tool(
        self,
        call: llm.FunctionToolCall,
        tools: list[Any],
        state: CallState,
        chat_ctx: llm.ChatContext,
    ) -> Agent | llm.ChatContext | None:
        """Run one tool ahead: a hand-off gives the next agent; a lookup's output is added to
        ``chat_ctx`` (which is returned); None for a tool that may not run ahead."""
        if call.name not in self._read_only and call.name not in self._handoffs:
            return None
        tool = llm.ToolContext(tools).function_tools.get(call.name)
        if tool is None:
            return None
        ctx = _AheadContext(
            userdata=state,
            session=_SessionView(current_agent=_AgentView(chat_ctx), userdata=state),
        )
        fnc_call = llm.FunctionCall(call_id=call.call_id, name=call.name, arguments=call.arguments)
        try:
            output = await tool(cast(RunContext[CallState], ctx), **json.loads(call.arguments))
        except llm.ToolError as e:  # spoken as the tool's answer, as livekit would
            result = llm_utils.make_function_call_output(
                fnc_call=fnc_call, output=None, exception=e
            )
        else:
            if isinstance(output, Agent):
                return output if call.name in self._handoffs else None
            result = llm_utils.make_function_call_output(
                fnc_call=fnc_call, output=output, exception=None
            )
        chat_ctx.items.extend([result.fnc_call, result.fnc_call_out])
        return chat_ctx
