"""Arguments filled from a tool's schema, and what the engine says without a tool."""

from __future__ import annotations

import datetime as dt

import pytest

from navan_voice.speech.dialogue.arguments import fill_arguments
from navan_voice.speech.dialogue.context import Conversation, Item, ToolEvent, ToolSpec
from navan_voice.speech.dialogue.instructions import render
from navan_voice.speech.dialogue.rules import RulesEngine

pytestmark = pytest.mark.unit

TODAY = dt.date(2026, 5, 4)

HOTEL_DATES = ToolSpec(
    "propose_hotel_dates",
    "Price new dates for a hotel stay.",
    {
        "properties": {
            "check_in_date": {"type": "string", "description": "the new check-in date"},
            "check_out_date": {"type": "string", "description": "the new check-out date"},
        },
        "required": ["check_in_date", "check_out_date"],
    },
)
IDENTIFY = ToolSpec(
    "identify_caller",
    "Identify the caller by a trip confirmation code and their last name.",
    {
        "properties": {
            "confirmation_code": {"type": "string"},
            "last_name": {"type": "string"},
        },
        "required": ["confirmation_code", "last_name"],
    },
)


def conv(*texts: str) -> Conversation:
    return Conversation(items=[Item("user", t) for t in texts])


def test_paired_dates_take_the_dates_in_order() -> None:
    args, missing = fill_arguments(HOTEL_DATES, conv("move it to May 12 to May 15"), TODAY)
    assert args == {"check_in_date": "2026-05-12", "check_out_date": "2026-05-15"}
    assert missing == []


@pytest.mark.parametrize(
    ("turns", "check_in", "check_out"),
    [(("move it to May 12 to May 15", "Actually, can I check out on the 14th instead?"),
      "2026-05-12", "2026-05-14"),
     (("move it to May 12 to May 15", "Check in on May 13 instead"), "2026-05-13", "2026-05-15"),
     (("I'd like to check out May 20 and check in May 16",), "2026-05-16", "2026-05-20"),
     (("move it to May 12 to May 15", "Change my checkout from May 15 to May 17"),
      "2026-05-12", "2026-05-17"),
     (("Move it to May 12 and check out May 15",), "2026-05-12", "2026-05-15")],
)  # fmt: skip
def test_a_date_said_for_one_end_of_the_stay_goes_there(
    turns: tuple[str, ...], check_in: str, check_out: str
) -> None:
    args, _ = fill_arguments(HOTEL_DATES, conv(*turns), TODAY)
    assert args == {"check_in_date": check_in, "check_out_date": check_out}


def test_slots_from_earlier_turns_are_remembered() -> None:
    args, missing = fill_arguments(
        IDENTIFY, conv("my code is NVN7Q2", "and my last name is Rivera"), TODAY
    )
    assert args == {"confirmation_code": "NVN7Q2", "last_name": "Rivera"}
    assert missing == []


def test_missing_arguments_are_asked_for() -> None:
    decision = RulesEngine(today=lambda: TODAY).decide(conv("my code is NVN7Q2"), [IDENTIFY])
    assert decision.tool is None
    assert decision.text is not None and "last name" in decision.text


def test_tool_output_is_spoken_as_is() -> None:
    out = ToolEvent("identify_caller", {}, "Thanks, Alex, I found your profile.")
    c = Conversation(items=[Item("user", "NVN7Q2 Rivera"), Item("tool", tool=out)])
    decision = RulesEngine().decide(c, [IDENTIFY])
    assert decision.text == "Thanks, Alex, I found your profile."


def test_internal_tool_error_is_an_apology_not_a_guess() -> None:
    out = ToolEvent("identify_caller", {}, "An internal error occurred", is_error=True)
    c = Conversation(items=[Item("user", "NVN7Q2 Rivera"), Item("tool", tool=out)])
    text = RulesEngine().decide(c, [IDENTIFY]).text or ""
    assert text.startswith("Sorry") and "colleague" in text


def test_tool_choice_none_never_calls_a_tool() -> None:
    c = conv("my code is NVN7Q2 and my last name is Rivera")
    decision = RulesEngine().decide(c, [IDENTIFY], tool_choice="none")
    assert decision.tool is None and decision.text


@pytest.mark.parametrize(
    ("instruction", "said"),
    [
        (
            "Greet Alex by name as Navan travel support and ask how you can help.",
            "Hi Alex, this is Navan travel support. How can I help you today?",
        ),
        (
            "Tell the caller you opened case C S 1 2 and a colleague will follow up by email.",
            "I opened case C S 1 2 and a colleague will follow up by email.",
        ),
        (
            "Tell the caller you are transferring them to a colleague now.",
            "I'm transferring you to a colleague now.",
        ),
        (
            "Apologise: the transfer did not go through; a colleague will follow up by email.",
            "I'm sorry: the transfer did not go through. A colleague will follow up by email.",
        ),
    ],
)
def test_instructions_become_speech(instruction: str, said: str) -> None:
    assert render(instruction) == said


