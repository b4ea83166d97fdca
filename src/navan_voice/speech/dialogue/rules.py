"""The deterministic dialogue engine: intent from keywords, arguments from slot extractors,
replies from tool outputs and templates. Fast (well under a millisecond per turn) and it never
says a fact that did not come from a tool."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import replies, slots
from .arguments import describe_param, evidence, fill_arguments, picks_option
from .clock import caller_today
from .context import Conversation, ToolEvent, ToolSpec
from .instructions import render as render_instruction
from .intents import (
    asks_for_action,
    confirm_tool,
    human_tool,
    is_action_tool,
    is_confirm_tool,
    score_tools,
)

logger = logging.getLogger(__name__)

MIN_TOOL_SCORE = 2.0  # below this the words are not evidence enough for any tool
_SMALL_TALK_BYE = re.compile(r"\b(bye|goodbye|that'?s all|that is all|hang up|nothing else)\b")
_SMALL_TALK_THANKS = re.compile(r"^\s*(thanks|thank you|cheers|great,? thanks)\b")
_SMALL_TALK_HELLO = re.compile(r"^\s*(hi|hello|hey|good (morning|afternoon|evening))\W*$")
_CONFIRM_QUESTION = re.compile(
    r"(shall i|should i|would you like me to|do you want me to|want me to|confirm|"
    r"go ahead|proceed|is that (right|correct|ok))[^?]*\?\s*$",
    re.IGNORECASE,
)


# a "no" that keeps what is booked: a decline, whatever option or date it names (what a "no"
# only rules out, "not the first one", names no pick at all: slots.ruled_out_removed)
_KEEP_AS_IS = re.compile(r"\b(keep|leave|original|either|stay with)\b", re.IGNORECASE)
_DISCARD = re.compile(r"discard|decline|reject|abandon|drop_pending", re.IGNORECASE)


@dataclass(frozen=True)
class Decision:
    """What the engine does this turn: call one tool, or say ``text``."""

    text: str | None = None
    tool: str | None = None
    arguments: dict[str, Any] = field(default_factory=dict)
    reason: str = ""  # why, for logs and the benchmark


class RulesEngine:
    """Stateless: every decision is recomputed from the conversation it is given."""

    name = "rules"

    def __init__(self, *, today: Callable[[], dt.date] = caller_today) -> None:
        self._today = today

    def decide(
        self, conv: Conversation, specs: list[ToolSpec], *, tool_choice: str | None = None
    ) -> Decision:
        if tool_choice == "none":
            specs = []
        last = conv.last
        # a tool has just answered: speak its output (but an empty output of another agent's
        # tool is a hand-off to us, which needs no "Done.")
        answered = last.tool if last is not None and last.kind == "tool" else None
        if (
            answered is not None
            and answered.output is not None
            and (answered.output or answered.name in {s.name for s in specs})
        ):
            return Decision(text=replies.speak_tool_output(answered), reason="tool output")
        if not conv.user_turns or (last is not None and last.kind != "user"):
            return self._unprompted(conv, specs)
        return self._answer(conv, specs, conv.user_turns[-1])

    # --- a reply without new caller words: greeting, hand-off arrival, instructed reply -------
    def _unprompted(self, conv: Conversation, specs: list[ToolSpec]) -> Decision:
        extra = conv.pending_instructions()
        current = {s.name for s in specs}
        events = conv.tool_events()
        handoff = events[-1] if events and events[-1].name not in current else None
        # the hand-off call may be missing from the conversation carried to us (it is copied
        # before the call is recorded); a reply asked for without instructions while no tool
        # has run since the caller's latest words is a specialist arriving all the same
        arrived = handoff is not None or (
            not extra
            and bool(conv.user_turns)
            and not any(i.kind == "tool" for i in conv.since_last_user())
        )
        if arrived:
            pending = self._request_before(conv, handoff)
            if pending:
                decision = self._tool_for(conv, specs, pending, ask_missing=False)
                if decision is not None:
                    return Decision(decision.text, decision.tool, decision.arguments, "hand-off")
        if extra and not replies.quoted_line(extra):
            said = render_instruction(extra)
            if said:
                if "?" not in said:
                    said += " How can I help you today?" if said.startswith("Hi") else ""
                return Decision(text=said, reason="instructed")
        text = replies.greeting(conv.instructions if not conv.user_turns else "", extra, specs)
        if conv.user_turns and text == replies.DEFAULT_GREETING:
            text = replies.WHAT_ELSE
        return Decision(text=text, reason="greeting")

    @staticmethod
    def _request_before(conv: Conversation, handoff: ToolEvent | None) -> str:
        """The caller's words that led to the hand-off (since the tool call before it)."""
        turns: list[str] = []
        for item in reversed(conv.items):
            if item.kind == "tool" and item.tool is not handoff:
                break
            if item.kind == "user":
                turns.append(item.text)
        return " ".join(reversed(turns[:2]))

    # --- the caller has spoken ------------------------------------------------------------
    def _answer(self, conv: Conversation, specs: list[ToolSpec], text: str) -> Decision:
        if slots.is_garbled(text):
            if self._said_last(conv) in (replies.NOT_CAUGHT, replies.NOT_CAUGHT_AGAIN):
                return Decision(text=replies.NOT_CAUGHT_AGAIN, reason="garbled again")
            return Decision(text=replies.NOT_CAUGHT, reason="garbled")
        low = slots.normalize(text)
        prev_assistant = self._previous_assistant(conv)
        offered_colleague = prev_assistant.strip().endswith(replies.OFFER_COLLEAGUE)
        if offered_colleague and not self._has_content(low):
            # "yes" to "Would you like me to connect you with a colleague?" is that hand-off,
            # never the confirmation of a change the conversation held before it
            if slots.is_yes(low):
                human = human_tool(specs)
                if human is None:
                    return Decision(text=replies.NO_COLLEAGUE_HERE, reason="no colleague here")
                if prev_assistant.strip() == replies.NOT_CAUGHT_AGAIN:
                    reason = "the caller could not be understood (perhaps another language)"
                elif "could not find a booking" in prev_assistant:
                    reason = "the caller could not be identified by code and last name"
                else:
                    reason = "something went wrong on our side during the request"
                # the person tool's arguments (transfer_to_human: its reason) all say why
                args = {p: reason for p in human.required}
                return Decision(tool=human.name, arguments=args, reason="colleague accepted")
            if slots.is_no(low):
                return Decision(text=replies.NO_COLLEAGUE, reason="colleague declined")
        answering = bool(
            prev_assistant and _CONFIRM_QUESTION.search(prev_assistant) and not offered_colleague
        )
        if answering:
            # only a plain yes confirms: "yes, but Friday", "okay wait, how much?" do not
            if slots.is_plain_yes(low, prev_assistant, self._today()):
                events = conv.tool_events()
                confirm = confirm_tool(specs, events[-1].name if events else None)
                if confirm is not None:
                    args, _ = fill_arguments(confirm, conv, self._today())
                    return Decision(tool=confirm.name, arguments=args, reason="confirmed")
            elif slots.is_no(low) and not self._has_content(low):
                # an agent with a tool for dropping the read-back change gets it called
                drop = next((t for t in specs if _DISCARD.search(t.name)), None)
                if drop is not None and not drop.required:
                    return Decision(tool=drop.name, reason="declined")
                return Decision(text=replies.DECLINED, reason="declined")
        # a yes with more in it is never a "no": whatever else it asks, the change is not dropped
        yes = slots.is_yes(low) and not slots.is_no(low)
        usable = [s for s in specs if not (yes and _DISCARD.search(s.name))]
        decision = self._tool_for(conv, usable, text, ask_missing=True)
        if decision is not None:
            return decision
        # a change read back and not yet settled, and the caller answers it without a plain
        # yes, or says yes to it after something else was said (or over a read-back cut off
        # before its price): read it back again, so what is confirmed is what was heard
        pending = self._pending_read_back(conv)
        if pending and (answering or slots.is_yes(low)) and not slots.is_no(low):
            return Decision(text=pending, reason="read back again")
        if _SMALL_TALK_BYE.search(low):
            return Decision(text=replies.GOODBYE, reason="goodbye")
        if _SMALL_TALK_THANKS.search(low):
            return Decision(text=replies.YOU_ARE_WELCOME, reason="thanks")
        if _SMALL_TALK_HELLO.search(low):
            return Decision(text=replies.greeting("", "", specs), reason="hello")
        if slots.is_yes(low) and prev_assistant and prev_assistant.endswith("?"):
            return Decision(text=replies.WHAT_ELSE, reason="yes to open question")
        if slots.is_no(low):
            return Decision(text=replies.GOODBYE, reason="nothing else")
        return Decision(text=replies.not_understood(specs), reason="no intent")

    @staticmethod
    def _said_last(conv: Conversation) -> str:
        """The agent's words just before the caller's turn ("" if it said nothing since)."""
        items = conv.items[:-1] if conv.last is not None and conv.last.kind == "user" else []
        for item in reversed(items):
            if item.kind == "assistant":
                return item.text.strip()
            if item.kind == "user":
                return ""
        return ""

    @staticmethod
    def _previous_assistant(conv: Conversation) -> str:
        """The agent's last words before the caller's turn, looking past our own "say that
        again" exchanges, so a "yes" after a garbled turn still answers the read-back."""
        items = conv.items[:-1] if conv.last is not None and conv.last.kind == "user" else []
        retrying = False
        for item in reversed(items):
            if item.kind == "assistant":
                if item.text.strip() in (replies.NOT_CAUGHT, replies.ENGINE_FAILED):
                    retrying = True
                    continue
                return item.text
            if item.kind == "user" and not (retrying and slots.is_garbled(item.text)):
                return ""
            retrying = False
        return ""

    @staticmethod
    def _pending_read_back(conv: Conversation) -> str | None:
        """The read-back of a change proposed and not yet confirmed or dropped ("To confirm:
        ... Shall I go ahead?"), as its tool gave it; None when there is none."""
        for event in reversed(conv.tool_events()):
            output = (event.output or "").strip()
            if not event.is_error and _CONFIRM_QUESTION.search(output):
                return output  # a proposal's, or a confirmation's new one (the price moved)
            if "confirm" in event.name or _DISCARD.search(event.name):
                return None  # settled (or failed while settling: its own words say what next)
        return None

    def _has_content(self, low: str) -> bool:
        """A "no" that carries a new request ("no, I want to cancel instead", "wait, the third
        one instead", "no, Friday", "not that one, the third"): not a plain decline. "No, not
        the first one", "no, keep my flight", "no, leave it" are declines."""
        if len(slots.words(low)) > 7:
            return True
        if _KEEP_AS_IS.search(low):
            return False
        return (
            "instead" in slots.words(slots.ruled_out_removed(low))
            or slots.ordinal(low) is not None
            or bool(slots.dates(low, self._today()))
        )

    def _tool_for(
        self, conv: Conversation, specs: list[ToolSpec], text: str, *, ask_missing: bool
    ) -> Decision | None:
        """The best tool for ``text`` with its arguments, a question for what is missing,
        or None when no tool is a good enough match."""
        # a change is carried out only on a plain yes to its read-back (``_answer``), never
        # because other words happened to score for it ("yes, I want to change those dates")
        specs = [s for s in specs if not is_confirm_tool(s)]
        if not specs:
            return None
        scored = score_tools(text, specs)
        # the caller may be answering our question: add the words of their earlier turns
        earlier = [t for t in conv.user_turns[:-1]][-2:]
        asked = self._previous_assistant(conv)
        if earlier and ask_missing and asked.endswith("?"):
            context_scores = {s.spec.name: s.score for s in score_tools(" ".join(earlier), specs)}
            # after our own question for a tool's arguments, the earlier request counts fully
            weight = 1.0 if asked.startswith(replies.ASK_PREFIX) else 0.5
            scored = sorted(
                (
                    type(s)(s.spec, s.score + weight * context_scores.get(s.spec.name, 0.0))
                    for s in scored
                ),
                key=lambda s: s.score,
                reverse=True,
            )
        # words that fill a tool's parameters are evidence for that tool; a tool that picks
        # from a list ("option 2") is no candidate before the caller has heard options listed
        today = self._today()
        events = [e for e in conv.tool_events() if e.heard]
        listed = any("option" in (e.output or "").lower() for e in events)
        # a tool that failed with a question ("Which one do you mean?") is the likely target
        # of the caller's answer
        retry = (
            events[-1].name
            if ask_missing
            and events
            and events[-1].is_error
            and (events[-1].output or "").rstrip().endswith("?")
            else None
        )
        # a tool that changes something needs words asking for a change, or words that fill
        # its own required arguments ("the second one", new dates): "I stay in that" is no
        # request for new hotel dates, nor is "staying at the New York" (a city says which
        # stay, not that it should change)
        wants_change = asks_for_action(" ".join(conv.user_turns[-2:]))
        scored = sorted(
            (
                type(s)(
                    s.spec,
                    s.score
                    + 2.0 * evidence(s.spec, text, today)
                    - (0.0 if listed or not picks_option(s.spec) else 4.0)
                    + (3.0 if s.spec.name == retry else 0.0)
                    - (
                        2.5
                        if is_action_tool(s.spec)
                        and not wants_change
                        and not evidence(s.spec, text, today, required_only=True)
                        else 0.0
                    ),
                )
                for s in scored
            ),
            key=lambda s: s.score,
            reverse=True,
        )
        best = scored[0]
        logger.debug("tool scores %s", [(s.spec.name, round(s.score, 1)) for s in scored[:3]])
        if best.score < MIN_TOOL_SCORE:
            return None
        args, missing = fill_arguments(best.spec, conv, self._today())
        if missing:
            if not ask_missing:
                return None
            wanted = [describe_param(best.spec, m) for m in missing]
            return Decision(text=replies.ask_for(wanted), reason=f"ask for {missing}")
        return Decision(tool=best.spec.name, arguments=args, reason=f"score {best.score:.1f}")
