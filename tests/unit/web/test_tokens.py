"""The token endpoint: only signed-in travelers, only their own rooms, agent dispatched."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from livekit import api
from tests.unit.web.conftest import sign_in_traveler

from navan_voice.config import Settings

pytestmark = pytest.mark.unit


def _claims(settings: Settings, token: str) -> api.Claims:
    verifier = api.TokenVerifier(
        settings.livekit_api_key, settings.livekit_api_secret.get_secret_value()
    )
    return verifier.verify(token)


def test_token_needs_sign_in(client: TestClient) -> None:
    r = client.post("/api/token", json={})
    assert r.status_code == 401
    assert "sign in" in r.json()["error"]


def test_sign_in_with_wrong_name_is_refused(client: TestClient) -> None:
    r = client.post("/signin", data={"confirmation_code": "NVN7Q2", "last_name": "Nobody"})
    assert r.status_code == 401
    assert "could not find a booking" in r.text


def test_token_scoped_to_own_new_room_and_dispatches_agent(
    client: TestClient, web_settings: Settings
) -> None:
    sign_in_traveler(client)
    body = client.post("/api/token", json={}).json()
    claims = _claims(web_settings, body["participant_token"])
    assert claims.video is not None
    assert claims.video.room == body["room_name"]
    assert claims.video.room_join is True
    assert not claims.video.room_admin and not claims.video.room_create
    assert body["room_name"].startswith("web-t")
    assert body["expires_in_s"] == web_settings.web_token_ttl_s
    dispatch = claims.room_config.agents[0]
    assert dispatch.agent_name == "navan-test"
    meta = json.loads(dispatch.metadata)
    assert meta["channel"] == "web"
    assert meta["traveler_name"] == "Alex Rivera"
    assert body["participant_identity"].startswith(f"traveler-{meta['traveler_id']}-")
    # two calls, two rooms
    assert client.post("/api/token", json={}).json()["room_name"] != body["room_name"]


def test_token_for_own_room_again_is_allowed(client: TestClient) -> None:
    sign_in_traveler(client)
    room = client.post("/api/token", json={}).json()["room_name"]
    again = client.post("/api/token", json={"room": room})
    assert again.status_code == 200
    assert again.json()["room_name"] == room


def test_token_for_another_travelers_room_is_refused(client: TestClient) -> None:
    sign_in_traveler(client, "NVB2R7", "Shah")
    priya_room = client.post("/api/token", json={}).json()["room_name"]
    client.cookies.clear()
    sign_in_traveler(client)
    r = client.post("/api/token", json={"room": priya_room})
    assert r.status_code == 403
    assert "another traveler" in r.json()["error"]
    bad = client.post("/api/token", json={"room": "lobby"})
    assert bad.status_code == 422


def test_forged_cookie_is_not_a_sign_in(client: TestClient) -> None:
    client.cookies.set("navan_traveler", "eyJpZCI6MX0.forged.signature")
    assert client.post("/api/token", json={}).status_code == 401


def test_call_page_shows_sign_in_then_call(client: TestClient) -> None:
    assert 'id="signin"' in client.get("/call").text
    sign_in_traveler(client)
    page = client.get("/call").text
    assert 'id="start"' in page and "Alex Rivera" in page and "/static/dist/call.js" in page
