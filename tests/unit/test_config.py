"""Settings: defaults, profile resolution and refusal of wrong values with a clear message."""

from __future__ import annotations

import pytest

from navan_voice.config import Profile, Settings, load_settings
from navan_voice.domain.errors import ConfigError

pytestmark = pytest.mark.unit

KEY_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "DEEPGRAM_API_KEY")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for var in (*KEY_VARS, "NAVAN_PROFILE", "NAVAN_LLM", "NAVAN_STT", "NAVAN_TTS", "LIVEKIT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(str(tmp_path))  # no stray .env file


def test_no_keys_means_local_profile() -> None:
    settings = load_settings()
    assert settings.resolved_profile is Profile.LOCAL
    assert settings.chain("stt") == ["local"]
    assert settings.chain("llm") == ["local"]
    assert settings.livekit_url == "ws://127.0.0.1:7880"


def test_a_provider_key_picks_its_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    settings = load_settings()
    assert settings.resolved_profile is Profile.ANTHROPIC
    assert settings.chain("llm") == ["anthropic"]
    assert settings.chain("tts") == ["local"]


def test_explicit_profile_wins_over_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("NAVAN_PROFILE", "local")
    assert load_settings().resolved_profile is Profile.LOCAL


def test_fallback_chain_from_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAVAN_LLM", "openai, local")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert load_settings().chain("llm") == ["openai", "local"]


def test_profile_without_its_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAVAN_PROFILE", "openai")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        load_settings()


def test_stage_provider_without_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAVAN_TTS", "elevenlabs")
    with pytest.raises(ConfigError, match="ELEVEN_API_KEY"):
        load_settings()


def test_realtime_profile_needs_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAVAN_PROFILE", "realtime")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        load_settings()


def test_openai_compatible_needs_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAVAN_LLM", "openai-compatible")
    with pytest.raises(ConfigError, match="NAVAN_LLM_BASE_URL"):
        load_settings()
    monkeypatch.setenv("NAVAN_LLM_BASE_URL", "http://127.0.0.1:11434/v1")
    assert load_settings().chain("llm") == ["openai-compatible"]


@pytest.mark.parametrize(
    ("var", "value", "needle"),
    [
        ("NAVAN_PROFILE", "azure", "NAVAN_PROFILE"),
        ("NAVAN_LLM", "gpt5-local", "unknown provider 'gpt5-local'"),
        ("NAVAN_STT", "local,whisperx", "allowed: local, openai, deepgram"),
        ("NAVAN_WEB_PORT", "70000", "NAVAN_WEB_PORT"),
        ("NAVAN_WEB_PORT", "eighty", "NAVAN_WEB_PORT"),
        ("LIVEKIT_URL", "localhost:7880", "not a LiveKit URL"),
        ("NAVAN_LOG_LEVEL", "LOUD", "not a log level"),
        ("NAVAN_TURN_DETECTION", "psychic", "'vad', 'text' or 'model'"),
        ("NAVAN_PROVIDER_TIMEOUT_S", "0", "NAVAN_PROVIDER_TIMEOUT_S"),
        ("NAVAN_SIP_TRANSFER_MODE", "lukewarm", "NAVAN_SIP_TRANSFER_MODE"),
    ],
)
def test_wrong_values_are_refused_with_the_setting_named(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, needle: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert needle in str(info.value)
    assert repr(value) in str(info.value) or value in str(info.value)


def test_livekit_http_url_derived() -> None:
    s = Settings(livekit_url="wss://example.livekit.cloud")
    assert s.livekit_http_url == "https://example.livekit.cloud"


def test_database_defaults_to_sqlite_in_data_dir(tmp_path: object) -> None:
    s = Settings(data_dir=tmp_path)
    assert s.effective_database_url == f"sqlite:///{tmp_path}/navan.db"
