"""Warm transfer: the agent briefs a human colleague before the caller is put through.

livekit's own ``WarmTransferTask`` (agents 1.8.9, beta) joins the two calls with
``MoveParticipant``, which open-source livekit-server v1.13.5 answers with "not implemented";
so the worker joins them itself, by bridging the two rooms' audio:

1. the caller hears hold music (livekit's ``BackgroundAudioPlayer``) while the agent neither
   listens nor speaks (the session's audio input and output are switched off);
2. the desk is dialled through our outbound trunk into a side room ``<room>-desk``, where the
   worker speaks a briefing with the session's TTS: who is calling, why, the case reference;
3. the desk keys 1 (connect now) or 2 (decline), or stays on the line ``accept_s`` (connect);
   hanging up, or not answering within the ring timeout, declines;
4. connected: each side's audio is re-published into the other room (``RoomAudioBridge``)
   and written to the call's recording, the agent staying silent. When the colleague hangs
   up, the agent takes the call back; when the caller hangs up, the desk's leg is ended.

A desk that does not answer or declines raises TransferFailedError with the caller back with
the agent (its audio on again), which tells them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from livekit import api, rtc
from livekit.agents import AgentSession
from livekit.agents.voice.background_audio import (
    AudioConfig,
    BackgroundAudioPlayer,
    BuiltinAudioClip,
    PlayHandle,
)

from navan_voice.config import Settings
from navan_voice.domain.errors import TransferFailedError
from navan_voice.telephony.calls import as_duration, delete_room
from navan_voice.telephony.provision import outbound_trunk_id

logger = logging.getLogger(__name__)

DESK_IDENTITY = "navan-desk"
BRIEFER_IDENTITY = "navan-briefer"
CONNECT, DECLINE = "1", "2"
BRIDGE_RATE = 16_000  # phone audio is 8 kHz; 16 kHz keeps any wideband web caller intact

FrameTap = Callable[[rtc.AudioFrame], None]


class RoomAudioBridge:
    """Re-publishes one participant's microphone audio as a track of ours in another room.
    (The open-source server cannot forward or move participants between rooms.)"""

    def __init__(
        self,
        *,
        participant: rtc.RemoteParticipant,
        into: rtc.Room,
        name: str,
        tap: FrameTap | None = None,
    ) -> None:
        self._participant = participant
        self._into = into
        self.name = name
        self._tap = tap
        self._source = rtc.AudioSource(BRIDGE_RATE, 1)
        self._track = rtc.LocalAudioTrack.create_audio_track(name, self._source)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self._into.local_participant.publish_track(self._track, options)
        self._task = asyncio.create_task(self._pump(), name=f"bridge-{self.name}")

    async def _pump(self) -> None:
        stream = rtc.AudioStream.from_participant(
            participant=self._participant,
            track_source=rtc.TrackSource.SOURCE_MICROPHONE,
            sample_rate=BRIDGE_RATE,
            num_channels=1,
        )
        try:
            async for event in stream:
                await self._source.capture_frame(event.frame)
                if self._tap is not None:
                    self._tap(event.frame)
        finally:
            await stream.aclose()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            await self._into.local_participant.unpublish_track(self._track.sid)
        await self._source.aclose()


class WarmTransfer:
    """One warm transfer of the caller in ``room``; ``run`` returns once they are connected.

    ``record(channel, frame)`` receives the bridged audio (0: caller, 1: colleague) for the
    call's recording; ``on_desk_left`` runs when the colleague hangs up after connecting
    (the agent's audio is already back on by then).
    """

    def __init__(
        self,
        lk: api.LiveKitAPI,
        *,
        room: rtc.Room,
        caller_identity: str,
        session: AgentSession[Any],
        livekit_url: str,
        api_key: str,
        api_secret: str,
        trunk_id: str,
        desk_number: str,
        ring_timeout_s: float = 20.0,
        accept_s: float = 6.0,
        record: Callable[[int, rtc.AudioFrame], None] | None = None,
        on_desk_left: Callable[[], None] | None = None,
    ) -> None:
        self._lk = lk
        self._room = room
        self._caller_identity = caller_identity
        self._session = session
        self._url = livekit_url
        self._key = api_key
        self._secret = api_secret
        self._trunk_id = trunk_id
        self._desk_number = desk_number
        self._ring_timeout_s = ring_timeout_s
        self._accept_s = accept_s
        self._record = record
        self._on_desk_left = on_desk_left
        self.desk_room_name = f"{room.name}-desk"
        self._desk_room: rtc.Room | None = None
        self._hold = BackgroundAudioPlayer()
        self._hold_handle: PlayHandle | None = None
        self._brief_source: rtc.AudioSource | None = None
        self._bridges: list[RoomAudioBridge] = []
        self._keys: asyncio.Queue[str] = asyncio.Queue()
        self._desk_gone = asyncio.Event()
        self.connected = False
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()

    # --- the transfer --------------------------------------------------------------------

    async def run(self, briefing: str) -> None:
        """Hold the caller, dial and brief the desk, connect both.

        Raises TransferFailedError (caller back with the agent) when the desk does not answer,
        declines or hangs up before connecting.
        """
        # the caller hanging up at any point ends the desk's leg too
        self._room.on("participant_disconnected", self._on_caller_left)
        await self._put_on_hold()
        try:
            desk = await self._dial_desk()
            await self._brief(briefing)
            decision = await self._wait_for_decision()
            if decision != CONNECT:
                raise TransferFailedError(
                    f"the colleague at {self._desk_number} {decision}; the caller is still on "
                    "the line with the agent"
                )
            await self._stop_hold_music()
            await self._connect(desk)
        except BaseException:
            await self._end_desk_leg()
            await self._take_back()
            raise
        self.connected = True
        logger.info("warm transfer: caller %s connected to the desk", self._caller_identity)

    async def _put_on_hold(self) -> None:
        self._set_agent_audio(enabled=False)
        try:
            await self._hold.start(room=self._room)
            self._hold_handle = self._hold.play(
                AudioConfig(BuiltinAudioClip.HOLD_MUSIC, volume=0.6), loop=True
            )
        except Exception:  # music is a courtesy: a transfer without it still works
            logger.exception("hold music could not start; the caller holds in silence")

    async def _stop_hold_music(self) -> None:
        if self._hold_handle is not None:
            self._hold_handle.stop()
            self._hold_handle = None
        with contextlib.suppress(Exception):
            await self._hold.aclose()

    async def _take_back(self) -> None:
        """The caller is the agent's again: music off, the agent listens and speaks."""
        await self._stop_hold_music()
        self._set_agent_audio(enabled=True)

    def _set_agent_audio(self, *, enabled: bool) -> None:
        self._session.input.set_audio_enabled(enabled)
        self._session.output.set_audio_enabled(enabled)

    async def _dial_desk(self) -> rtc.RemoteParticipant:
        desk_room = rtc.Room()
        self._desk_room = desk_room
        desk_room.on("sip_dtmf_received", self._on_dtmf)
        desk_room.on("participant_disconnected", self._on_participant_left)
        token = (
            api.AccessToken(self._key, self._secret)
            .with_identity(BRIEFER_IDENTITY)
            .with_kind("agent")
            .with_grants(api.VideoGrants(room_join=True, room=self.desk_room_name))
            .to_jwt()
        )
        await desk_room.connect(self._url, token)
        # the briefing track exists before the desk answers: livekit-sip starts its media once
        # it has something in the room to subscribe to
        source = self._brief_source = rtc.AudioSource(self._tts_rate(), 1)
        track = rtc.LocalAudioTrack.create_audio_track("briefing", source)
        await desk_room.local_participant.publish_track(
            track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        )
        logger.info("warm transfer: dialling the desk %s", self._desk_number)
        try:
            await self._lk.sip.create_sip_participant(
                api.CreateSIPParticipantRequest(
                    sip_trunk_id=self._trunk_id,
                    sip_call_to=self._desk_number,
                    room_name=self.desk_room_name,
                    participant_identity=DESK_IDENTITY,
                    participant_name="Navan desk",
                    wait_until_answered=True,
                    ringing_timeout=as_duration(self._ring_timeout_s),
                ),
                timeout=self._ring_timeout_s + 10.0,
            )
        except api.TwirpError as e:
            raise TransferFailedError(
                f"the desk at {self._desk_number} did not answer ({e.code}: {e.message}); the "
                "caller is still on the line with the agent"
            ) from e
        # answered; its join may not have reached us yet
        return await self._wait_for_participant(desk_room, DESK_IDENTITY)

    async def _brief(self, text: str) -> None:
        """Speak ``text`` to the desk, sentence by sentence, with the session's TTS."""
        tts, source = self._session.tts, self._brief_source
        if tts is None or source is None:
            raise TransferFailedError("no TTS to brief the colleague with")
        logger.info("warm transfer: briefing the desk (%d chars)", len(text))
        async with tts.synthesize(text) as stream:
            async for chunk in stream:
                if self._desk_gone.is_set():
                    return
                await source.capture_frame(chunk.frame)
        await source.wait_for_playout()

    async def _wait_for_decision(self) -> str:
        """CONNECT, or why not ("declined", "hung up")."""
        key_task = asyncio.ensure_future(self._next_decisive_key())
        gone_task = asyncio.ensure_future(self._desk_gone.wait())
        try:
            done, _ = await asyncio.wait(
                {key_task, gone_task}, timeout=self._accept_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            key_task.cancel()
            gone_task.cancel()
        if gone_task in done or self._desk_gone.is_set():
            return "hung up before being connected"
        if key_task in done and key_task.result() == DECLINE:
            return "declined the call (pressed 2)"
        return CONNECT  # pressed 1, or stayed on the line

    async def _next_decisive_key(self) -> str:
        while True:
            key = await self._keys.get()
            if key in (CONNECT, DECLINE):
                return key

    async def _connect(self, desk: rtc.RemoteParticipant) -> None:
        assert self._desk_room is not None
        caller = self._room.remote_participants.get(self._caller_identity)
        if caller is None:
            raise TransferFailedError("the caller hung up while the colleague was being briefed")

        def tap(channel: int) -> FrameTap | None:
            record = self._record
            return None if record is None else (lambda frame: record(channel, frame))

        self._bridges = [
            RoomAudioBridge(participant=desk, into=self._room, name="desk", tap=tap(1)),
            RoomAudioBridge(participant=caller, into=self._desk_room, name="caller", tap=tap(0)),
        ]
        for bridge in self._bridges:
            await bridge.start()

    # --- events --------------------------------------------------------------------------

    def _on_dtmf(self, event: rtc.SipDTMF) -> None:
        logger.info("warm transfer: the desk keyed %r", event.digit)
        self._keys.put_nowait(event.digit)

    def _on_participant_left(self, participant: rtc.RemoteParticipant) -> None:
        if participant.identity != DESK_IDENTITY:
            return
        logger.info("warm transfer: the desk hung up")
        self._desk_gone.set()
        if self.connected and not self._closed:
            self._tasks.add(task := asyncio.create_task(self._desk_left_after_connect()))
            task.add_done_callback(self._tasks.discard)

    def _on_caller_left(self, participant: rtc.RemoteParticipant) -> None:
        if participant.identity != self._caller_identity or self._closed:
            return
        logger.info("warm transfer: the caller hung up; ending the desk's leg")
        self._tasks.add(task := asyncio.create_task(self.aclose()))
        task.add_done_callback(self._tasks.discard)

    async def _desk_left_after_connect(self) -> None:
        self.connected = False
        await self.aclose()
        self._set_agent_audio(enabled=True)
        if self._on_desk_left is not None:
            self._on_desk_left()

    # --- clean-up ------------------------------------------------------------------------

    async def _end_desk_leg(self) -> None:
        for bridge in self._bridges:
            await bridge.aclose()
        self._bridges = []
        if self._desk_room is not None:
            with contextlib.suppress(Exception):
                await self._desk_room.disconnect()
            self._desk_room = None
        await delete_room(self._lk, self.desk_room_name)  # hangs the desk's phone up

    async def aclose(self) -> None:
        """End the desk's leg and the bridge (the caller hung up, or the call is over)."""
        if self._closed:
            return
        self._closed = True
        self._room.off("participant_disconnected", self._on_caller_left)
        await self._end_desk_leg()
        await self._stop_hold_music()

    # --- helpers -------------------------------------------------------------------------

    def _tts_rate(self) -> int:
        tts = self._session.tts
        return int(tts.sample_rate) if tts is not None else 24_000

    async def _wait_for_participant(
        self, room: rtc.Room, identity: str, timeout_s: float = 10.0
    ) -> rtc.RemoteParticipant:
        joined: asyncio.Future[rtc.RemoteParticipant] = asyncio.get_running_loop().create_future()

        def on_join(p: rtc.RemoteParticipant) -> None:
            if p.identity == identity and not joined.done():
                joined.set_result(p)

        room.on("participant_connected", on_join)
        try:
            existing = room.remote_participants.get(identity)
            if existing is not None:
                return existing
            return await asyncio.wait_for(joined, timeout_s)
        except TimeoutError as e:
            raise TransferFailedError(
                f"the desk answered but did not join the briefing room within {timeout_s:.0f}s"
            ) from e
        finally:
            room.off("participant_connected", on_join)


BRIEFING_CLOSE = (
    "Press 1 to take the call now, or 2 if you cannot. Stay on the line to be connected."
)


class _Briefed(Protocol):
    @property
    def summary(self) -> str: ...

    @property
    def briefing(self) -> str: ...


def make_warm_transfer_hook(
    lk: api.LiveKitAPI,
    settings: Settings,
    *,
    room: rtc.Room,
    participant_identity: str,
    session: AgentSession[Any],
    record: Callable[[int, rtc.AudioFrame], None] | None,
    on_cleanup: Callable[[Callable[[], Coroutine[Any, Any, None]]], None],
    on_hold: Callable[[bool], None] = lambda _held: None,
    on_desk_left: Callable[[], None] = lambda: None,
) -> Callable[[_Briefed], Awaitable[None]]:
    """The hook the Escalation agent awaits on a phone call when NAVAN_SIP_TRANSFER_MODE=warm.

    ``on_cleanup`` registers the transfer's clean-up with the call (the desk's leg must end
    with the call); ``on_hold(True/False)`` brackets the time the agent is not on the line
    (e.g. so the silence guard does not hang up on a caller talking to the colleague).
    """

    async def transfer(request: _Briefed) -> None:
        trunk = await outbound_trunk_id(lk, settings)  # ConfigError: run `telephony setup`
        warm = WarmTransfer(
            lk,
            room=room,
            caller_identity=participant_identity,
            session=session,
            livekit_url=settings.livekit_url,
            api_key=settings.livekit_api_key,
            api_secret=settings.livekit_api_secret.get_secret_value(),
            trunk_id=trunk,
            desk_number=settings.sip_transfer_to,
            ring_timeout_s=settings.sip_transfer_ring_timeout_s,
            accept_s=settings.sip_warm_accept_s,
            record=record,
            on_desk_left=lambda: _both(on_hold, on_desk_left),
        )
        on_cleanup(warm.aclose)
        logger.info("warm transfer with summary: %s", request.summary[:200])
        on_hold(True)
        try:
            await warm.run(f"{request.briefing or request.summary} {BRIEFING_CLOSE}")
        except BaseException:
            on_hold(False)
            raise

    return transfer


def _both(on_hold: Callable[[bool], None], on_desk_left: Callable[[], None]) -> None:
    on_hold(False)
    on_desk_left()
