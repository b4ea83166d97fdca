"""The openai-compatible LLM path against a local HTTP server speaking the chat-completions API.

The server below is a stand-in for the cloud (and for Ollama / vLLM / llama.cpp): it streams
Server-Sent Events exactly as OpenAI's /v1/chat/completions does. A second route never answers,
to show that a hanging engine hands over to the next one in the chain.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from livekit.agents import llm

from navan_voice.config import Settings
from navan_voice.speech import factory

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("no_provider_keys")]

REPLY = ["Your flight ", "to Boston ", "is confirmed."]


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> bytes:
    body = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


@pytest.fixture
async def cloud_stand_in() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A local OpenAI-compatible server; yields its base URL and the requests it received."""
    seen: list[dict[str, Any]] = []

    async def completions(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        seen.append(body)
        if body["model"] == "hangs":
            await asyncio.sleep(3600)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(_chunk(body["model"], {"role": "assistant", "content": ""}))
        for piece in REPLY:
            await response.write(_chunk(body["model"], {"content": piece}))
        await response.write(_chunk(body["model"], {}, finish="stop"))
        await response.write(b"data: [DONE]\n\n")
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", completions)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/v1", seen
    await runner.cleanup()


async def _reply(model: llm.LLM[Any]) -> str:
    ctx = llm.ChatContext()
    ctx.add_message(role="user", content="Is my flight to Boston confirmed?")
    text = ""
    async with model.chat(chat_ctx=ctx) as stream:
        async for chunk in stream:
            if chunk.delta and chunk.delta.content:
                text += chunk.delta.content
    return text


async def test_streams_a_reply_from_the_endpoint(
    cloud_stand_in: tuple[str, list[dict[str, Any]]],
) -> None:
    base_url, seen = cloud_stand_in
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, llm="openai-compatible", llm_base_url=base_url, llm_model="qwen2.5"
    )
    model = factory.build_llm(settings)
    assert await _reply(model) == "".join(REPLY)
    assert seen[0]["model"] == "qwen2.5"
    assert seen[0]["stream"] is True
    assert seen[0]["messages"][-1]["content"] == "Is my flight to Boston confirmed?"
    await model.aclose()


async def test_a_hanging_engine_falls_back_to_the_next(
    cloud_stand_in: tuple[str, list[dict[str, Any]]],
) -> None:
    base_url, seen = cloud_stand_in
    openai = factory.plugin("openai")
    chain = llm.FallbackAdapter(
        [
            openai.LLM(base_url=base_url, model="hangs", api_key="x"),
            openai.LLM(base_url=base_url, model="works", api_key="x"),
        ],
        attempt_timeout=1.0,
    )
    assert await _reply(chain) == "".join(REPLY)
    assert [body["model"] for body in seen][-1] == "works"
    await chain.aclose()
