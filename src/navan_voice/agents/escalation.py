"""Escalation: a support case with the call's summary, then a cold transfer on a phone call."""

from __future__ import annotations

import logging

from livekit.agents.llm import ChatContext

from navan_voice.agents.base import NavanAgent
from navan_voice.domain.models import Channel
from navan_voice.tools.cases import open_case_best_effort, open_support_case
from navan_voice.tools.state import CallState, TransferRequest

logger = logging.getLogger(__name__)


class EscalationAgent(NavanAgent):
    prompt = "escalation"

    def __init__(
        self, state: CallState, *, reason: str, chat_ctx: ChatContext | None = None
    ) -> None:
        super().__init__(state, tools=[open_support_case], chat_ctx=chat_ctx)
        self.reason = reason

    @property
    def will_transfer(self) -> bool:
        return self.state.channel is Channel.PHONE and self.state.transfer_to_human is not None

    async def on_enter(self) -> None:
        self._arrived()
        self.state.note(f"Escalated: {self.reason}")
        reference = await open_case_best_effort(self.state, self.reason)
        spoken_ref = " ".join(reference)
        if self.will_transfer:
            told = f"Case {spoken_ref} has the details. " if reference else ""
            what = f"{told}Tell the caller you are transferring them to a colleague now."
        elif reference:
            what = (
                f"Tell the caller you opened case {spoken_ref} and a colleague will follow up "
                "by email."
            )
        else:
            what = (
                "Apologise: our systems are down, so no case could be saved; ask them to try "
                "again later or email support."
            )
        handle = self.session.generate_reply(instructions=what, tool_choice="none")
        if not self.will_transfer:
            return
        await handle  # the caller hears where they are going before the line moves
        hook = self.state.transfer_to_human
        assert hook is not None
        request = TransferRequest(
            call_id=self.state.call_id,
            reason=self.reason,
            summary=self.state.summary(self.reason),
            case_reference=reference or None,
            briefing=self.state.briefing(self.reason, reference or None),
        )
        try:
            await hook(request)
        except Exception:
            logger.exception("transfer of call %s failed", self.state.call_id)
            self.state.tags["transfer_failed"] = self.reason or "yes"
            follow_up = (
                "a colleague will follow up on the case by email"
                if reference
                else "our systems could not save a case either, so ask them to call back "
                "later or email support"
            )
            self.session.generate_reply(
                instructions=f"Apologise: the transfer did not go through; {follow_up}.",
                tool_choice="none",
            )
