"""Provider construction from settings: local, every cloud profile, fallback chains."""

from __future__ import annotations

from typing import Any

import pytest
from livekit.agents import llm, stt, tts

from navan_voice.config import Settings
from navan_voice.domain.errors import ConfigError, SetupError
from navan_voice.speech import factory
from navan_voice.speech.models import ModelBundle
from navan_voice.speech.piper_tts import PiperTTS
from navan_voice.speech.text_turn import TextTurnDetector
from navan_voice.speech.vocabulary import travel_hints
from navan_voice.speech.whisper_stt import WhisperSTT

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("no_provider_keys")]


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


class _Stub:
    """Stands in for a loaded model: the factory only passes it on."""

    class config:  # mimics PiperVoice.config
        sample_rate = 22050


@pytest.fixture
def bundle(vad: Any) -> ModelBundle:
    return ModelBundle(vad=vad, whisper=_Stub(), piper=_Stub())  # type: ignore[arg-type]


def test_local_profile_builds_local_adapters(bundle: ModelBundle) -> None:
    s = settings()
    assert isinstance(factory.build_stt(s, bundle), WhisperSTT)
    assert factory.build_stt(s, bundle).capabilities.streaming
    # live captions (web) keep the interim passes; a phone call drops them
    web, phone = factory.build_stt(s, bundle), factory.build_stt(s, bundle, captions=False)
    assert isinstance(web, WhisperSTT) and web.interim_interval_s == s.stt_interim_interval_s > 0
    assert isinstance(phone, WhisperSTT) and phone.interim_interval_s == 0.0
    assert isinstance(factory.build_tts(s, bundle), PiperTTS)
    assert factory.build_vad(bundle) is bundle.vad
    assert isinstance(factory.build_turn_detection(s, bundle), TextTurnDetector)  # the default


def test_turn_detection_modes(bundle: ModelBundle) -> None:
    assert isinstance(
        factory.build_turn_detection(settings(turn_detection="text"), bundle), TextTurnDetector
    )
    assert factory.build_turn_detection(settings(turn_detection="vad"), bundle) == "vad"
    # the audio model was not loaded in this bundle: VAD silence, not a failed call
    assert factory.build_turn_detection(settings(turn_detection="model"), bundle) == "vad"
    with pytest.raises(ValueError, match="'vad', 'text' or 'model'"):
        settings(turn_detection="words")


def test_local_models_must_be_loaded_first() -> None:
    with pytest.raises(SetupError, match="load_local_models"):
        factory.build_stt(settings(), ModelBundle())


def test_local_llm_comes_from_the_dialogue_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    import navan_voice.speech.dialogue as dialogue

    sentinel = object()
    monkeypatch.setattr(dialogue, "build_local_llm", lambda s: sentinel, raising=False)
    assert factory.build_llm(settings()) is sentinel


@pytest.mark.parametrize(
    ("values", "builder", "variable"),
    [
        ({"profile": "openai"}, "llm", "OPENAI_API_KEY"),
        ({"profile": "openai"}, "stt", "OPENAI_API_KEY"),
        ({"profile": "openai"}, "tts", "OPENAI_API_KEY"),
        ({"profile": "anthropic"}, "llm", "ANTHROPIC_API_KEY"),
        ({"profile": "google"}, "llm", "GOOGLE_API_KEY"),
        ({"stt": "deepgram"}, "stt", "DEEPGRAM_API_KEY"),
        ({"tts": "cartesia"}, "tts", "CARTESIA_API_KEY"),
        ({"tts": "elevenlabs"}, "tts", "ELEVEN_API_KEY"),
        ({"profile": "realtime"}, "realtime", "OPENAI_API_KEY"),
    ],
)
def test_missing_key_names_the_variable(
    bundle: ModelBundle, values: dict[str, Any], builder: str, variable: str
) -> None:
    s = settings(**values)
    with pytest.raises(ConfigError, match=variable):
        if builder == "llm":
            factory.build_llm(s)
        elif builder == "stt":
            factory.build_stt(s, bundle)
        elif builder == "tts":
            factory.build_tts(s, bundle)
        else:
            factory.build_realtime(s)


DUMMY_KEYS = {
    "openai_api_key": "sk-test",
    "anthropic_api_key": "sk-ant-test",
    "google_api_key": "g-test",
    "deepgram_api_key": "dg-test",
    "cartesia_api_key": "ca-test",
    "elevenlabs_api_key": "el-test",
}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"profile": "openai"}, ("openai", "openai", "openai")),
        ({"profile": "anthropic"}, ("local", "anthropic", "local")),
        ({"profile": "google"}, ("local", "google", "local")),
        (
            {"stt": "deepgram", "llm": "openai", "tts": "cartesia"},
            ("deepgram", "openai", "cartesia"),
        ),
        ({"stt": "local", "llm": "openai", "tts": "elevenlabs"}, ("local", "openai", "elevenlabs")),
    ],
)
def test_cloud_profiles_construct_with_dummy_keys(
    bundle: ModelBundle, values: dict[str, Any], expected: tuple[str, str, str]
) -> None:
    s = settings(**values, **DUMMY_KEYS)
    built = (factory.build_stt(s, bundle), factory.build_llm(s), factory.build_tts(s, bundle))
    for obj, provider in zip(built, expected, strict=True):
        module = type(obj).__module__
        if provider == "local":
            assert module.startswith("navan_voice.speech")
        else:
            assert module.startswith(f"livekit.plugins.{provider}")


