"""A caller's sentence split by a pause into two turns is understood as one request, when the
agent said nothing in between but the first words of a reply the caller talked over."""

from __future__ import annotations

import datetime as dt

import pytest
from livekit.agents import NOT_GIVEN, llm

from navan_voice.speech.dialogue import LocalDialogueLLM, RulesEngine
from navan_voice.speech.dialogue.context import conversation_from_chat_ctx

from .travel_agents import CallState, FlightsAgent

pytestmark = pytest.mark.unit

T0 = 1_700_000_000.0  # ChatContext.insert orders items by created_at


def _ctx(*items: llm.ChatMessage) -> llm.ChatContext:
    ctx = llm.ChatContext.empty()
    ctx.insert(
        llm.ChatMessage(
            role="system", content=["You are Navan's flights agent."], created_at=T0 - 1.0
        )
    )
    for item in items:
        ctx.insert(item)
    return ctx


def _caller(text: str, start: float, stop: float) -> llm.ChatMessage:
    return llm.ChatMessage(
        role="user",
        content=[text],
        metrics={"started_speaking_at": T0 + start, "stopped_speaking_at": T0 + stop},
        created_at=T0 + stop + 0.5,
    )


def _agent(text: str, *, interrupted: bool, at: float) -> llm.ChatMessage:
    return llm.ChatMessage(
        role="assistant", content=[text], interrupted=interrupted, created_at=T0 + at
    )


def _split(agent_reply: llm.ChatMessage, second_start: float = 2.4) -> llm.ChatContext:
    return _ctx(
        _caller("Can I move my flight", 0.0, 1.2),
        agent_reply,
        _caller("to next Tuesday?", second_start, second_start + 0.9),
    )


def test_the_halves_join_when_the_caller_cut_the_agent_off_in_its_first_words() -> None:
    conv = conversation_from_chat_ctx(_split(_agent("Sure, which", interrupted=True, at=2.0)))
    assert conv.user_turns == ["Can I move my flight to next Tuesday?"]
    # the cut-off fragment is gone too: the joined request is not an answer to it
    assert [i.kind for i in conv.items] == ["user"]


def test_adjacent_turns_join_when_the_agent_said_nothing_between_them() -> None:
    ctx = _ctx(_caller("I need to cancel my trip", 0.0, 1.0), _caller("to Denver", 1.8, 2.4))
    assert conversation_from_chat_ctx(ctx).user_turns == ["I need to cancel my trip to Denver"]


def test_when_timed_the_callers_pause_decides_not_the_words_played() -> None:
    # livekit's text of a cut-off reply can run a few words ahead of the audio; back 1.2 s
    # after stopping, the caller heard at most the reply's first second
    reply = _agent("I have 5 options. Option 1: WN", interrupted=True, at=2.0)
    conv = conversation_from_chat_ctx(_split(reply, second_start=2.4))
    assert conv.user_turns == ["Can I move my flight to next Tuesday?"]


@pytest.mark.parametrize(
    ("reply", "second_start"),
    [
        (_agent("Which trip do you mean?", interrupted=False, at=2.0), 2.4),  # answered
        (_agent("Sure, which", interrupted=True, at=2.0), 6.0),  # a new turn, 4.8 s later
    ],
    ids=["agent-finished", "long-pause"],
)
def test_a_new_turn_stays_a_turn_of_its_own(reply: llm.ChatMessage, second_start: float) -> None:
    conv = conversation_from_chat_ctx(_split(reply, second_start))
    assert conv.user_turns == ["Can I move my flight", "to next Tuesday?"]


def test_a_turn_that_starts_like_a_sentence_is_a_request_of_its_own() -> None:
    # said at once over the reply's first words, but no continuation of what came before
    ctx = _ctx(
        _caller("Please cancel my Denver flight", 0.0, 1.2),
        _agent("Cancelling WN 2210", interrupted=True, at=2.0),
        _caller("What trips do I have coming up?", 2.4, 3.6),
    )
    assert conversation_from_chat_ctx(ctx).user_turns == [
        "Please cancel my Denver flight",
        "What trips do I have coming up?",
    ]


@pytest.mark.parametrize(
    ("played", "joined"),
    [("Sure, which", True), ("Sure, I can help you move it, which", False)],
)
def test_untimed_turns_join_only_over_the_first_words_of_a_reply(played: str, joined: bool) -> None:
    ctx = _ctx(
        llm.ChatMessage(role="user", content=["Can I move my flight"], created_at=T0),
        _agent(played, interrupted=True, at=1.0),
        llm.ChatMessage(role="user", content=["to next Tuesday?"], created_at=T0 + 2.0),
    )
    turns = conversation_from_chat_ctx(ctx).user_turns
    assert turns == (
        ["Can I move my flight to next Tuesday?"]
        if joined
        else ["Can I move my flight", "to next Tuesday?"]
    )


async def test_the_engine_acts_on_the_whole_request(today: dt.date) -> None:
    engine = LocalDialogueLLM(RulesEngine(today=lambda: today))
    tools = list(FlightsAgent(CallState()).tools)
    ctx = _split(_agent("Sure, which", interrupted=True, at=2.0))
    decision = await engine.decide(ctx, tools, NOT_GIVEN)
    assert decision.tool == "find_alternative_flights"
    assert decision.arguments == {"date": "2026-05-05"}


def _tool(name: str, output: str, call_id: str) -> list[llm.ChatItem]:
    return [
        llm.FunctionCall(call_id=call_id, name=name, arguments="{}", created_at=T0 + 1.8),
        llm.FunctionCallOutput(
            call_id=call_id, name=name, output=output, is_error=False, created_at=T0 + 1.9
        ),
    ]


def _with_tool(name: str, output: str) -> llm.ChatContext:
    ctx = _ctx(_caller("Can I move my Denver flight", 0.0, 1.2))
    for item in _tool(name, output, "call_1"):
        ctx.insert(item)
    ctx.insert(_agent("I have 3", interrupted=True, at=2.0))
    ctx.insert(_caller("to next Tuesday?", 2.4, 3.3))
    return ctx


async def test_options_the_caller_never_heard_are_not_picked_from(today: dt.date) -> None:
    # the reply to the first half looked up flights and was cut off after "I have 3": the
    # joined request is searched again for its day, not answered with "which option?"
    ctx = _with_tool("find_alternative_flights", "I have 3 options: option 1, 9:00 AM; ...")
    conv = conversation_from_chat_ctx(ctx)
    assert conv.user_turns == ["Can I move my Denver flight to next Tuesday?"]
    assert [e.heard for e in conv.tool_events()] == [False]
    engine = LocalDialogueLLM(RulesEngine(today=lambda: today))
    decision = await engine.decide(ctx, list(FlightsAgent(CallState()).tools), NOT_GIVEN)
    assert decision.tool == "find_alternative_flights"
    assert decision.arguments.get("date") == "2026-05-05"


def test_a_first_half_that_was_acted_on_stays_a_turn_of_its_own() -> None:
    # "Yes" [pause] "and ..." after a read-back: the change was made on the "yes"
    ctx = _with_tool("confirm_change", "Done: you are on UA 1544.")
    assert conversation_from_chat_ctx(ctx).user_turns == [
        "Can I move my Denver flight",
        "to next Tuesday?",
    ]
