"""Hand-off tools: each returns the next agent, carrying the call state and the conversation."""

from __future__ import annotations

from livekit.agents import Agent, RunContext, function_tool
from livekit.agents.llm import ChatContext, ToolError

from navan_voice.tools.state import CallState

# hand-offs to a specialist that only build the next agent (none to a person): the look-ahead
# (agents/lookahead.py) may follow them before the caller's turn is over
SPECIALIST_HANDOFFS = frozenset(
    {"transfer_to_flights", "transfer_to_hotels", "transfer_to_expenses"}
)


def _carried(context: RunContext[CallState]) -> ChatContext:
    # the conversation so far, without the previous agent's instructions
    return context.session.current_agent.chat_ctx.copy(exclude_instructions=True)


def _require_identified(state: CallState) -> None:
    if not state.identified:
        raise ToolError(
            "I need to identify you before I can hand you over: please tell me your trip "
            "confirmation code and your last name."
        )


@function_tool
async def transfer_to_flights(context: RunContext[CallState]) -> Agent:
    """Hand the caller to the flights specialist to look up, change or cancel a flight, or to
    hear whether their manager approved a flight change."""
    from navan_voice.agents.flights import FlightsAgent

    _require_identified(context.userdata)
    return FlightsAgent(context.userdata, chat_ctx=_carried(context))


@function_tool
async def transfer_to_hotels(context: RunContext[CallState]) -> Agent:
    """Hand the caller to the hotels and rental cars specialist."""
    from navan_voice.agents.hotels import HotelsAgent

    _require_identified(context.userdata)
    return HotelsAgent(context.userdata, chat_ctx=_carried(context))


@function_tool
async def transfer_to_expenses(context: RunContext[CallState]) -> Agent:
    """Hand the caller to the expenses and travel-policy specialist."""
    from navan_voice.agents.expenses import ExpensesAgent

    _require_identified(context.userdata)
    return ExpensesAgent(context.userdata, chat_ctx=_carried(context))


@function_tool
async def transfer_to_human(context: RunContext[CallState], reason: str) -> Agent:
    """Transfer the caller to a human colleague, when they ask for a person or you cannot help.

    Args:
        reason: why the caller needs a person, in one sentence
    """
    from navan_voice.agents.escalation import EscalationAgent

    return EscalationAgent(context.userdata, reason=reason, chat_ctx=_carried(context))