def test_realtime_model_constructs(bundle: ModelBundle) -> None:
    model = factory.build_realtime(settings(profile="realtime", openai_api_key="sk-test"))
    assert isinstance(model, llm.RealtimeModel)


def test_openai_compatible_needs_a_base_url() -> None:
    with pytest.raises(ConfigError, match="NAVAN_LLM_BASE_URL"):
        factory.build_llm(settings(llm="openai-compatible"))


def test_chains_become_fallback_adapters(bundle: ModelBundle) -> None:
    s = settings(
        stt="deepgram,local",
        llm="openai,openai-compatible",
        tts="cartesia,local",
        llm_base_url="http://127.0.0.1:9/v1",
        **DUMMY_KEYS,
    )
    assert isinstance(factory.build_stt(s, bundle), stt.FallbackAdapter)
    assert isinstance(factory.build_llm(s), llm.FallbackAdapter)
    chain = factory.build_tts(s, bundle)
    assert isinstance(chain, tts.FallbackAdapter)
    assert [type(t).__name__ for t in chain._tts_instances] == ["TTS", "PiperTTS"]


def test_missing_plugin_gives_an_install_hint() -> None:
    with pytest.raises(SetupError, match="uv add"):
        factory.plugin("no_such_provider")


def test_vad_silence_setting_reaches_the_loaded_vad() -> None:
    # NAVAN_VAD_MIN_SILENCE_S: the silence that ends a caller's phrase, in the VAD the
    # worker loads (the end-of-turn window starts there)
    from navan_voice.speech.models import load_local_models

    bundle = load_local_models(settings(vad_min_silence_s=0.3, stt=["openai"], tts=["openai"]))
    assert bundle.vad is not None and bundle.vad._opts.min_silence_duration == 0.3


def test_phone_calls_get_the_travel_hints_and_web_calls_none(bundle: ModelBundle) -> None:
    s = settings()
    web, phone = factory.build_stt(s, bundle), factory.build_stt(s, bundle, captions=False)
    assert isinstance(web, WhisperSTT) and web.hints == ""
    assert isinstance(phone, WhisperSTT) and phone.hints == travel_hints()
    explicit = factory.build_stt(s, bundle, phone=True)
    assert isinstance(explicit, WhisperSTT) and explicit.hints == travel_hints()


def test_phone_calls_decode_with_the_phone_beam_and_web_calls_greedy(
    bundle: ModelBundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    web, phone = (
        factory.build_stt(settings(), bundle),
        factory.build_stt(settings(), bundle, captions=False),
    )
    assert isinstance(web, WhisperSTT) and web.beam_size == 0  # the engine's own: greedy
    assert isinstance(phone, WhisperSTT) and phone.beam_size == 2
    monkeypatch.setenv("NAVAN_STT_PHONE_BEAM", "1")
    greedy = factory.build_stt(settings(), bundle, phone=True)
    assert isinstance(greedy, WhisperSTT) and greedy.beam_size == 1


def test_stt_hint_settings_reach_the_adapter(
    bundle: ModelBundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NAVAN_STT_PHONE_HINTS", "")
    monkeypatch.setenv("NAVAN_STT_WEB_HINTS", "Globex offsite, Hyatt Regency")
    s = settings()
    phone = factory.build_stt(s, bundle, captions=False)
    web = factory.build_stt(s, bundle)
    assert isinstance(phone, WhisperSTT) and phone.hints == ""
    assert isinstance(web, WhisperSTT) and web.hints == "Globex offsite, Hyatt Regency"


def test_stt_silence_settings_reach_the_adapter(
    bundle: ModelBundle, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = factory.build_stt(settings(), bundle)
    assert isinstance(default, WhisperSTT)
    assert (default.candidate_silence_s, default.final_silence_s) == (0.064, 0.2)
    assert default.early == "preflight"
    monkeypatch.setenv("NAVAN_STT_CANDIDATE_SILENCE_S", "0.1")
    monkeypatch.setenv("NAVAN_STT_FINAL_SILENCE_S", "0.3")
    monkeypatch.setenv("NAVAN_STT_EARLY_TRANSCRIPT", "final")
    tuned = factory.build_stt(settings(), bundle, captions=False)
    assert isinstance(tuned, WhisperSTT)
    assert (tuned.candidate_silence_s, tuned.final_silence_s) == (0.1, 0.3)
    assert tuned.early == "final"
