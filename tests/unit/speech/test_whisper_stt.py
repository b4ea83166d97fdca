"""The local Whisper STT on real synthesized caller audio."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from livekit.agents import stt

from navan_voice.speech.audio import FloatArray, array_to_frame, resample
from navan_voice.speech.whisper_engine import WhisperEngine
from navan_voice.speech.whisper_stt import INTERIM_BACKOFF, WhisperSTT, interim_due

from .conftest import read_16k, silence, synth_caller, words

pytestmark = [pytest.mark.unit, pytest.mark.models]


async def stream_events(model: WhisperSTT, audio: FloatArray, rate: int) -> list[stt.SpeechEvent]:
    """Push ``audio`` (then 1 s of silence) in 20 ms frames as fast as possible; collect events."""
    stream = model.stream()
    padded = np.concatenate([audio, silence(1.0, rate)])
    step = rate // 50
    for pos in range(0, padded.size, step):
        stream.push_frame(array_to_frame(padded[pos : pos + step], rate))
    stream.end_input()
    events = [ev async for ev in stream]
    await stream.aclose()
    return events


async def test_recognize_hears_a_travel_request(engine: WhisperEngine, flight_phrase: Any) -> None:
    model = WhisperSTT(engine)
    event = await model.recognize(array_to_frame(flight_phrase, 16000))
    assert event.type == stt.SpeechEventType.FINAL_TRANSCRIPT
    assert {"flight", "boston"} <= words(event.alternatives[0].text)


@pytest.mark.parametrize("voice", ["flite", "espeak"])
async def test_recognize_phone_audio_of_other_voices(
    engine: WhisperEngine, caller_dir: Path, voice: str
) -> None:
    # 8 kHz, as a phone line delivers it; the adapter resamples to 16 kHz itself
    audio = read_16k(synth_caller("Please cancel my hotel in Chicago.", voice, caller_dir))
    phone = resample(audio, 16000, 8000)
    event = await WhisperSTT(engine).recognize(array_to_frame(phone, 8000))
    assert {"hotel", "chicago"} <= words(event.alternatives[0].text)


async def test_stream_emits_interim_then_final(
    engine: WhisperEngine, vad: Any, flight_phrase: FloatArray
) -> None:
    audio_48k = resample(flight_phrase, 16000, 48000)  # a WebRTC caller's rate
    events = await stream_events(WhisperSTT(engine, vad=vad), audio_48k, 48000)
    kinds = [ev.type for ev in events]
    assert stt.SpeechEventType.START_OF_SPEECH in kinds
    assert stt.SpeechEventType.INTERIM_TRANSCRIPT in kinds
    assert stt.SpeechEventType.FINAL_TRANSCRIPT in kinds
    first_interim = kinds.index(stt.SpeechEventType.INTERIM_TRANSCRIPT)
    assert first_interim < kinds.index(stt.SpeechEventType.FINAL_TRANSCRIPT)
    final_text = " ".join(
        ev.alternatives[0].text for ev in events if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT
    )
    assert {"flight", "boston"} <= words(final_text)


class _CountingSTT(WhisperSTT):
    """WhisperSTT that keeps the audio of every pass it runs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.passes: list[FloatArray] = []

    async def transcribe_audio(self, audio: FloatArray, **kwargs: Any) -> Any:
        self.passes.append(audio.copy())
        return await super().transcribe_audio(audio, **kwargs)


def _ends_in_speech(audio: FloatArray) -> bool:
    return float(np.sqrt(np.mean(audio[-1600:] ** 2))) > 0.02  # the last 0.1 s is loud


