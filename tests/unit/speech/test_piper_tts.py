"""The local piper TTS: real audio out, first piece before the whole text is in."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
from livekit.agents import APIConnectOptions, APIError

from navan_voice.speech.piper_tts import (
    LEAD_KEEP_S,
    PiperTTS,
    SentenceSplitter,
    first_piece,
    load_piper_voice,
    trim_leading_silence,
)

pytestmark = pytest.mark.unit


def test_splitter_cuts_the_first_clause_then_sentences() -> None:
    splitter = SentenceSplitter()
    pieces = splitter.push("Sure, I can help with that flight change, ")
    assert pieces == ["Sure, I can help with that flight change,"]
    pieces = splitter.push("it leaves at nine, Mr. Smith. Anything else? ")
    assert pieces == ["it leaves at nine, Mr. Smith.", "Anything else?"]
    assert splitter.flush() == ""


def test_splitter_starts_a_long_first_sentence_with_its_first_words() -> None:
    # the caller waits for the whole first piece to be synthesised: cut it before a
    # connecting word, never mid-phrase, and only the reply's first sentence
    splitter = SentenceSplitter()
    text = (
        "UA 1542 from SFO to JFK departs Friday December 4 at 8:00 AM SFO time and arrives "
        "at 4:30 PM JFK time. It lands at terminal 7 on Friday evening at the very latest. "
    )
    pieces = splitter.push(text)
    assert pieces == [
        "UA 1542 from SFO",
        "to JFK departs Friday December 4 at 8:00 AM SFO time and arrives at 4:30 PM JFK time.",
        "It lands at terminal 7 on Friday evening at the very latest.",
    ]


def test_splitter_prefers_an_early_clause_break_to_the_whole_sentence() -> None:
    splitter = SentenceSplitter()
    pieces = splitter.push("You have 2 upcoming flights: UA 1542 on Friday; UA 1543 on Monday. ")
    assert pieces == ["You have 2 upcoming flights:", "UA 1542 on Friday; UA 1543 on Monday."]


def test_splitter_keeps_short_text_until_flush() -> None:
    splitter = SentenceSplitter()
    assert splitter.push("Yes. ") == []
    assert splitter.flush() == "Yes."


@pytest.mark.models
async def test_chunked_synthesis_is_real_audio(piper_voice: Any) -> None:
    tts = PiperTTS(piper_voice)
    assert tts.sample_rate == 22050
    frames = [ev.frame async for ev in tts.synthesize("Your flight to Boston is confirmed.")]
    pcm = np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in frames])
    assert all(f.sample_rate == 22050 for f in frames)
    assert 1.0 < pcm.size / 22050 < 6.0
    assert np.sqrt(np.mean(pcm.astype(np.float64) ** 2)) > 300  # not silence


@pytest.mark.models
async def test_a_voice_loaded_with_one_quiet_thread_uses_it_and_still_speaks() -> None:
    """NAVAN_TTS_THREADS: the rebuilt onnx session has the thread count and no busy-waiting."""
    voice = load_piper_voice(threads=1, spin=False)
    options = voice.session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    frames = [ev.frame async for ev in PiperTTS(voice).synthesize("Your hotel is booked.")]
    pcm = np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in frames])
    assert 0.8 < pcm.size / 22050 < 5.0
    assert np.sqrt(np.mean(pcm.astype(np.float64) ** 2)) > 300


@pytest.mark.models
def test_a_default_voice_keeps_onnxruntimes_own_session(piper_voice: Any) -> None:
    options = piper_voice.session.get_session_options()
    assert options.intra_op_num_threads == 0
    # onnxruntime's default has no spinning entry at all (its threads busy-wait)
    with pytest.raises(RuntimeError, match="allow_spinning"):
        options.get_session_config_entry("session.intra_op.allow_spinning")


@pytest.mark.models
async def test_stream_speaks_the_first_sentence_before_the_text_is_complete(
    piper_voice: Any,
) -> None:
    tts = PiperTTS(piper_voice)
    stream = tts.stream()
    stream.push_text("Your flight to Boston is confirmed. ")
    stream.push_text("It leaves on Tuesday")
    # the rest of the reply has not been sent: audio must already come
    first = await asyncio.wait_for(stream.__anext__(), timeout=120)
    assert first.frame.samples_per_channel > 0
    stream.push_text(" at nine in the morning.")
    stream.end_input()
    rest = [ev async for ev in stream]
    await stream.aclose()
    total = first.frame.samples_per_channel + sum(ev.frame.samples_per_channel for ev in rest)
    assert total / tts.sample_rate > 2.0  # both sentences were spoken


def _first_loud_s(pcm: np.ndarray, sample_rate: int, dbfs: float = -45.0) -> float:
    """Seconds until the first 5 ms window louder than ``dbfs``."""
    window = int(0.005 * sample_rate)
    usable = pcm[: pcm.size - pcm.size % window].astype(np.float64).reshape(-1, window)
    rms = np.sqrt(np.mean(usable**2, axis=1))
    return float(np.argmax(rms > 32768 * 10 ** (dbfs / 20)) * window / sample_rate)


async def test_a_reply_starts_with_its_first_word_not_pipers_leading_silence(
    piper_voice: Any,
) -> None:
    # piper renders ≈50 ms of near-silence before "You have ..."; the caller would wait for it
    text = "You have 2 trips coming up."
    chunks = list(piper_voice.synthesize(text))
    raw = np.frombuffer(b"".join(c.audio_int16_bytes for c in chunks), dtype=np.int16)
    assert _first_loud_s(raw, 22050) >= 0.03  # what piper gives (so the test below means it)

    class Replay:
        """The same rendering again: piper's noise makes two renderings differ in length by up
        to ≈0.1 s (CI failed once comparing two)."""

        config = piper_voice.config

        def synthesize(self, text: str, syn_config: Any = None) -> Any:
            return iter(chunks)

    frames = [ev.frame async for ev in PiperTTS(Replay()).synthesize(text)]  # type: ignore[arg-type]
    spoken = np.concatenate([np.frombuffer(f.data, dtype=np.int16) for f in frames])
    assert _first_loud_s(spoken, 22050) <= LEAD_KEEP_S + 0.005
    assert raw.size - spoken.size < 0.1 * 22050  # only the lead was cut


def test_trim_keeps_silence_and_audio_that_starts_at_once() -> None:
    silence = np.zeros(2205, dtype=np.int16).tobytes()
    assert trim_leading_silence(silence, 22050) == silence  # nothing loud: nothing cut
    tone = (8000 * np.sin(np.arange(2205) / 5)).astype(np.int16).tobytes()
    assert trim_leading_silence(tone, 22050) == tone
    assert trim_leading_silence(b"", 22050) == b""


async def test_engine_error_becomes_api_error() -> None:
    class BrokenVoice:
        class config:  # mimics PiperVoice.config
            sample_rate = 22050

        def synthesize(self, text: str, syn_config: Any = None) -> Any:
            raise RuntimeError("onnx session died")

    tts = PiperTTS(BrokenVoice())  # type: ignore[arg-type]
    with pytest.raises(APIError, match="onnx session died"):
        async with tts.synthesize(
            "Hello there.", conn_options=APIConnectOptions(max_retry=0)
        ) as stream:
            async for _ in stream:
                pass


class CountingVoice:
    """The real piper voice, counting the texts it is asked to render."""

    def __init__(self, voice: Any) -> None:
        self.config = voice.config
        self._voice = voice
        self.rendered: list[str] = []

    def synthesize(self, text: str, syn_config: Any = None) -> Any:
        self.rendered.append(text)
        return self._voice.synthesize(text, syn_config=syn_config)


async def _pcm(tts: PiperTTS, text: str) -> bytes:
    return b"".join([pcm async for pcm in tts.pcm_chunks(text, timeout=30)])


@pytest.mark.models
async def test_a_piece_rendered_ahead_plays_without_rendering_it_again(piper_voice: Any) -> None:
    voice = CountingVoice(piper_voice)
    tts = PiperTTS(voice)  # type: ignore[arg-type]
    reply = [
        "UA 1542 from SFO to JFK departs Monday December 14 at 8:00 AM SFO time. ",
        "Anything else? ",
    ]
    assert first_piece(reply) == "UA 1542 from SFO"  # what the reply's stream speaks first
    tts.prerender(reply)
    ahead = await _pcm(tts, "UA 1542 from SFO")
    assert voice.rendered == ["U.A 15 42 from SFO"]  # once, ahead (as piper is given it)
    assert len(ahead) / 2 / tts.sample_rate > 1.0  # real speech
    # the look-ahead's audio is used once; the same text again, or another, is rendered anew
    again = await _pcm(tts, "UA 1542 from SFO")
    other = await _pcm(tts, "Anything else?")
    assert voice.rendered == ["U.A 15 42 from SFO"] * 2 + ["Anything else?"]
    assert (tts.ahead_rendered, tts.ahead_spoken) == (1, 1)
    assert abs(len(again) - len(ahead)) < 0.3 * len(ahead)  # piper's noise varies it a little
    assert other
    await tts.aclose()


@pytest.mark.models
async def test_a_piece_nobody_asks_for_is_dropped(
    piper_voice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from navan_voice.speech import piper_tts

    voice = CountingVoice(piper_voice)
    tts = PiperTTS(voice)  # type: ignore[arg-type]
    monkeypatch.setattr(piper_tts, "PRERENDER_TTL_S", 0.0)
    tts.prerender(["Your flight is confirmed. "])
    await asyncio.sleep(0.5)
    tts.prerender(["You have 2 trips coming up. "])  # the first has expired meanwhile
    await _pcm(tts, "Your flight is confirmed.")
    assert voice.rendered.count("Your flight is confirmed.") == 2
    await tts.aclose()


@pytest.mark.models
async def test_a_piece_its_reply_already_asked_for_is_not_rendered_ahead(
    piper_voice: Any,
) -> None:
    voice = CountingVoice(piper_voice)
    tts = PiperTTS(voice)  # type: ignore[arg-type]
    # the real turn got to its first piece before the look-ahead did (its lookups were
    # the look-ahead's): a render ahead would only compete with the reply's own
    await _pcm(tts, "Your flight is confirmed.")
    tts.prerender(["Your flight is confirmed. ", "Anything else? "])
    await asyncio.sleep(0.3)
    assert voice.rendered == ["Your flight is confirmed."]
    assert (tts.ahead_rendered, tts.ahead_late) == (0, 1)
    tts.prerender(["Anything else? "])  # a piece nobody asked for is still rendered ahead
    assert tts.ahead_rendered == 1
    await tts.aclose()


@pytest.mark.models
async def test_pieces_asked_for_are_forgotten_without_a_look_ahead(
    piper_voice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from navan_voice.speech import piper_tts

    # with no look-ahead (prerender never called) the record of asked pieces must not grow
    # for the life of the process
    tts = PiperTTS(piper_voice)
    monkeypatch.setattr(piper_tts, "ASKED_WINDOW_S", 0.0)
    await _pcm(tts, "Your flight is confirmed.")
    await asyncio.sleep(0.01)
    await _pcm(tts, "Anything else?")
    assert list(tts._asked) == ["Anything else?"]
    await tts.aclose()
