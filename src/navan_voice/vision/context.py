"""Visual and page context for the agent: the caller's screen and what their web page shows.

Wiring (in worker.py, before ``session.start``)::

    visual = VisualContext(ctx.room, session, images=settings.vision_images)
    tools = [visual.look_at_screen_tool()]    # give it to the agents
    room_options = room_io.RoomOptions(..., text_input=visual.text_input_options())
    await session.start(...)
    visual.start()   # after start: watches the screen share, registers the page RPC
    ctx.add_shutdown_callback(visual.aclose)

How context reaches the model: one *system* message (id ``navan-screen``) with the screen's
text — or, with ``images=True``, one *user* message holding the frame as an image — is kept
at the end of the current agent's chat context and replaced whenever it is refreshed: when the
caller starts and stops speaking (so it is there before the turn's transcript is final, which
keeps preemptive generation valid, see DESIGN.md), as soon as OCR reads new text on the
screen, and before a typed message is answered.
Structured page context (RPC ``navan.page_context``, JSON) becomes the ``navan-page`` system
message at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession, llm
from livekit.agents.voice.events import UserStateChangedEvent
from livekit.agents.voice.room_io import TextInputEvent, TextInputOptions

from navan_voice.vision.screen import ScreenWatcher

logger = logging.getLogger(__name__)

SCREEN_ITEM_ID = "navan-screen"
PAGE_ITEM_ID = "navan-page"
PAGE_RPC_METHOD = "navan.page_context"
MAX_PAGE_CONTEXT_BYTES = 4000
IMAGE_SIZE = 1024  # longest side of a frame sent to a vision model


def screen_message_text(text: str | None) -> str | None:
    """What the model is told about the screen (None: say nothing)."""
    if text is None:
        return None
    if not text:
        return "The traveler is sharing their screen; it shows no readable text right now."
    return (
        "The traveler is sharing their screen. Text read from it (OCR, may contain errors):\n"
        + text
    )


def screen_spoken_text(text: str) -> str:
    """What the look_at_screen tool answers: speakable as it is (the offline engine reads tool
    results aloud), the screen's lines as sentences."""
    if not text.strip():
        return "Your shared screen shows no readable text right now."
    lines = [line.strip().rstrip(".") for line in text.splitlines() if line.strip()]
    return "On your screen I can see: " + ". ".join(lines) + "."


def page_message_text(context: dict[str, Any]) -> str:
    fields = ", ".join(f"{k}: {str(v)[:200]}" for k, v in list(context.items())[:20])
    return f"The traveler's web page shows: {fields}"


