"""Builds the STT, LLM, TTS, VAD and realtime objects that the settings ask for.

Each stage is a chain of providers (``Settings.chain``); a chain of more than one becomes
livekit's ``FallbackAdapter``, so a failing or hanging provider hands over to the next one.
Cloud plugins are imported only when chosen, with an install hint when missing; a missing key
raises ``ConfigError`` naming the environment variable (``Settings.api_key``).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

from livekit.agents import llm, stt, tts

from navan_voice.domain.errors import ConfigError, SetupError
from navan_voice.speech.models import ModelBundle
from navan_voice.speech.piper_tts import PiperTTS
from navan_voice.speech.turn import Detection, turn_detection
from navan_voice.speech.vocabulary import resolve_hints
from navan_voice.speech.whisper_stt import WhisperSTT

if TYPE_CHECKING:
    from livekit.agents import vad

    from navan_voice.config import Settings

DEFAULT_LLM_MODELS = {
    "openai": "gpt-4o-mini",
    "anthropic": "claude-3-5-haiku-latest",
    "google": "gemini-2.0-flash",
    "openai-compatible": "default",
}


def plugin(name: str) -> ModuleType:
    """``livekit.plugins.<name>``, or SetupError saying how to install it."""
    try:
        return importlib.import_module(f"livekit.plugins.{name}")
    except ImportError as e:
        raise SetupError(
            f"the {name} provider needs livekit-plugins-{name}; install it with "
            f"`uv add 'livekit-agents[{name}]'` or choose another provider"
        ) from e


def _need(value: Any, what: str) -> Any:
    if value is None:
        raise SetupError(
            f"the local {what} is not loaded; call load_local_models(settings) in prewarm"
        )
    return value


# --- STT ---------------------------------------------------------------------------------
def _stt(
    provider: str, settings: Settings, loaded: ModelBundle, *, captions: bool, phone: bool
) -> stt.STT[Any]:
    if provider == "local":
        return WhisperSTT(
            _need(loaded.whisper, "Whisper model"),
            vad=_need(loaded.vad, "VAD"),
            interim_interval_s=settings.stt_interim_interval_s if captions else 0.0,
            candidate_silence_s=settings.stt_candidate_silence_s,
            final_silence_s=settings.stt_final_silence_s,
            early=settings.stt_early_transcript,
            hints=resolve_hints(settings.stt_phone_hints if phone else settings.stt_web_hints),
            beam_size=settings.stt_phone_beam if phone else 0,
            unclear_below=settings.stt_unclear_below,
        )
    key = settings.api_key(provider)
    if provider == "openai":
        result: stt.STT[Any] = plugin("openai").STT(api_key=key)
    elif provider == "deepgram":
        result = plugin("deepgram").STT(api_key=key)
    else:
        raise ConfigError(f"NAVAN_STT: unknown provider {provider!r}")
    return result


def build_stt(
    settings: Settings, loaded: ModelBundle, *, captions: bool = True, phone: bool | None = None
) -> stt.STT[Any]:
    """The STT chain: one provider, or a FallbackAdapter over several.

    ``captions=False`` (a phone call: nobody sees the caller's words as they speak): the local
    STT skips its interim passes, which only feed live captions; the final transcript comes as
    fast without them and a call costs about half the CPU (bench/REPORT.md).
    ``phone`` (default: ``not captions``): 8 kHz phone audio, for which the local STT gets
    ``NAVAN_STT_PHONE_HINTS`` instead of ``NAVAN_STT_WEB_HINTS``."""
    on_phone = not captions if phone is None else phone
    instances = [
        _stt(p, settings, loaded, captions=captions, phone=on_phone) for p in settings.chain("stt")
    ]
    if len(instances) == 1:
        return instances[0]
    return stt.FallbackAdapter(
        instances, vad=loaded.vad, attempt_timeout=settings.provider_timeout_s
    )


# --- LLM ---------------------------------------------------------------------------------
def _llm(provider: str, settings: Settings) -> llm.LLM[Any]:
    model = settings.llm_model or DEFAULT_LLM_MODELS.get(provider, "")
    if provider == "local":
        from navan_voice.speech.dialogue import build_local_llm  # another module's engine

        local: llm.LLM[Any] = build_local_llm(settings)
        return local
    if provider == "openai-compatible":
        if not settings.llm_base_url:
            raise ConfigError(
                "the openai-compatible LLM needs NAVAN_LLM_BASE_URL, e.g. "
                "http://127.0.0.1:11434/v1 for Ollama"
            )
        # local servers (Ollama, vLLM, llama.cpp) take any key
        return plugin("openai").LLM(  # type: ignore[no-any-return]
            base_url=settings.llm_base_url, model=model, api_key="not-needed"
        )
    key = settings.api_key(provider)
    if provider in ("openai", "anthropic", "google"):
        return plugin(provider).LLM(model=model, api_key=key)  # type: ignore[no-any-return]
    raise ConfigError(f"NAVAN_LLM: unknown provider {provider!r}")


def build_llm(settings: Settings) -> llm.LLM[Any]:
    """The LLM chain: one provider, or a FallbackAdapter (e.g. cloud -> local engine)."""
    instances = [_llm(p, settings) for p in settings.chain("llm")]
    if len(instances) == 1:
        return instances[0]
    return llm.FallbackAdapter(instances, attempt_timeout=settings.provider_timeout_s)


# --- TTS ---------------------------------------------------------------------------------
def _tts(provider: str, settings: Settings, loaded: ModelBundle) -> tts.TTS[Any]:
    if provider == "local":
        return PiperTTS(
            _need(loaded.piper, "piper voice"), render_ahead_s=settings.tts_render_ahead_s
        )
    key = settings.api_key(provider)
    if provider in ("openai", "cartesia", "elevenlabs"):
        return plugin(provider).TTS(api_key=key)  # type: ignore[no-any-return]
    raise ConfigError(f"NAVAN_TTS: unknown provider {provider!r}")


def build_tts(settings: Settings, loaded: ModelBundle) -> tts.TTS[Any]:
    """The TTS chain: one provider, or a FallbackAdapter over several."""
    instances = [_tts(p, settings, loaded) for p in settings.chain("tts")]
    if len(instances) == 1:
        return instances[0]
    return tts.FallbackAdapter(instances)


# --- VAD, turn detection, realtime ---------------------------------------------------------
def build_vad(loaded: ModelBundle) -> vad.VAD:
    """The process's Silero VAD (every session may share it; streams are per call)."""
    result: vad.VAD = _need(loaded.vad, "VAD")
    return result


def build_turn_detection(settings: Settings, loaded: ModelBundle) -> Detection:
    """``AgentSession(turn_detection=...)``: the text rules, or the local model if asked for and
    loaded, else VAD."""
    return turn_detection(settings.turn_detection, loaded.turn_detector)


def build_realtime(settings: Settings) -> llm.RealtimeModel:
    """OpenAI's speech-to-speech model (profile ``realtime``); needs OPENAI_API_KEY."""
    key = settings.api_key("openai")
    openai = plugin("openai")
    model: llm.RealtimeModel = openai.realtime.RealtimeModel(api_key=key)
    return model