async def test_stream_without_interim_passes_only_transcribes_at_pauses(
    engine: WhisperEngine, vad: Any, flight_phrase: FloatArray
) -> None:
    # a phone call: nobody sees live captions, so no pass runs while the caller is still
    # speaking; the final comes from the pass started at the pause, whole
    quiet = _CountingSTT(engine, vad=vad, interim_interval_s=0.0)
    events = await stream_events(quiet, flight_phrase, 16000)
    finals = [ev for ev in events if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT]
    assert finals and {"flight", "boston"} <= words(finals[0].alternatives[0].text)
    assert quiet.passes and not any(_ends_in_speech(a) for a in quiet.passes)
    # with live captions the first pass starts mid-phrase (what the setting saves)
    captions = _CountingSTT(engine, vad=vad, interim_interval_s=0.8)
    await stream_events(captions, flight_phrase, 16000)
    assert _ends_in_speech(captions.passes[0])


async def test_flush_finalizes_without_waiting_for_the_vad(
    engine: WhisperEngine, vad: Any, flight_phrase: FloatArray
) -> None:
    stream = WhisperSTT(engine, vad=vad).stream()
    for pos in range(0, flight_phrase.size, 320):
        stream.push_frame(array_to_frame(flight_phrase[pos : pos + 320], 16000))
    stream.flush()  # what the session does at its end of turn
    final = None
    async for ev in stream:
        if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT:
            final = ev
            break
    await stream.aclose()
    assert final is not None
    assert "boston" in words(final.alternatives[0].text)


async def test_silence_gives_no_transcript(engine: WhisperEngine, vad: Any) -> None:
    events = await stream_events(WhisperSTT(engine, vad=vad), silence(2.0), 16000)
    assert all(ev.type != stt.SpeechEventType.FINAL_TRANSCRIPT for ev in events)
    event = await WhisperSTT(engine).recognize(array_to_frame(silence(2.0), 16000))
    assert event.alternatives[0].text == ""


async def test_noise_does_not_become_a_sentence(engine: WhisperEngine) -> None:
    noise = np.random.default_rng(7).normal(0, 0.1, 48000).astype(np.float32)
    event = await WhisperSTT(engine).recognize(array_to_frame(noise, 16000))
    assert len(event.alternatives[0].text.split()) <= 3


async def test_clipped_audio_is_still_understood(
    engine: WhisperEngine, flight_phrase: FloatArray
) -> None:
    clipped = np.clip(flight_phrase * 12.0, -0.5, 0.5).astype(np.float32)
    assert np.mean(np.abs(clipped) >= 0.5) > 0.05  # really clipped
    event = await WhisperSTT(engine).recognize(array_to_frame(clipped, 16000))
    assert "flight" in words(event.alternatives[0].text)


async def test_very_long_utterance_is_transcribed_in_full(
    engine: WhisperEngine, caller_dir: Path
) -> None:
    first = read_16k(synth_caller("My name is Sarah Johnson.", "festival", caller_dir))
    filler = read_16k(
        synth_caller(
            "I travel every week for work and I usually fly out on Monday morning and come "
            "back on Thursday night, and I always ask for an aisle seat near the front.",
            "festival",
            caller_dir,
        )
    )
    last = read_16k(synth_caller("Please book the hotel in Denver.", "festival", caller_dir))
    audio = np.concatenate([first, filler, filler, filler, last])
    assert audio.size / 16000 > 30  # longer than one Whisper window
    event = await WhisperSTT(engine).recognize(array_to_frame(audio, 16000))
    heard = words(event.alternatives[0].text)
    assert "sarah" in heard
    assert "denver" in heard


async def test_streaming_needs_a_vad(engine: WhisperEngine) -> None:
    model = WhisperSTT(engine)
    assert not model.capabilities.streaming
    with pytest.raises(NotImplementedError):
        model.stream()


async def test_engine_error_becomes_api_error(engine: WhisperEngine) -> None:
    class Broken(WhisperEngine):
        def transcribe(self, audio: FloatArray, **options: Any) -> Any:
            raise RuntimeError("model file corrupt")

    broken = Broken.__new__(Broken)
    from livekit.agents import APIConnectOptions, APIError

    with pytest.raises(APIError, match="corrupt") as info:
        await WhisperSTT(broken).recognize(
            array_to_frame(silence(0.5), 16000), conn_options=APIConnectOptions(max_retry=0)
        )
    assert info.value.retryable is False
    await asyncio.sleep(0)


