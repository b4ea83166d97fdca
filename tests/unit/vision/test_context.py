"""VisualContext keeps one screen item and one page item at the end of the agent's context."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from livekit import rtc
from livekit.agents import llm

from navan_voice.vision.context import PAGE_ITEM_ID, SCREEN_ITEM_ID, VisualContext
from navan_voice.vision.screen import ScreenSnapshot

pytestmark = pytest.mark.unit


@dataclass
class FakeAgent:
    chat_ctx: llm.ChatContext = field(default_factory=llm.ChatContext)
    updates: int = 0

    async def update_chat_ctx(self, ctx: llm.ChatContext) -> None:
        self.chat_ctx = ctx
        self.updates += 1


@dataclass
class FakeSession:
    current_agent: FakeAgent = field(default_factory=FakeAgent)


def visual(images: bool = False) -> tuple[VisualContext, FakeAgent]:
    session = FakeSession()
    session.current_agent.chat_ctx.add_message(role="user", content="hello")
    ctx = VisualContext(object(), session, images=images)  # type: ignore[arg-type]
    return ctx, session.current_agent


def share(ctx: VisualContext, text: str | None, blank: bool = False) -> None:
    frame = rtc.VideoFrame(4, 4, rtc.VideoBufferType.RGBA, np.zeros(64, np.uint8).tobytes())
    snap = ScreenSnapshot(frame=frame, captured_at=0.0, text=text, blank=blank)
    ctx.watcher.snapshot = lambda: snap  # type: ignore[method-assign]

    async def current_text(wait_s: float = 0.0) -> str | None:
        return text

    ctx.watcher.current_text = current_text  # type: ignore[method-assign]


def ids(agent: FakeAgent) -> list[str]:
    return [item.id for item in agent.chat_ctx.items]


async def test_screen_text_is_one_system_item_kept_last_and_removed_when_share_stops() -> None:
    ctx, agent = visual()
    await ctx.refresh()
    assert agent.updates == 0  # nothing shared: nothing added
    share(ctx, "Booking error")
    await ctx.refresh()
    await ctx.refresh()  # unchanged: no second update
    assert agent.updates == 1 and ids(agent)[-1] == SCREEN_ITEM_ID
    item: Any = agent.chat_ctx.get_by_id(SCREEN_ITEM_ID)
    assert item.role == "system" and "Booking error" in item.text_content
    share(ctx, "Payment declined")
    await ctx.refresh()
    assert ids(agent).count(SCREEN_ITEM_ID) == 1
    ctx.watcher.snapshot = lambda: None  # type: ignore[method-assign]
    await ctx.refresh()
    assert SCREEN_ITEM_ID not in ids(agent)


async def test_image_mode_sends_the_frame_but_not_a_blank_one() -> None:
    ctx, agent = visual(images=True)
    share(ctx, None, blank=True)
    await ctx.refresh()
    assert SCREEN_ITEM_ID not in ids(agent)
    share(ctx, None)
    await ctx.refresh()
    item: Any = agent.chat_ctx.get_by_id(SCREEN_ITEM_ID)
    assert item.role == "user" and any(isinstance(c, llm.ImageContent) for c in item.content)


async def test_page_context_rpc_used_at_once_and_bad_payloads_refused() -> None:
    ctx, agent = visual()

    def rpc(payload: str) -> rtc.RpcInvocationData:
        return rtc.RpcInvocationData("id", "traveler-1", payload, 5.0)

    assert await ctx._on_page_rpc(rpc(json.dumps({"trip": "NVN7Q2"}))) == "ok"
    item: Any = agent.chat_ctx.get_by_id(PAGE_ITEM_ID)
    assert "NVN7Q2" in item.text_content
    for bad in ("not json", "[1, 2]", json.dumps({"x": "y" * 5000})):
        with pytest.raises(rtc.RpcError):
            await ctx._on_page_rpc(rpc(bad))


async def test_look_at_screen_tool_says_when_nothing_is_shared() -> None:
    ctx, _ = visual()
    tool = ctx.look_at_screen_tool()
    assert "not sharing" in await tool()
    share(ctx, "Error E-4021")
    assert "Error E-4021" in await tool()
