"""LiveKit tokens for web callers: one room per call, owned by the signed-in traveler.

A room name is ``web-t<traveler id>-<random>``; a traveler may join only rooms with their own
prefix, so a token for someone else's room is never issued. The token carries the agent dispatch
(explicit dispatch by agent name, with the traveler in its metadata), so the agent joins as soon
as the caller's browser creates the room.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from livekit import api

from navan_voice.config import Settings
from navan_voice.domain.errors import InvalidRequestError, NotAuthorizedError
from navan_voice.web.auth import TravelerSession

ROOM_RE = re.compile(r"^web-t(\d+)-[a-z0-9]{8}$")
# what a web caller may publish: their voice, optionally their camera and their screen
CALLER_SOURCES = ["microphone", "camera", "screen_share", "screen_share_audio"]


@dataclass(frozen=True)
class CallerToken:
    """What the page needs to join its call."""

    server_url: str
    room_name: str
    participant_identity: str
    participant_token: str
    expires_in_s: int


def room_prefix(traveler_id: int) -> str:
    return f"web-t{traveler_id}-"


def new_room_name(traveler_id: int) -> str:
    return room_prefix(traveler_id) + secrets.token_hex(4)


def check_room(traveler: TravelerSession, room: str) -> str:
    """``room`` when it is a well-formed room of this traveler; raises otherwise."""
    match = ROOM_RE.match(room)
    if match is None:
        raise InvalidRequestError(
            f"{room[:80]!r} is not a web call room; leave the room out to start a new call"
        )
    if int(match.group(1)) != traveler.traveler_id:
        raise NotAuthorizedError(
            "That call room belongs to another traveler; start a new call instead"
        )
    return room


def dispatch_metadata(traveler: TravelerSession, room: str) -> str:
    """The agent's dispatch metadata: the channel and who is calling (no secrets)."""
    return json.dumps(
        {
            "channel": "web",
            "room": room,
            "traveler_id": traveler.traveler_id,
            "traveler_name": traveler.name,
            "company": traveler.company,
            "confirmation_code": traveler.confirmation_code,
        }
    )


def issue_token(settings: Settings, traveler: TravelerSession, room: str | None) -> CallerToken:
    """A short-lived token for ``room`` (a new room when None) that dispatches the agent."""
    room_name = check_room(traveler, room) if room else new_room_name(traveler.traveler_id)
    identity = f"traveler-{traveler.traveler_id}-{secrets.token_hex(3)}"
    ttl = settings.web_token_ttl_s
    token = (
        api.AccessToken(settings.livekit_api_key, settings.livekit_api_secret.get_secret_value())
        .with_identity(identity)
        .with_name(traveler.name)
        .with_ttl(timedelta(seconds=ttl))
        .with_attributes({"navan.traveler_id": str(traveler.traveler_id)})
        .with_grants(
            api.VideoGrants(
                room_join=True,
                room=room_name,
                can_publish=True,
                can_subscribe=True,
                can_publish_data=True,
                can_publish_sources=CALLER_SOURCES,
                can_update_own_metadata=False,
            )
        )
        .with_room_config(
            api.RoomConfiguration(
                agents=[
                    api.RoomAgentDispatch(
                        agent_name=settings.agent_name,
                        metadata=dispatch_metadata(traveler, room_name),
                    )
                ]
            )
        )
        .to_jwt()
    )
    return CallerToken(
        server_url=settings.livekit_url,
        room_name=room_name,
        participant_identity=identity,
        participant_token=token,
        expires_in_s=ttl,
    )
