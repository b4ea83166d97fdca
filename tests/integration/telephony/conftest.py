"""Real telephony parts: Redis + livekit-server + livekit-sip on free loopback ports.

``livekit_server`` is overridden here so the shared ``stack_settings`` / ``workers`` fixtures
point at the server livekit-sip is attached to. If livekit-sip cannot be built, these tests
fail loudly (SetupError from the install script), they never skip.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from bench.telephony.sipp import loopback_phone_stack, trunk_settings
from livekit import api

from navan_voice.config import Settings, load_settings
from navan_voice.stack.livekit_server import LiveKitServer
from navan_voice.stack.sip import PhoneStack

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"


@pytest.fixture(scope="session")
def phone_stack(run_dir: Path) -> Iterator[PhoneStack]:
    stack = loopback_phone_stack(run_dir)
    stack.start()
    yield stack
    stack.stop()
    ARTIFACTS.mkdir(exist_ok=True)
    for log in (stack.sip.log_path, run_dir / f"livekit-{stack.server.ports.http}.log"):
        if log.exists():
            shutil.copy(log, ARTIFACTS / f"telephony-{log.name}")


@pytest.fixture(scope="session")
def livekit_server(phone_stack: PhoneStack) -> LiveKitServer:
    """The server livekit-sip talks to (overrides the plain one of tests/integration)."""
    return phone_stack.server


@pytest.fixture
def sip_settings(phone_stack: PhoneStack) -> Settings:
    """Trunk settings with an agent name of their own (no database, no worker needed)."""
    base = load_settings(profile="local", agent_name=f"navan-sip-{uuid.uuid4().hex[:6]}")
    return trunk_settings(base, phone_stack)


@pytest.fixture
async def lk(phone_stack: PhoneStack) -> AsyncIterator[api.LiveKitAPI]:
    settings = load_settings()
    client = api.LiveKitAPI(
        url=phone_stack.server.url.replace("ws://", "http://"),
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_api_secret.get_secret_value(),
    )
    yield client
    await client.aclose()


@pytest.fixture
async def clean_sip(lk: api.LiveKitAPI) -> AsyncIterator[None]:
    """Every test starts and ends with no trunks and no dispatch rules on the server."""
    await _delete_all(lk)
    yield
    await _delete_all(lk)


async def _delete_all(lk: api.LiveKitAPI) -> None:
    for rule in (await lk.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())).items:
        await lk.sip.delete_dispatch_rule(
            api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule.sip_dispatch_rule_id)
        )
    inbound = (await lk.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())).items
    outbound = (await lk.sip.list_outbound_trunk(api.ListSIPOutboundTrunkRequest())).items
    for trunk in [*inbound, *outbound]:
        await lk.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk.sip_trunk_id))