async def test_a_backchannel_over_the_agent_is_dropped_and_an_answer_is_not(
    engine: WhisperEngine, vad: Any, caller_dir: Path
) -> None:
    okay = read_16k(synth_caller("Okay.", "flite", caller_dir))
    model = WhisperSTT(engine, vad=vad)

    def finals() -> list[str]:
        return [
            ev.alternatives[0].text
            for ev in events
            if ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT
        ]

    model.agent_mid_reply = lambda: False  # the agent asked and stopped: "okay" answers it
    events = await stream_events(model, okay, 16000)
    assert [words(t) for t in finals()] == [{"okay"}]

    model.agent_mid_reply = lambda: True  # said over the agent's reply: let it go on
    events = await stream_events(model, okay, 16000)
    assert finals() == []

    # real words over the agent are a turn
    request = read_16k(synth_caller("Cancel my hotel.", "flite", caller_dir))
    events = await stream_events(model, request, 16000)
    assert {"cancel", "hotel"} <= words(" ".join(finals()))


async def _paced_events(
    model: WhisperSTT, audio: FloatArray, *, slowdown: float = 1.0
) -> list[stt.SpeechEvent]:
    """Push 16 kHz ``audio`` (then 1 s of silence) in real time, as a call does: a pass then
    runs while the caller is still quiet, not after all the audio has gone in. ``slowdown`` > 1
    pushes slower than real time, which gives a pass that must end within a pause that much
    more wall time, so the test holds on a slow or busy machine."""
    stream = model.stream()
    padded = np.concatenate([audio, silence(1.0)])
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i, pos in enumerate(range(0, padded.size, 320)):
        stream.push_frame(array_to_frame(padded[pos : pos + 320], 16000))
        await asyncio.sleep(max(0.0, start + (i + 1) * 0.02 * slowdown - loop.time()))
    stream.end_input()
    events = [ev async for ev in stream]
    await stream.aclose()
    return events


def _trimmed(audio: FloatArray) -> FloatArray:
    loud = np.nonzero(np.abs(audio) > 0.01)[0]
    return audio[loud[0] : loud[-1] + 1]


async def test_a_pause_mid_sentence_is_a_preflight_and_the_sentence_one_final(
    engine: WhisperEngine, vad: Any, caller_dir: Path
) -> None:
    """A 0.45 s pause (under the VAD's 0.55 s silence) gives a preflight transcript of the first
    half, and one final transcript of the whole sentence; with early="final" the pause splits
    the sentence into two finals instead."""
    head = read_16k(synth_caller("I need to change my flight", "festival", caller_dir))
    rest = read_16k(synth_caller("to Boston next Tuesday.", "festival", caller_dir))
    audio = np.concatenate([_trimmed(head), silence(0.45), _trimmed(rest)])

    def texts(events: list[stt.SpeechEvent], kind: stt.SpeechEventType) -> list[str]:
        return [ev.alternatives[0].text for ev in events if ev.type == kind]

    model = WhisperSTT(
        engine, vad=vad, interim_interval_s=0.0, candidate_silence_s=0.05, final_silence_s=0.15
    )
    announced: list[str] = []
    model.on("preflight_transcript", announced.append)
    # the pass over the first half must end within the 0.45 s pause: 3x its wall time
    events = await _paced_events(model, audio, slowdown=3.0)
    preflights = texts(events, stt.SpeechEventType.PREFLIGHT_TRANSCRIPT)
    finals = texts(events, stt.SpeechEventType.FINAL_TRANSCRIPT)
    assert preflights and "flight" in words(preflights[0]) and "boston" not in words(preflights[0])
    assert len(finals) == 1 and {"flight", "boston", "tuesday"} <= words(finals[0])
    assert announced == preflights  # the look-ahead hears each preflight's text

    split = WhisperSTT(
        engine,
        vad=vad,
        interim_interval_s=0.0,
        candidate_silence_s=0.05,
        final_silence_s=0.15,
        early="final",
    )
    events = await _paced_events(split, audio, slowdown=3.0)
    finals = texts(events, stt.SpeechEventType.FINAL_TRANSCRIPT)
    assert len(finals) == 2 and "boston" in words(finals[1])


