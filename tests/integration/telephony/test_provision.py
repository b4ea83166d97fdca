"""Provisioning against the real livekit-server (+ livekit-sip through Redis): idempotent
setup, update on change, teardown."""

from __future__ import annotations

import json

import pytest
from livekit import api
from pydantic import SecretStr

from navan_voice.config import Settings
from navan_voice.domain.errors import ConfigError
from navan_voice.stack.redis import redis_ping
from navan_voice.stack.sip import PhoneStack
from navan_voice.telephony import provision

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("clean_sip")]


@pytest.fixture
def twilio(sip_settings: Settings) -> Settings:
    return sip_settings.model_copy(
        update={
            "sip_termination_uri": "navan-test.pstn.twilio.com",
            "sip_username": "navan",
            "sip_password": SecretStr("s3cret"),
        }
    )


async def test_setup_twice_changes_nothing(lk: api.LiveKitAPI, twilio: Settings) -> None:
    first = await provision.setup(lk, twilio)
    assert [(c.kind, c.action) for c in first] == [
        ("inbound trunk", "created"),
        ("dispatch rule", "created"),
        ("outbound trunk", "created"),
    ]
    before_in = (await lk.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())).items
    before_rules = (await lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())).items

    second = await provision.setup(lk, twilio)
    assert [c.action for c in second] == ["unchanged"] * 3
    assert [c.id for c in second] == [c.id for c in first]
    after_in = (await lk.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())).items
    after_rules = (await lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())).items
    assert list(after_in) == list(before_in)
    assert list(after_rules) == list(before_rules)

    # what the server holds is what the settings asked for
    trunk = after_in[0]
    assert list(trunk.numbers) == ["+15550100"]
    assert list(trunk.allowed_addresses) == ["127.0.0.1/32"]
    rule = after_rules[0]
    assert list(rule.trunk_ids) == [trunk.sip_trunk_id]
    assert rule.rule.dispatch_rule_individual.room_prefix == provision.ROOM_PREFIX
    assert [a.agent_name for a in rule.room_config.agents] == [twilio.agent_name]
    assert json.loads(rule.metadata)["channel"] == "phone"
    out = (await lk.sip.list_outbound_trunk(api.ListSIPOutboundTrunkRequest())).items[0]
    assert (out.address, out.auth_username) == ("navan-test.pstn.twilio.com", "navan")


async def test_changed_settings_update_in_place(lk: api.LiveKitAPI, sip_settings: Settings) -> None:
    created = await provision.setup(lk, sip_settings)
    assert len(created) == 2  # no termination URI: no outbound trunk
    more = sip_settings.model_copy(update={"twilio_numbers": ["+15550100", "+15550199"]})
    changed = await provision.setup(lk, more)
    assert [c.action for c in changed] == ["updated", "unchanged"]
    assert changed[0].id == created[0].id
    trunks = (await lk.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())).items
    assert len(trunks) == 1 and list(trunks[0].numbers) == ["+15550100", "+15550199"]


async def test_teardown_removes_everything(lk: api.LiveKitAPI, twilio: Settings) -> None:
    await provision.setup(lk, twilio)
    rows = await provision.status(lk)
    assert sorted(r.kind for r in rows) == ["dispatch rule", "inbound trunk", "outbound trunk"]
    gone = await provision.teardown(lk, twilio)
    assert sorted(c.action for c in gone) == ["deleted"] * 3
    assert await provision.status(lk) == []
    again = await provision.teardown(lk, twilio)
    assert [c.action for c in again] == ["absent"] * 3


async def test_open_trunk_is_refused(sip_settings: Settings) -> None:
    open_trunk = sip_settings.model_copy(update={"sip_allowed_addresses": []})
    with pytest.raises(ConfigError, match="NAVAN_SIP_ALLOWED_ADDRESSES"):
        provision.desired_inbound(open_trunk)


def test_stack_is_wired(phone_stack: PhoneStack) -> None:
    assert phone_stack.redis is not None and redis_ping(phone_stack.redis.address)
    assert phone_stack.sip.pid is not None
    assert (
        f"address: {phone_stack.redis.address}"
        in (
            phone_stack.sip.log_path.parent / f"livekit-sip-{phone_stack.sip.ports.sip}.yaml"
        ).read_text()
    )