def test_arriving_after_a_hand_off_acts_on_the_carried_request() -> None:
    trips = ToolSpec("list_upcoming_trips", "List the caller's upcoming trips.", {})
    handoff = ToolEvent("transfer_to_flights", {}, "")
    c = Conversation(
        items=[Item("user", "what trips do I have coming up"), Item("tool", tool=handoff)]
    )
    decision = RulesEngine().decide(c, [trips])
    assert decision.tool == "list_upcoming_trips"


def test_screen_question_reads_the_shared_screen() -> None:
    screen = ToolSpec("look_at_screen", "Look at the traveler's shared screen.", {})
    decision = RulesEngine().decide(conv("there's an error on my screen"), [IDENTIFY, screen])
    assert decision.tool == "look_at_screen"


def test_application_context_messages_are_not_caller_turns() -> None:
    from livekit.agents import llm

    from navan_voice.speech.dialogue.context import conversation_from_chat_ctx

    ctx = llm.ChatContext.empty()
    ctx.add_message(role="system", content="You are the greeter.")
    ctx.add_message(role="user", content="I need help with my trip")
    # what the caller's screen shows, kept up to date under its own id by the vision module
    ctx.insert(llm.ChatMessage(id="navan-screen", role="system", content=["Screen: Error 42"]))
    conv = conversation_from_chat_ctx(ctx)
    assert conv.instructions == "You are the greeter."
    assert conv.last is not None and conv.last.kind == "user"
    assert conv.user_turns == ["I need help with my trip"]


def test_yes_after_a_garbled_turn_still_confirms() -> None:
    confirm = ToolSpec("confirm_change", "Make the change just read back.", {})
    c = Conversation(
        items=[
            Item("user", "the first one"),
            Item("assistant", "To confirm: UA 1544 on May 5. Shall I go ahead?"),
            Item("user", "[noise]"),
            Item("assistant", "Sorry, I didn't catch that. Could you say it again?"),
            Item("user", "yes"),
        ]
    )
    assert RulesEngine().decide(c, [confirm]).tool == "confirm_change"


def test_yes_to_a_colleague_offer_is_never_a_pending_confirmation() -> None:
    # after a failed tool the agent offered a colleague; a "yes" then must not confirm the
    # change read back before the failure
    confirm = ToolSpec("confirm_change", "Make the change just read back.", {})
    human = ToolSpec(
        "transfer_to_human",
        "Transfer the caller to a human colleague.",
        {"type": "object", "properties": {"reason": {"type": "string"}}, "required": ["reason"]},
    )
    c = Conversation(
        items=[
            Item("assistant", "To confirm: UA 1544 on May 5. Shall I go ahead?"),
            Item("user", "yes"),
            Item(
                "assistant",
                "Sorry, something went wrong on my side and I couldn't finish that. "
                "Would you like me to connect you with a colleague?",
            ),
            Item("user", "yes"),
        ]
    )
    decision = RulesEngine().decide(c, [confirm, human])
    assert decision.tool == "transfer_to_human"
    assert decision.arguments["reason"]
    alone = RulesEngine().decide(c, [confirm])  # no person to hand to: still no change
    assert alone.tool is None and "colleague" in (alone.text or "")


CONFIRM = ToolSpec("confirm_change", "Make the change just read back.", {})
PROPOSE = ToolSpec(
    "propose_flight_change",
    "Price a change to one of the options just listed and read it back; changes nothing yet.",
    {"properties": {"option": {"type": "integer"}}, "required": ["option"]},
)
READ_BACK = (
    "To confirm: I'll move you from UA 1542 from SFO to JFK on Thursday December 17 at 8:00 AM "
    "to UA 1544 departing SFO Wednesday December 16 at 12:30 PM. The new fare is $97 more and "
    "the change fee $75, so $172 is charged. Shall I go ahead?"
)
OPTIONS = "I have 2 options. Option 1: UA 1542 ... Option 2: UA 1544 ... Which one would you like?"


def read_back_then(heard: str, answer: str) -> Conversation:
    """Options listed, option 2 read back (the caller heard ``heard`` of it), then ``answer``."""
    return Conversation(
        items=[
            Item("user", "I need to change my flight UA 1542"),
            Item("tool", tool=ToolEvent("find_alternative_flights", {}, OPTIONS)),
            Item("assistant", OPTIONS),
            Item("user", "Move me to option 2"),
            Item("tool", tool=ToolEvent("propose_flight_change", {"option": 2}, READ_BACK)),
            Item("assistant", heard),
            Item("user", answer),
        ]
    )