async def _paced_arrivals(
    model: WhisperSTT, audio: FloatArray, *, slowdown: float = 1.0
) -> list[tuple[stt.SpeechEventType, float]]:
    """As ``_paced_events`` (``slowdown`` too), each event with the seconds of audio pushed
    when it arrived."""
    stream = model.stream()
    padded = np.concatenate([audio, silence(1.0)])
    pushed = 0.0

    async def push() -> None:
        nonlocal pushed
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i, pos in enumerate(range(0, padded.size, 320)):
            stream.push_frame(array_to_frame(padded[pos : pos + 320], 16000))
            pushed = (pos + 320) / 16000
            await asyncio.sleep(max(0.0, start + (i + 1) * 0.02 * slowdown - loop.time()))
        stream.end_input()

    pusher = asyncio.create_task(push())
    arrivals = [(ev.type, pushed) async for ev in stream]
    await pusher
    await stream.aclose()
    return arrivals


async def test_a_finished_request_is_final_at_the_pause_and_ends_the_turn(
    engine: WhisperEngine, vad: Any, caller_dir: Path
) -> None:
    """With ``ends_turn`` (the worker's early end of turn), early text judged a finished
    request is the final transcript at the pause, before the VAD's 0.55 s silence is over, and
    "end_of_turn" carries it; text judged unfinished stays a preflight and the final waits for
    the VAD's end of speech."""
    said = "When does my flight to Boston leave?"
    audio = _trimmed(read_16k(synth_caller(said, "festival", caller_dir)))
    speech_s = audio.size / 16000
    final = stt.SpeechEventType.FINAL_TRANSCRIPT

    def model(judge: Any) -> WhisperSTT:
        built = WhisperSTT(
            engine, vad=vad, interim_interval_s=0.0, candidate_silence_s=0.05, final_silence_s=0.15
        )
        built.ends_turn = judge
        return built

    judged: list[str] = []
    ended: list[str] = []
    early = model(lambda text: judged.append(text) or True)
    early.on("end_of_turn", ended.append)
    # at a third of real time, the pass that must end inside the VAD's silence has three times
    # the wall time for it (it missed by 3 ms once in CI, on a slow machine)
    arrivals = await _paced_arrivals(early, audio, slowdown=3.0)
    finals = [at for kind, at in arrivals if kind == final]
    assert len(finals) == 1 and finals[0] - speech_s < 0.55
    assert stt.SpeechEventType.PREFLIGHT_TRANSCRIPT not in [kind for kind, _ in arrivals]
    assert len(ended) == 1 and {"flight", "boston"} <= words(ended[0]) and judged == ended

    held = model(lambda text: False)
    held.on("end_of_turn", ended.append)
    arrivals = await _paced_arrivals(held, audio)
    finals = [at for kind, at in arrivals if kind == final]
    assert stt.SpeechEventType.PREFLIGHT_TRANSCRIPT in [kind for kind, _ in arrivals]
    assert len(finals) == 1 and finals[0] - speech_s >= 0.55 and len(ended) == 1


def test_interim_passes_back_off_when_passes_are_slow() -> None:
    # a lone call's pass (0.2 s) keeps the interval; a starved one's (1 s) stretches it
    assert interim_due(0.8, 0.8, 0.2)
    assert not interim_due(0.8, 0.8, 1.0)
    assert interim_due(INTERIM_BACKOFF * 1.0, 0.8, 1.0)
    assert not interim_due(5.0, 0.0, 0.0)  # 0: no interim passes at all (phone calls)


class _SlowSTT(_CountingSTT):
    """Every pass takes ``delay_s`` longer, as on a CPU shared with other calls."""

    delay_s = 0.5

    async def transcribe_audio(self, audio: FloatArray, **kwargs: Any) -> Any:
        await asyncio.sleep(self.delay_s)
        return await super().transcribe_audio(audio, **kwargs)


