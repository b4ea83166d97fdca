"""A traveler calling back about a flight change sent for their manager's approval."""

from __future__ import annotations

import pytest
from tests.unit.agents.test_conversations import phone_state
from tests.unit.agents.test_hold_on import said_in_call
from tests.unit.services.test_approvals import filed

from navan_voice.db.engine import SessionFactory
from navan_voice.services import approvals

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "question",
    ["Did my manager approve my flight change?", "Is my change request still pending?",
     "What happened with the approval for my flight?", "Did the approval come through?",
     "Has my boss signed off on my flight change?", "Has my manager approved it?",
     "Is my change still waiting for approval?", "Did my manager approve it?"],
)  # fmt: skip
async def test_a_waiting_change_is_said_to_wait(db: SessionFactory, question: str) -> None:
    filed(db)
    _, replies = await said_in_call(phone_state(db), question)
    assert "is waiting for your manager's approval; you stay on UA 1542" in replies[-1]


async def test_an_approved_change_says_who_approved_it(db: SessionFactory) -> None:
    approval_id, _, _ = filed(db)
    approvals.approve(db=db, approval_id=approval_id, decided_by="Dana Park")
    _, replies = await said_in_call(phone_state(db), "Has my flight change been approved yet?")
    assert "was approved by Dana Park" in replies[-1]


async def test_a_rejected_change_says_the_flight_stays(db: SessionFactory) -> None:
    approval_id, _, _ = filed(db)
    approvals.reject(db=db, approval_id=approval_id, decided_by="Dana Park")
    _, replies = await said_in_call(phone_state(db), "Did my manager approve my flight change?")
    assert "was not approved by Dana Park" in replies[-1] and "stay on UA 1542" in replies[-1]


async def test_no_request_is_said_plainly(db: SessionFactory) -> None:
    _, replies = await said_in_call(phone_state(db), "Did my manager approve my flight change?")
    assert "no flight change waiting for approval" in replies[-1]


@pytest.mark.parametrize(
    "question",
    ["Can I change my flight UA 1542 without my manager's approval?",
     "Does a flight change need my manager's approval?", "Was my expense report approved?",
     "Is business class approved for me?", "OK, I'll sign off now. Thanks, bye",
     "Does my manager have to sign off on business class?"],
)  # fmt: skip
async def test_asking_whether_a_change_needs_approval_is_not_asking_where_one_stands(
    db: SessionFactory, question: str
) -> None:
    from tests.unit.agents.test_conversations import rules_engine_call

    called = await rules_engine_call(phone_state(db), question)
    assert "manager_decision_status" not in called[0], called


async def test_a_caller_known_by_number_hears_the_decision_in_the_greeting_once(
    db: SessionFactory,
) -> None:
    approval_id, _, _ = filed(db)
    approvals.approve(db=db, approval_id=approval_id, decided_by="Dana Park")
    state = phone_state(db)
    said, _ = await said_in_call(state, "Thanks")
    [greeting] = [s for s in said if s.startswith("Hi Alex")]
    assert "Your change to" in greeting and "was approved by Dana Park" in greeting
    assert greeting.endswith("How can I help you today?")
    assert state.tags["told_decisions"] == "1"
    said, _ = await said_in_call(phone_state(db), "Thanks")  # the next call: no news
    assert not any("approved" in s for s in said), said


async def test_a_caller_who_gives_their_code_hears_the_decision_once_identified(
    db: SessionFactory,
) -> None:
    from navan_voice.agents.state import CallState
    from navan_voice.domain.models import Channel

    approval_id, _, _ = filed(db)
    approvals.reject(db=db, approval_id=approval_id, decided_by="Dana Park")
    state = CallState(call_id="web-news", db=db, channel=Channel.WEB)
    _, replies = await said_in_call(state, "My code is NVN7Q2 and my last name is Rivera")
    assert any(
        "I found your profile" in r and "was not approved by Dana Park" in r for r in replies
    ), replies


async def test_a_decision_heard_on_asking_is_not_told_again_in_the_next_greeting(
    db: SessionFactory,
) -> None:
    """The manager decides while the traveler is on the call; they ask and hear it: the next
    call's greeting does not tell them again."""
    from livekit.agents import AgentSession

    from navan_voice.agents import build_first_agent, prepare_call
    from navan_voice.agents.state import CallState
    from navan_voice.speech.dialogue import LocalDialogueLLM, RulesEngine

    approval_id, _, _ = filed(db)
    state = phone_state(db)
    state.call_id = "asked-call"
    await prepare_call(state)
    assert state.greeting_news == ""  # still waiting at the start of the call
    async with AgentSession[CallState](
        llm=LocalDialogueLLM(RulesEngine()), userdata=state
    ) as session:
        await session.start(build_first_agent(state))
        approvals.reject(db=db, approval_id=approval_id, decided_by="Dana Park")
        result = await session.run(user_input="Did my manager approve my flight change?")
        said = [ev.item.text_content or "" for ev in result.events if ev.type == "message"]  # type: ignore[union-attr]
        assert any("was not approved by Dana Park" in r for r in said), said
    [row] = approvals.list_approvals(db=db, status=None)
    assert row.told_on_call == "asked-call"
    greeted, _ = await said_in_call(phone_state(db), "Thanks")
    assert not any("not approved" in s for s in greeted), greeted


async def test_a_decision_is_still_said_when_marking_it_told_fails(
    db: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refuses the write that marks a decision told: the caller still hears the
    decision they asked about (the next greeting may tell it again; nothing is lost)."""
    from navan_voice.domain.errors import DataUnavailableError

    approval_id, _, _ = filed(db)
    state = phone_state(db)
    await said_in_call(state, "Thanks")  # greeted while it still waits
    approvals.reject(db=db, approval_id=approval_id, decided_by="Dana Park")

    def locked(**_: object) -> None:
        raise DataUnavailableError("The bookings database is busy; please try again.")

    monkeypatch.setattr(approvals, "mark_told", locked)
    monkeypatch.setattr(approvals, "decisions_to_tell", lambda **_: [])  # no greeting news
    _, replies = await said_in_call(phone_state(db), "Did my manager approve my flight change?")
    assert "was not approved by Dana Park" in replies[-1], replies