class VisualContext:
    """Screen share and page context for one call."""

    def __init__(self, room: rtc.Room, session: AgentSession[Any], *, images: bool = False) -> None:
        self._room = room
        self._session = session
        self._images = images
        self.watcher = ScreenWatcher(room, ocr=not images, on_text=self._on_screen_text)
        self.page_context: dict[str, Any] = {}
        self._refresh_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        self.watcher.start()
        self._session.on("user_state_changed", self._on_user_state)
        self._room.local_participant.register_rpc_method(PAGE_RPC_METHOD, self._on_page_rpc)

    async def aclose(self) -> None:
        self._session.off("user_state_changed", self._on_user_state)
        for task in list(self._tasks):
            task.cancel()
        await self.watcher.aclose()

    # --- hooks for the worker ---------------------------------------------------------------
    def text_input_options(self) -> TextInputOptions:
        """Room text input (topic lk.chat) that refreshes the screen context before replying."""

        async def on_text(session: AgentSession[Any], ev: TextInputEvent) -> None:
            from livekit.agents.voice.room_io.types import _default_text_input_cb

            await self.refresh(wait_s=3.0)
            await _default_text_input_cb(session, ev)

        return TextInputOptions(text_input_cb=on_text)

    def look_at_screen_tool(self) -> llm.FunctionTool[[], Coroutine[Any, Any, str]]:
        """A tool the agent calls to read the caller's screen on demand."""

        async def look_at_screen() -> str:
            """Look at the traveler's shared screen and return the text on it.

            Use it when the traveler mentions something on their screen (an error message, a
            booking page). Returns what can be read, or says that nothing is shared.
            """
            text = await self.watcher.current_text(wait_s=4.0)
            if text is None:
                return (
                    "You are not sharing your screen yet. Press 'Share screen' on the call "
                    "page, then ask me again."
                )
            return screen_spoken_text(text)

        return llm.function_tool(look_at_screen)

    # --- refreshing the model's context ------------------------------------------------------
    async def refresh(self, wait_s: float = 0.0) -> None:
        """Put the screen's current state at the end of the agent's context (or remove it)."""
        async with self._refresh_lock:
            item = await self._screen_item(wait_s)
            await self._replace_item(SCREEN_ITEM_ID, item)

    async def _screen_item(self, wait_s: float) -> llm.ChatMessage | None:
        snap = self.watcher.snapshot()
        if snap is None:
            return None
        if self._images:
            if snap.blank:
                return None
            image = llm.ImageContent(
                image=snap.frame, inference_width=IMAGE_SIZE, inference_height=IMAGE_SIZE
            )
            note = "(the traveler's shared screen, captured just now; not spoken by them)"
            return llm.ChatMessage(id=SCREEN_ITEM_ID, role="user", content=[note, image])
        text = screen_message_text(await self.watcher.current_text(wait_s))
        if text is None:
            return None
        return llm.ChatMessage(id=SCREEN_ITEM_ID, role="system", content=[text])

    async def _replace_item(self, item_id: str, item: llm.ChatMessage | None) -> None:
        try:
            agent = self._session.current_agent
        except RuntimeError:  # the session has not started yet: nothing to update
            logger.debug("no agent yet; %s not added", item_id)
            return
        ctx = agent.chat_ctx.copy()
        old = ctx.get_by_id(item_id)
        if old is None and item is None:
            return
        if (
            old is not None
            and item is not None
            and isinstance(old, llm.ChatMessage)
            and old.content == item.content
            and ctx.items[-1].id == item_id
        ):
            return  # unchanged and already last
        ctx.items = [i for i in ctx.items if i.id != item_id]
        if item is not None:
            ctx.items.append(item)
        await agent.update_chat_ctx(ctx)

    def _on_user_state(self, ev: UserStateChangedEvent) -> None:
        if ev.new_state in ("speaking", "listening") and self.watcher.sharing:
            # at the end of speech, wait a little for a first OCR still running
            self._spawn_refresh(wait_s=2.0 if ev.new_state == "listening" else 0.0)

    def _on_screen_text(self, text: str) -> None:
        self._spawn_refresh(wait_s=0.0)  # new text on the screen: the model sees it at once

    def _spawn_refresh(self, wait_s: float) -> None:
        task = asyncio.create_task(self._safe_refresh(wait_s))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _safe_refresh(self, wait_s: float) -> None:
        try:
            await self.refresh(wait_s)
        except Exception:
            logger.exception("could not refresh the screen context; the call goes on")

    async def _on_page_rpc(self, data: rtc.RpcInvocationData) -> str:
        if len(data.payload.encode()) > MAX_PAGE_CONTEXT_BYTES:
            raise rtc.RpcError(1400, f"page context over {MAX_PAGE_CONTEXT_BYTES} bytes")
        try:
            context = json.loads(data.payload)
        except json.JSONDecodeError as e:
            raise rtc.RpcError(1400, "page context is not JSON") from e
        if not isinstance(context, dict):
            raise rtc.RpcError(1400, "page context must be a JSON object")
        self.page_context = context
        logger.info("page context from %s: %s", data.caller_identity, sorted(context))
        message = llm.ChatMessage(
            id=PAGE_ITEM_ID, role="system", content=[page_message_text(context)]
        )
        await self._replace_item(PAGE_ITEM_ID, message)
        return "ok"