async def test_slow_passes_are_not_run_back_to_back(
    engine: WhisperEngine, vad: Any, flight_phrase: FloatArray
) -> None:
    """While the caller speaks, a starved stream leaves at least INTERIM_BACKOFF x a pass's
    time of new audio between passes, instead of starting the next pass as one ends."""
    model = _SlowSTT(engine, vad=vad, interim_interval_s=0.8)
    speech = np.concatenate([flight_phrase, flight_phrase])
    events = await _paced_events(model, speech)
    assert any(ev.type == stt.SpeechEventType.FINAL_TRANSCRIPT for ev in events)
    gaps = [
        (b.size - a.size) / 16000
        for a, b in zip(model.passes, model.passes[1:], strict=False)
        if _ends_in_speech(b)  # an interim pass (the caller still speaking at its end)
    ]
    # the first interim pass is due after 0.8 s of speech, however slow the passes are
    assert any(_ends_in_speech(p) for p in model.passes), "expected an interim pass"
    # the 0.8 s interval alone starts a pass on 0.8-0.9 s of new audio here; backed off
    # (2.5 x a pass of 0.5 s and more) it waits for 1.25 s and more. On a loaded machine a
    # pass can take so long that no second interim pass fits in the speech: nothing to compare
    window = 512 / 16000  # passes start on a VAD window boundary
    assert min(gaps, default=float("inf")) >= 1.25 - window


class _FirstPassSlowSTT(WhisperSTT):
    """The first pass (a caption pass, mid-phrase) takes 2.5 s longer; every pass's start is
    noted (seconds since the stream began, seconds of audio it covers)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.started: list[tuple[float, float]] = []
        self.t0 = 0.0

    async def transcribe_audio(self, audio: FloatArray, **kwargs: Any) -> Any:
        self.started.append((asyncio.get_running_loop().time() - self.t0, audio.size / 16000))
        if len(self.started) == 1:
            await asyncio.sleep(2.5)
        return await super().transcribe_audio(audio, **kwargs)


@pytest.mark.parametrize("parallel", [1, 2])
async def test_the_final_pass_starts_beside_a_caption_pass_still_running(
    engine: WhisperEngine, vad: Any, flight_phrase: FloatArray, parallel: int
) -> None:
    """The caller stops while a caption pass over the first words runs: with two passes at
    once the pass over the whole phrase starts at the pause, not after that pass."""
    model = _FirstPassSlowSTT(engine, vad=vad, interim_interval_s=0.8)
    model.parallel_passes = parallel
    model.t0 = asyncio.get_running_loop().time()
    events = await _paced_events(model, flight_phrase)
    phrase_end = _trimmed_end_s(flight_phrase)
    caption_start, caption_audio = model.started[0]
    assert caption_audio < phrase_end  # the first pass began mid-phrase
    whole = [t for t, covered in model.started if covered >= phrase_end]
    assert whole, "no pass covered the whole phrase"
    if parallel == 2:
        assert whole[0] < phrase_end + 0.4  # at the pause (VAD lag + the candidate silence)
    else:
        assert whole[0] >= caption_start + 2.5  # it waited for the caption pass
    finals = [ev.alternatives[0].text for ev in events if ev.type == _FINAL]
    assert len(finals) == 1 and {"flight", "boston", "tuesday"} <= words(finals[0])


_FINAL = stt.SpeechEventType.FINAL_TRANSCRIPT


def _trimmed_end_s(audio: FloatArray) -> float:
    return float(np.nonzero(np.abs(audio) > 0.01)[0][-1] / 16000)


async def test_another_language_reaches_the_dialogue_as_unclear_speech(
    engine: WhisperEngine, vad: Any, caller_dir: Path
) -> None:
    from navan_voice.speech.unclear import UNCLEAR
    from navan_voice.speech.vocabulary import travel_hints

    spanish = read_16k(
        synth_caller(
            "Quiero cambiar mi vuelo a Nueva York para el viernes.",
            "espeak",
            caller_dir,
            language="es",
        )
    )
    model = WhisperSTT(engine, vad=vad, hints=travel_hints())  # as calls decode
    event = await model.recognize(array_to_frame(spanish, 16000))
    assert event.alternatives[0].text == UNCLEAR
    events = await stream_events(model, spanish, 16000)
    finals = [
        e.alternatives[0].text for e in events if e.type == stt.SpeechEventType.FINAL_TRANSCRIPT
    ]
    assert finals == [UNCLEAR]
    # an English request from the same voice is passed on as heard
    english = read_16k(synth_caller("Please cancel my hotel in Chicago.", "espeak", caller_dir))
    event = await model.recognize(array_to_frame(english, 16000))
    assert {"hotel", "chicago"} <= words(event.alternatives[0].text)
    # and with the check off, the guess itself goes out
    guessed = await WhisperSTT(engine, hints=travel_hints(), unclear_below=None).recognize(
        array_to_frame(spanish, 16000)
    )
    assert guessed.alternatives[0].text not in ("", UNCLEAR)


class _UnsureSTT(WhisperSTT):
    """Whisper's real passes, each scored as unsure as another language scores."""

    async def transcribe_audio(self, audio: FloatArray, **kwargs: Any) -> Any:
        import dataclasses

        result = await super().transcribe_audio(audio, **kwargs)
        return dataclasses.replace(result, avg_logprob=-2.0)


