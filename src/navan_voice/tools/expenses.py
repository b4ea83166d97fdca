"""Expense status and travel-policy questions."""

from __future__ import annotations

import re

from livekit.agents import RunContext, function_tool

from navan_voice.domain.models import format_money
from navan_voice.services import expenses, policy
from navan_voice.tools._call import read_service, require_identified, state_of
from navan_voice.tools.state import CallState


@function_tool
async def expense_status(context: RunContext[CallState], merchant: str = "") -> str:
    """Tell the caller the status of their expenses.

    Args:
        merchant: only expenses from this merchant, e.g. "Uber"; empty for all recent ones
    """
    state = state_of(context)
    found = await read_service(
        state,
        expenses.expense_status,
        traveler_id=require_identified(state),
        merchant=merchant,
    )
    return " ".join(
        f"{e.merchant}, {format_money(e.amount_cents, e.currency)} on {e.incurred_on:%B %-d}: "
        f"{e.status.value.replace('_', ' ')}{f' ({e.note})' if e.note else ''}."
        for e in found[:5]
    )


@function_tool
async def ask_travel_policy(
    context: RunContext[CallState],
    question: str,
    city: str = "",
    origin: str = "",
    destination: str = "",
) -> str:
    """Answer a question about the caller's company travel policy from its written rules.

    Args:
        question: the caller's policy question in their own words
        city: the city a hotel question is about, e.g. "New York"; empty if none
        origin: departure airport code for a cabin question, e.g. SFO; empty if none
        destination: arrival airport code for a cabin question, e.g. LHR; empty if none
    """
    state = state_of(context)
    if not (origin and destination):
        airports = re.findall(r"\b[A-Z]{3}\b", question)
        if len(airports) >= 2:
            origin, destination = airports[0], airports[1]
    return await read_service(
        state,
        policy.answer_policy_question,
        traveler_id=require_identified(state),
        topic=policy.topic_for_question(question),
        city=city,
        origin=origin,
        destination=destination,
    )