@pytest.mark.parametrize(
    "answer",
    ["Yes, but make it Friday instead", "Okay wait, how much is that again",
     "Right, hold on a second", "Sure, but what is the cancellation policy?"],
)  # fmt: skip
def test_a_yes_that_goes_on_to_object_or_ask_confirms_nothing(answer: str) -> None:
    decision = RulesEngine(today=lambda: TODAY).decide(
        read_back_then(READ_BACK, answer), [CONFIRM, PROPOSE]
    )
    assert decision.tool != "confirm_change", decision


@pytest.mark.parametrize("answer", ["Yes", "Yes, please go ahead.", "Yeah, that works for me."])
def test_a_plain_yes_to_the_read_back_confirms(answer: str) -> None:
    decision = RulesEngine().decide(read_back_then(READ_BACK, answer), [CONFIRM, PROPOSE])
    assert decision.tool == "confirm_change"


def test_yes_over_a_read_back_cut_off_before_its_price_reads_it_again() -> None:
    # livekit keeps only the played part of an interrupted reply: the caller never heard $172
    cut = "To confirm: I'll move you from UA 1542 from SFO"
    decision = RulesEngine().decide(read_back_then(cut, "Yes, go ahead"), [CONFIRM, PROPOSE])
    assert decision.tool is None and decision.text == READ_BACK


def test_wait_with_another_choice_is_that_choice_not_a_plain_no() -> None:
    discard = ToolSpec("discard_pending_change", "Drop the change just read back.", {})
    decision = RulesEngine().decide(
        read_back_then(READ_BACK, "Wait, the first one instead"), [CONFIRM, PROPOSE, discard]
    )
    assert decision.tool == "propose_flight_change" and decision.arguments == {"option": 1}


def test_needle_never_confirms_a_change_on_its_own() -> None:
    """Needle picks among the tools by the words alone: its pick of the confirming tool is not
    taken (the rules confirm, on a plain yes to the read-back)."""
    from navan_voice.speech.dialogue.needle_engine import NeedleEngine

    class AlwaysConfirms:  # a stand-in for the Needle model: it always picks confirm_change
        def complete(self, text: str) -> dict[str, object]:
            return {"function_calls": [{"name": "confirm_change", "arguments": {}}],
                    "confidence": 0.99}  # fmt: skip

    engine = NeedleEngine()
    engine._model = lambda specs: AlwaysConfirms()  # type: ignore[method-assign]
    # the caller turns to the hotel: the rules ask for the dates, and Needle is asked too
    answer = "Yes, I want to change my hotel dates"
    decision = engine.decide(read_back_then(READ_BACK, answer), [CONFIRM, PROPOSE, HOTEL_DATES])
    assert decision.tool != "confirm_change", decision


@pytest.mark.parametrize(
    "answer",
    [
        "No, not the first one",
        "No thanks, I'll keep my flight",
        "No, leave it",
        "No, not the one on Friday",
    ],
)
def test_a_no_that_names_what_it_keeps_is_a_decline(answer: str) -> None:
    discard = ToolSpec("discard_pending_change", "Drop the change just read back.", {})
    decision = RulesEngine(today=lambda: TODAY).decide(
        read_back_then(READ_BACK, answer), [CONFIRM, PROPOSE, discard]
    )
    assert decision.tool == "discard_pending_change", decision


@pytest.mark.parametrize(
    ("answer", "option"),
    [("Not that one, the third", 3), ("No, not the first one, the second one", 2),
     ("Not the first, the last one", -1)],
)  # fmt: skip
def test_a_no_that_rules_one_out_and_picks_another_proposes_that_one(
    answer: str, option: int
) -> None:
    discard = ToolSpec("discard_pending_change", "Drop the change just read back.", {})
    decision = RulesEngine(today=lambda: TODAY).decide(
        read_back_then(READ_BACK, answer), [CONFIRM, PROPOSE, discard]
    )
    assert decision.tool == "propose_flight_change", decision
    assert decision.arguments == {"option": option}


def test_a_yes_with_more_in_it_never_drops_the_change() -> None:
    discard = ToolSpec("discard_pending_change", "Drop the change just read back.", {})
    decision = RulesEngine(today=lambda: TODAY).decide(
        read_back_then(READ_BACK, "Yes, but how much is the change again?"),
        [CONFIRM, PROPOSE, discard],
    )
    assert decision.tool not in ("confirm_change", "discard_pending_change"), decision