async def test_an_unsure_preflight_is_marked_as_its_final_will_be(
    engine: WhisperEngine, vad: Any, caller_dir: Path
) -> None:
    """livekit's preemptive reply and the look-ahead start on the preflight: it carries the same
    mark as the final, so the reply prepared on it is the one the final needs."""
    from navan_voice.speech.unclear import UNCLEAR

    head = read_16k(synth_caller("I need to change my flight", "festival", caller_dir))
    rest = read_16k(synth_caller("to Boston next Tuesday.", "festival", caller_dir))
    audio = np.concatenate([_trimmed(head), silence(0.45), _trimmed(rest)])
    model = _UnsureSTT(
        engine, vad=vad, interim_interval_s=0.0, candidate_silence_s=0.05, final_silence_s=0.15
    )
    announced: list[str] = []
    model.on("preflight_transcript", announced.append)
    events = await _paced_events(model, audio, slowdown=3.0)
    kinds = {stt.SpeechEventType.PREFLIGHT_TRANSCRIPT, stt.SpeechEventType.FINAL_TRANSCRIPT}
    texts = [(e.type, e.alternatives[0].text) for e in events if e.type in kinds]
    assert stt.SpeechEventType.PREFLIGHT_TRANSCRIPT in {k for k, _ in texts}, texts
    assert texts and all(text == UNCLEAR for _, text in texts), texts
    assert announced and set(announced) == {UNCLEAR}


async def test_captions_of_unsure_speech_show_the_mark_not_the_guess(
    engine: WhisperEngine, vad: Any, caller_dir: Path
) -> None:
    """The web page's live captions are the interim transcripts: once a guess is long enough to
    be marked, the caption shows the mark the final will carry, not words nobody said."""
    from navan_voice.speech.unclear import UNCLEAR, word_count

    audio = read_16k(
        synth_caller(
            "I need to change my flight to Boston next Tuesday please.", "festival", caller_dir
        )
    )
    model = _UnsureSTT(engine, vad=vad, interim_interval_s=0.8)
    events = await _paced_events(model, audio, slowdown=2.0)  # time for several caption passes
    captions = [
        e.alternatives[0].text for e in events if e.type == stt.SpeechEventType.INTERIM_TRANSCRIPT
    ]
    assert len(captions) >= 2 and UNCLEAR in captions, captions
    # a caption still guessing is one too short to be marked (as a final would be)
    assert all(c == UNCLEAR or word_count(c) < 4 for c in captions), captions
