"""SIP provisioning with the LiveKit server API: the inbound trunk for the Twilio numbers, the
dispatch rule that sends each call to its own room with the agent dispatched by name, and the
outbound trunk to Twilio's termination URI.

Idempotent: each object is found by its name; one that is missing is created, one that differs
from what the settings ask for is updated in place, one that matches is left alone. Running
``setup`` twice therefore changes nothing the second time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from livekit import api
from livekit.protocol import agent_dispatch as dispatch_pb
from livekit.protocol import room as room_pb
from livekit.protocol import sip as sip_pb

from navan_voice.config import Settings
from navan_voice.domain.errors import ConfigError

logger = logging.getLogger(__name__)

ROOM_PREFIX = "call-"
# fields compared to decide whether an existing object must be updated
_INBOUND_FIELDS = ("numbers", "allowed_addresses", "allowed_numbers", "metadata")
_OUTBOUND_FIELDS = ("address", "numbers", "auth_username", "transport", "metadata")
_RULE_FIELDS = ("rule", "trunk_ids", "metadata", "room_config")


@dataclass(frozen=True)
class Change:
    """What ``setup`` or ``teardown`` did to one object."""

    kind: str  # "inbound trunk", "dispatch rule", "outbound trunk"
    name: str
    id: str
    action: str  # "created", "updated", "unchanged", "deleted", "absent"


@dataclass(frozen=True)
class Names:
    inbound: str
    rule: str
    outbound: str

    @classmethod
    def for_settings(cls, settings: Settings) -> Names:
        base = settings.agent_name
        return cls(f"{base}-inbound", f"{base}-dispatch", f"{base}-outbound")


def dispatch_metadata(settings: Settings) -> str:
    """Metadata on each dispatched job: the worker reads ``channel`` from it."""
    return json.dumps({"channel": "phone", "source": "sip", "agent": settings.agent_name})


def desired_inbound(settings: Settings) -> sip_pb.SIPInboundTrunkInfo:
    if not settings.twilio_numbers:
        raise ConfigError(
            "no inbound numbers: set NAVAN_TWILIO_NUMBERS to the Twilio numbers that should "
            "reach the agent (comma-separated, E.164, e.g. +15551234567)"
        )
    if not (settings.sip_allowed_addresses or settings.sip_allowed_numbers):
        raise ConfigError(
            "the inbound trunk would accept calls from anyone: set NAVAN_SIP_ALLOWED_ADDRESSES "
            "to Twilio's signalling IP ranges (see docs/telephony.md) and/or "
            "NAVAN_SIP_ALLOWED_NUMBERS to the caller numbers allowed"
        )
    return sip_pb.SIPInboundTrunkInfo(
        name=Names.for_settings(settings).inbound,
        numbers=settings.twilio_numbers,
        allowed_addresses=settings.sip_allowed_addresses,
        allowed_numbers=settings.sip_allowed_numbers,
        metadata=json.dumps({"managed_by": "navan-voice"}),
    )


def desired_rule(settings: Settings, inbound_id: str) -> sip_pb.SIPDispatchRuleInfo:
    meta = dispatch_metadata(settings)
    return sip_pb.SIPDispatchRuleInfo(
        name=Names.for_settings(settings).rule,
        rule=sip_pb.SIPDispatchRule(
            dispatch_rule_individual=sip_pb.SIPDispatchRuleIndividual(room_prefix=ROOM_PREFIX)
        ),
        trunk_ids=[inbound_id],
        metadata=meta,
        room_config=room_pb.RoomConfiguration(
            agents=[dispatch_pb.RoomAgentDispatch(agent_name=settings.agent_name, metadata=meta)]
        ),
    )


def desired_outbound(settings: Settings) -> sip_pb.SIPOutboundTrunkInfo | None:
    """The outbound trunk, or None when no termination URI is configured."""
    if not settings.sip_termination_uri:
        return None
    if not settings.twilio_numbers:
        raise ConfigError(
            "the outbound trunk needs a caller ID: set NAVAN_TWILIO_NUMBERS (the first number "
            "is used as the number outbound calls come from)"
        )
    return sip_pb.SIPOutboundTrunkInfo(
        name=Names.for_settings(settings).outbound,
        address=settings.sip_termination_uri,
        numbers=settings.twilio_numbers,
        auth_username=settings.sip_username,
        auth_password=settings.sip_password.get_secret_value(),
        metadata=json.dumps({"managed_by": "navan-voice"}),
    )


def _same(a: object, b: object, fields: Sequence[str]) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in fields)


async def _inbound_by_name(lk: api.LiveKitAPI, name: str) -> list[sip_pb.SIPInboundTrunkInfo]:
    res = await lk.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())
    return [t for t in res.items if t.name == name]


async def _outbound_by_name(lk: api.LiveKitAPI, name: str) -> list[sip_pb.SIPOutboundTrunkInfo]:
    res = await lk.sip.list_outbound_trunk(api.ListSIPOutboundTrunkRequest())
    return [t for t in res.items if t.name == name]


async def _rules_by_name(lk: api.LiveKitAPI, name: str) -> list[sip_pb.SIPDispatchRuleInfo]:
    res = await lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())
    return [r for r in res.items if r.name == name]


async def setup(lk: api.LiveKitAPI, settings: Settings) -> list[Change]:
    """Create or update the inbound trunk, the dispatch rule and the outbound trunk."""
    names = Names.for_settings(settings)
    changes: list[Change] = []

    want_in = desired_inbound(settings)
    found_in = await _inbound_by_name(lk, names.inbound)
    if not found_in:
        trunk = await lk.sip.create_inbound_trunk(api.CreateSIPInboundTrunkRequest(trunk=want_in))
        changes.append(Change("inbound trunk", names.inbound, trunk.sip_trunk_id, "created"))
    elif _same(found_in[0], want_in, _INBOUND_FIELDS):
        trunk = found_in[0]
        changes.append(Change("inbound trunk", names.inbound, trunk.sip_trunk_id, "unchanged"))
    else:
        trunk = await lk.sip.update_inbound_trunk(found_in[0].sip_trunk_id, want_in)
        changes.append(Change("inbound trunk", names.inbound, trunk.sip_trunk_id, "updated"))

    want_rule = desired_rule(settings, trunk.sip_trunk_id)
    found_rule = await _rules_by_name(lk, names.rule)
    if not found_rule:
        rule = await lk.sip.create_dispatch_rule(
            api.CreateSIPDispatchRuleRequest(dispatch_rule=want_rule)
        )
        changes.append(Change("dispatch rule", names.rule, rule.sip_dispatch_rule_id, "created"))
    elif _same(found_rule[0], want_rule, _RULE_FIELDS):
        rule_id = found_rule[0].sip_dispatch_rule_id
        changes.append(Change("dispatch rule", names.rule, rule_id, "unchanged"))
    else:
        rule = await lk.sip.update_dispatch_rule(found_rule[0].sip_dispatch_rule_id, want_rule)
        changes.append(Change("dispatch rule", names.rule, rule.sip_dispatch_rule_id, "updated"))

    want_out = desired_outbound(settings)
    if want_out is not None:
        found_out = await _outbound_by_name(lk, names.outbound)
        if not found_out:
            out = await lk.sip.create_outbound_trunk(
                api.CreateSIPOutboundTrunkRequest(trunk=want_out)
            )
            changes.append(Change("outbound trunk", names.outbound, out.sip_trunk_id, "created"))
        elif _same(found_out[0], want_out, _OUTBOUND_FIELDS) and (
            # the server may not echo the password back; compare it only when it does
            not found_out[0].auth_password or found_out[0].auth_password == want_out.auth_password
        ):
            out_id = found_out[0].sip_trunk_id
            changes.append(Change("outbound trunk", names.outbound, out_id, "unchanged"))
        else:
            out = await lk.sip.update_outbound_trunk(found_out[0].sip_trunk_id, want_out)
            changes.append(Change("outbound trunk", names.outbound, out.sip_trunk_id, "updated"))
    for change in changes:
        logger.info("%s %s (%s): %s", change.kind, change.name, change.id, change.action)
    return changes


async def teardown(lk: api.LiveKitAPI, settings: Settings) -> list[Change]:
    """Delete the dispatch rule and both trunks (those named after this agent)."""
    names = Names.for_settings(settings)
    changes: list[Change] = []
    rules = await _rules_by_name(lk, names.rule)
    for rule in rules:
        await lk.sip.delete_dispatch_rule(
            api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule.sip_dispatch_rule_id)
        )
        changes.append(Change("dispatch rule", names.rule, rule.sip_dispatch_rule_id, "deleted"))
    if not rules:
        changes.append(Change("dispatch rule", names.rule, "", "absent"))
    trunks: list[tuple[str, str, str]] = [
        ("inbound trunk", names.inbound, t.sip_trunk_id)
        for t in await _inbound_by_name(lk, names.inbound)
    ] + [
        ("outbound trunk", names.outbound, t.sip_trunk_id)
        for t in await _outbound_by_name(lk, names.outbound)
    ]
    for kind, name, trunk_id in trunks:
        await lk.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk_id))
        changes.append(Change(kind, name, trunk_id, "deleted"))
    for kind, name in (("inbound trunk", names.inbound), ("outbound trunk", names.outbound)):
        if not any(t[1] == name for t in trunks):
            changes.append(Change(kind, name, "", "absent"))
    return changes


@dataclass(frozen=True)
class Row:
    """One line of `telephony status`."""

    kind: str
    name: str
    id: str
    detail: str


async def status(lk: api.LiveKitAPI) -> list[Row]:
    """Every SIP trunk and dispatch rule on the server (not only ours)."""
    rows: list[Row] = []
    for t in (await lk.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())).items:
        allowed = ", ".join([*t.allowed_addresses, *t.allowed_numbers]) or "anyone"
        rows.append(
            Row("inbound trunk", t.name, t.sip_trunk_id, f"numbers {list(t.numbers)}; "
                f"allowed: {allowed}")
        )  # fmt: skip
    for r in (await lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())).items:
        agents = ", ".join(a.agent_name for a in r.room_config.agents) or "none"
        kind = r.rule.WhichOneof("rule") or "?"
        rows.append(
            Row("dispatch rule", r.name, r.sip_dispatch_rule_id,
                f"{kind.removeprefix('dispatch_rule_')}; trunks {list(r.trunk_ids)}; "
                f"agents: {agents}")
        )  # fmt: skip
    for o in (await lk.sip.list_outbound_trunk(api.ListSIPOutboundTrunkRequest())).items:
        user = o.auth_username or "no credentials"
        rows.append(
            Row("outbound trunk", o.name, o.sip_trunk_id, f"to {o.address} as "
                f"{list(o.numbers)}; user {user}")
        )  # fmt: skip
    return rows


async def outbound_trunk_id(lk: api.LiveKitAPI, settings: Settings) -> str:
    """The id of our outbound trunk; ConfigError saying to run `telephony setup` when missing."""
    found = await _outbound_by_name(lk, Names.for_settings(settings).outbound)
    if not found:
        raise ConfigError(
            "there is no outbound SIP trunk yet: set NAVAN_SIP_TERMINATION_URI (and "
            "NAVAN_SIP_USERNAME / NAVAN_SIP_PASSWORD), then run `navan-voice telephony setup`"
        )
    return found[0].sip_trunk_id
