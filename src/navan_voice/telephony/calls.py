"""What the agent does on a phone line: transfer to a human (SIP REFER), place an outbound call
with a notice to speak, read DTMF digits, and end the call politely after silence.

The worker wires these in (see ``phone_call_setup``); the agents only see the transfer hook.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from livekit import api, rtc

from navan_voice.config import Settings
from navan_voice.domain.errors import ConfigError, TransferFailedError
from navan_voice.telephony.provision import outbound_trunk_id

logger = logging.getLogger(__name__)


def sip_target(target: str) -> str:
    """A REFER / dial target as a URI: ``+1555…`` becomes ``tel:+1555…``; URIs pass through."""
    target = target.strip()
    if target.startswith(("sip:", "sips:", "tel:")):
        return target
    if target.startswith("+") and target[1:].isdigit():
        return f"tel:{target}"
    raise ConfigError(
        f"{target!r} is not a transfer target; use +15551234567, tel:+15551234567 or "
        "sip:desk@example.com (NAVAN_SIP_TRANSFER_TO)"
    )


async def cold_transfer(
    lk: api.LiveKitAPI,
    *,
    room: str,
    participant_identity: str,
    to: str,
    ringing_timeout_s: float = 20.0,
) -> None:
    """Hand the SIP caller to ``to`` with a SIP REFER; the agent's part of the call then ends.

    Raises TransferFailedError when the far end refuses or nobody answers: the caller stays on
    the line with the agent, which should tell them.
    """
    uri = sip_target(to)
    logger.info("transferring %s in %s to %s (REFER)", participant_identity, room, uri)
    try:
        await lk.sip.transfer_sip_participant(
            api.TransferSIPParticipantRequest(
                room_name=room,
                participant_identity=participant_identity,
                transfer_to=uri,
                play_dialtone=False,
            ),
            timeout=ringing_timeout_s + 10.0,
        )
    except api.TwirpError as e:
        raise TransferFailedError(
            f"the transfer to {uri} did not go through ({e.code}: {e.message}); the caller is "
            "still on the line"
        ) from e


class _Summarised(Protocol):
    @property
    def summary(self) -> str: ...


def make_transfer_hook(
    lk: api.LiveKitAPI, settings: Settings, *, room: str, participant_identity: str
) -> Callable[[_Summarised], Awaitable[None]] | None:
    """The hook the Escalation agent awaits (``CallState.transfer_to_human``), or None when no
    desk is configured (NAVAN_SIP_TRANSFER_TO empty): then the agent opens a case instead."""
    if not settings.sip_transfer_to:
        return None
    target = settings.sip_transfer_to

    async def transfer(request: _Summarised) -> None:
        logger.info("cold transfer with summary: %s", request.summary[:200])
        await cold_transfer(lk, room=room, participant_identity=participant_identity, to=target)

    return transfer


@dataclass(frozen=True)
class OutboundCall:
    room: str
    participant_identity: str
    sip_call_id: str


async def call_out(
    lk: api.LiveKitAPI,
    settings: Settings,
    *,
    number: str,
    message: str,
    trunk_id: str | None = None,
    ringing_timeout_s: float = 30.0,
) -> OutboundCall:
    """Dial ``number`` through the outbound trunk into a fresh room where the agent, dispatched
    with ``{"direction": "outbound", "notice": message}``, speaks the notice once answered.

    Raises TransferFailedError when the callee does not answer or the trunk refuses the call.
    """
    trunk = trunk_id or await outbound_trunk_id(lk, settings)
    room = f"outbound-{uuid.uuid4().hex[:10]}"
    identity = f"phone-{number.lstrip('+')}"
    meta = json.dumps(
        {"channel": "phone", "direction": "outbound", "notice": message, "caller_phone": number}
    )
    await lk.agent_dispatch.create_dispatch(
        api.CreateAgentDispatchRequest(agent_name=settings.agent_name, room=room, metadata=meta)
    )
    try:
        info = await lk.sip.create_sip_participant(
            api.CreateSIPParticipantRequest(
                sip_trunk_id=trunk,
                sip_call_to=number,
                room_name=room,
                participant_identity=identity,
                participant_name=number,
                wait_until_answered=True,
                ringing_timeout=as_duration(ringing_timeout_s),
            ),
            timeout=ringing_timeout_s + 10.0,
        )
    except api.TwirpError as e:
        await delete_room(lk, room)
        raise TransferFailedError(
            f"the call to {number} was not answered or was refused ({e.code}: {e.message})"
        ) from e
    logger.info("outbound call to %s answered in room %s", number, room)
    return OutboundCall(room=room, participant_identity=identity, sip_call_id=info.sip_call_id)


def outbound_notice(metadata: dict[str, Any]) -> str | None:
    """The notice an outbound call must speak first, from the dispatch metadata (or None)."""
    if metadata.get("direction") != "outbound":
        return None
    notice = metadata.get("notice")
    return str(notice) if notice else None


def as_duration(seconds: float) -> Any:
    """Seconds as the protobuf Duration livekit-api's SIP requests take."""
    from google.protobuf.duration_pb2 import Duration

    d = Duration()
    d.FromMilliseconds(int(seconds * 1000))
    return d


async def delete_room(lk: api.LiveKitAPI, room: str) -> None:
    """Close ``room`` (its SIP legs get a BYE); a room already gone is fine."""
    try:
        await lk.room.delete_room(api.DeleteRoomRequest(room=room))
    except api.TwirpError:
        logger.debug("room %s was already gone", room)


class DtmfReader:
    """Collects the DTMF digits a SIP participant keys (RFC 2833 events or SIP INFO, both arrive
    as the room's ``sip_dtmf_received`` event)."""

    def __init__(self, room: rtc.Room) -> None:
        self._room = room
        self._digits: asyncio.Queue[str] = asyncio.Queue()
        self.history: list[str] = []
        room.on("sip_dtmf_received", self._on_dtmf)

    def _on_dtmf(self, event: rtc.SipDTMF) -> None:
        logger.info(
            "DTMF %r from %s", event.digit, event.participant.identity if event.participant else "?"
        )
        self.history.append(event.digit)
        self._digits.put_nowait(event.digit)

    def close(self) -> None:
        self._room.off("sip_dtmf_received", self._on_dtmf)

    async def read(self, *, max_digits: int, timeout_s: float = 15.0, end: str = "#") -> str:
        """Digits until ``end`` (not included), ``max_digits`` of them, or a pause of
        ``timeout_s`` seconds between keys; what was keyed so far is returned."""
        digits = ""
        while len(digits) < max_digits:
            try:
                digit = await asyncio.wait_for(self._digits.get(), timeout_s)
            except TimeoutError:
                break
            if digit == end:
                break
            digits += digit
        return digits
