"""Settings: the only place navan-voice reads the environment.

Values come from environment variables (prefix ``NAVAN_``; the LiveKit and provider keys also
under their usual names such as ``LIVEKIT_URL`` or ``OPENAI_API_KEY``) and an optional ``.env``
file. Every wrong value is refused at start-up with a message naming the setting and what is
allowed (see ``load_settings``).
"""

from __future__ import annotations

import enum
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from navan_voice.domain.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Profile(enum.StrEnum):
    """A bundle of provider choices; per-stage settings override it."""

    LOCAL = "local"
    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    GOOGLE = "google"
    OPENAI_COMPATIBLE = "openai-compatible"
    REALTIME = "realtime"


STT_PROVIDERS = ("local", "openai", "deepgram")
LLM_PROVIDERS = ("local", "openai", "anthropic", "google", "openai-compatible")
TTS_PROVIDERS = ("local", "openai", "cartesia", "elevenlabs")

# Which provider each profile uses per stage when the stage is not set explicitly.
PROFILE_DEFAULTS: dict[Profile, dict[str, list[str]]] = {
    Profile.LOCAL: {"stt": ["local"], "llm": ["local"], "tts": ["local"]},
    Profile.OPENAI: {"stt": ["openai"], "llm": ["openai"], "tts": ["openai"]},
    Profile.ANTHROPIC: {"stt": ["local"], "llm": ["anthropic"], "tts": ["local"]},
    Profile.GOOGLE: {"stt": ["local"], "llm": ["google"], "tts": ["local"]},
    Profile.OPENAI_COMPATIBLE: {"stt": ["local"], "llm": ["openai-compatible"], "tts": ["local"]},
    # the realtime model replaces STT+LLM+TTS; the chains stay as the fallback description
    Profile.REALTIME: {"stt": ["local"], "llm": ["local"], "tts": ["local"]},
}

# The environment variable that holds each provider's key (None: needs no key).
PROVIDER_KEY_ENV: dict[str, str | None] = {
    "local": None,
    "openai-compatible": None,
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "google": "GOOGLE_API_KEY",
    "deepgram": "DEEPGRAM_API_KEY",
    "cartesia": "CARTESIA_API_KEY",
    "elevenlabs": "ELEVEN_API_KEY",
}

CommaList = Annotated[list[str], NoDecode]


def _split_chain(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every setting of navan-voice, validated when it is built."""

    model_config = SettingsConfigDict(
        env_prefix="NAVAN_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- LiveKit -------------------------------------------------------------------------
    livekit_url: str = Field(
        "ws://127.0.0.1:7880", validation_alias=AliasChoices("NAVAN_LIVEKIT_URL", "LIVEKIT_URL")
    )
    livekit_api_key: str = Field(
        "devkey", validation_alias=AliasChoices("NAVAN_LIVEKIT_API_KEY", "LIVEKIT_API_KEY")
    )
    livekit_api_secret: SecretStr = Field(
        SecretStr("secret"),
        validation_alias=AliasChoices("NAVAN_LIVEKIT_API_SECRET", "LIVEKIT_API_SECRET"),
    )
    livekit_server_version: str = "v1.13.5"
    agent_name: str = "navan-voice"

    # --- telephony: livekit-sip, Redis, the Twilio Elastic SIP trunk ---------------------------
    livekit_sip_version: str = "v1.8.0"
    redis_address: str = ""  # host:port shared by livekit-server and livekit-sip; empty: start one
    sip_port: int = Field(5060, ge=1, le=65535)  # livekit-sip's SIP port (UDP and TCP)
    sip_rtp_port_start: int = Field(10000, ge=1024, le=65535)
    sip_rtp_port_end: int = Field(20000, ge=1024, le=65535)
    twilio_numbers: CommaList = Field(default_factory=list)  # E.164 numbers the trunk answers
    sip_allowed_addresses: CommaList = Field(default_factory=list)  # source IPs / CIDRs
    sip_allowed_numbers: CommaList = Field(default_factory=list)  # caller numbers; empty: any
    sip_termination_uri: str = ""  # Twilio termination SIP URI, e.g. navan.pstn.twilio.com
    sip_username: str = ""  # Twilio credential list user for outbound calls
    sip_password: SecretStr = SecretStr("")
    sip_transfer_to: str = ""  # the human desk: tel:+1... or sip:desk@host
    # cold: SIP REFER hands the caller over; warm: the agent dials the desk through the outbound
    # trunk, briefs them while the caller holds, then connects both
    sip_transfer_mode: Literal["cold", "warm"] = "cold"
    sip_transfer_ring_timeout_s: float = Field(20.0, gt=0, le=120)  # the desk must answer by then
    # warm: after the briefing the desk presses 1 (connect now) or 2 (decline); staying on the
    # line this long without a key also connects
    sip_warm_accept_s: float = Field(6.0, gt=0, le=120)
    sip_silence_timeout_s: float = Field(20.0, gt=0, le=600)  # silence before the agent hangs up

    # --- local stack ---------------------------------------------------------------------
    cache_dir: Path = PROJECT_ROOT / ".cache"
    data_dir: Path = PROJECT_ROOT / "var"
    database_url: str = ""  # empty: SQLite file in data_dir
    web_port: int = Field(8080, ge=1, le=65535)
    prometheus_port: int = Field(0, ge=0, le=65535)  # 0: no metrics endpoint
    worker_http_port: int = Field(0, ge=0, le=65535)  # worker health endpoint; 0: any free port
    worker_idle_processes: int = Field(1, ge=0, le=32)  # prewarmed job processes per worker
    # calls one worker takes at once; its load reported to the server is calls / this, so the
    # server's load-weighted dispatch spreads calls and a full worker refuses more
    worker_max_calls: int = Field(4, ge=1, le=1000)
    worker_load_threshold: float = Field(0.95, gt=0.0, lt=1.0)
    worker_init_timeout_s: float = Field(90.0, gt=0, le=600)  # a job process loading models
    log_level: str = "INFO"

    # --- providers -------------------------------------------------------------------------
    profile: Profile | None = None  # None: local unless a provider key is set
    stt: CommaList = Field(default_factory=list)  # fallback chain, e.g. "deepgram,local"
    llm: CommaList = Field(default_factory=list)
    tts: CommaList = Field(default_factory=list)
    llm_base_url: str = ""  # for the openai-compatible provider (Ollama, vLLM, llama.cpp)
    llm_model: str = ""  # model name for the chosen LLM provider; empty: provider default
    provider_timeout_s: float = Field(10.0, gt=0, le=120)

    openai_api_key: SecretStr | None = Field(None, validation_alias="OPENAI_API_KEY")
    anthropic_api_key: SecretStr | None = Field(None, validation_alias="ANTHROPIC_API_KEY")
    google_api_key: SecretStr | None = Field(None, validation_alias="GOOGLE_API_KEY")
    deepgram_api_key: SecretStr | None = Field(None, validation_alias="DEEPGRAM_API_KEY")
    cartesia_api_key: SecretStr | None = Field(None, validation_alias="CARTESIA_API_KEY")
    elevenlabs_api_key: SecretStr | None = Field(None, validation_alias="ELEVEN_API_KEY")

    # --- speech tuning -----------------------------------------------------------------------
    # local STT: CTranslate2 (OpenMP) threads per call process. 1: one call is as fast as with
    # 2, and with 4 calls on 2 cores the final transcript comes 1.3-2.1 s after the end of
    # speech instead of 5.2-5.5 s (OpenMP barriers stall when processes oversubscribe the
    # cores; bench/REPORT.md session 12)
    stt_threads: int = Field(1, ge=1, le=64)
    # local STT: passes one call process can run at once. 2: when the caller stops while a
    # caption (interim) pass is running, the pass that gives the final starts beside it instead
    # of after it (0.06-0.17 s sooner), but end to end that was within the runs' spread and it
    # cost ≈140 MiB more per call process with 4 calls (bench/REPORT.md session 16): off
    stt_workers: int = Field(1, ge=1, le=8)
    # local TTS: piper's onnxruntime threads per process; 0 = its default (one per core, busy-
    # waiting between runs). A set count also stops the busy-waiting: with several calls on a
    # few cores, p95 of the first audio drops and p50 rises (bench/speech/threads.py)
    tts_threads: int = Field(0, ge=0, le=64)
    # local STT/TTS: run Whisper's and piper's threads this much nicer (Linux, per thread) than
    # the call's event loop and media threads, so audio in and out is not starved when the
    # cores are all busy (speech/priority.py); 0 = the same priority
    model_thread_nice: int = Field(0, ge=0, le=19)
    # local TTS: a reply's later sentences are rendered while it plays, at most this much audio
    # ahead (0 = all at once, the default). Spreads a long reply's CPU over its playback;
    # measured no better with 2-4 calls on 2 cores (bench/REPORT.md session 12), so opt-in
    tts_render_ahead_s: float = Field(0.0, ge=0.0, le=60.0)
    # local STT: transcribe the caller's growing phrase every this many seconds of new speech
    # (live captions); 0 = only the pass at the end of speech, which alone sets the final's
    # latency: less CPU per call (see bench/REPORT.md, concurrency)
    stt_interim_interval_s: float = Field(0.8, ge=0.0, le=10.0)
    # local STT: quiet this long starts the pass over the whole phrase, and its text goes out
    # once that pass is done and the quiet has lasted the second (two VAD windows, 0.2 s): the
    # look-ahead and livekit's preemptive reply start on it, ≈0.1 s before the end of turn
    stt_candidate_silence_s: float = Field(0.064, ge=0.02, le=1.0)
    stt_final_silence_s: float = Field(0.2, ge=0.05, le=2.0)
    # local STT: what that early text is. "preflight": livekit's preflight transcript (its
    # preemptive reply and the look-ahead start on it) and the final at the VAD's end of
    # speech, so a pause shorter than the VAD silence never splits a sentence; "final": the
    # final itself, splitting the sentence at such a pause (at 0.4 s pauses 21 % word errors
    # against 12 %, bench/REPORT.md session 8)
    stt_early_transcript: Literal["preflight", "final"] = "preflight"
    # local STT with the text turn rules: when that early text is a finished request ("When does
    # my flight to New York leave?", speech/text_turn.py sure_end_of_turn), it is the final and
    # the speech ends there, without waiting out vad_min_silence_s (speech/early_end.py); any
    # other pause waits the full silence. Off by default: on 2 cores it commits the turn 0.07 s
    # sooner, but the look-ahead then has no time to render the reply's first words, so
    # voice-to-voice is unchanged (0.91 s p50 either way), and ≈5-6 % of 0.3-0.4 s mid-sentence
    # pauses get answered half-way (bench/REPORT.md session 9). Worth trying with a faster STT
    early_end_of_turn: bool = False
    # local STT: vocabulary placed before the caller's speech as previous text (faster-whisper's
    # "hotwords"): "travel" = the built-in travel words and the cities the agent knows
    # (speech/vocabulary.py), "" = none, any other text is used as it is. On 8 kHz phone audio
    # the travel words cut Whisper tiny.en's WER by a quarter for ~10-25 % more decode time
    # (bench/telephony/REPORT.md). Phone calls (SIP) and web calls are set apart.
    stt_phone_hints: str = Field("travel", max_length=1000)
    # local STT on phone calls: Whisper's beam width (1 = greedy, as web calls decode). 2 cuts
    # the word errors on 8 kHz µ-law from unheard voices (flite 11.6 -> 9.2 %) for ≈+0.06 s of
    # decoding per phrase (bench/telephony/REPORT.md)
    stt_phone_beam: int = Field(2, ge=1, le=10)
    stt_web_hints: str = Field("", max_length=1000)
    # local STT: a final transcript of 4+ words that Whisper scored below this (its average
    # token log-probability) reaches the dialogue as "(unclear speech)", which is answered with
    # "say it again", instead of as English words guessed from another language
    # (speech/unclear.py; bench/speech/unclear_speech.py). -10 passes everything on as heard
    stt_unclear_below: float = Field(-0.9, ge=-10.0, le=0.0)
    min_endpointing_delay_s: float = Field(0.4, ge=0.0, le=5.0)
    max_endpointing_delay_s: float = Field(3.0, ge=0.1, le=30.0)
    # "dynamic": livekit's DynamicEndpointing raises min_endpointing_delay_s for a caller who
    # pauses mid-request (a pause that did not end the turn, or a reply the caller cut off at
    # once), each pause moving it (1 - endpointing_alpha) of the way there; "fixed": the setting
    endpointing_mode: Literal["fixed", "dynamic"] = "dynamic"
    endpointing_alpha: float = Field(0.9, gt=0.0, le=1.0)
    # "text": the caller's words decide whether a pause ends the turn ("...my flight to" waits
    # max_endpointing_delay_s, speech/text_turn.py); "vad": silence alone; "model": livekit's
    # local audio turn detector. "text" lets the VAD silence be shorter without answering half
    # sentences; see bench/REPORT.md, session 4
    turn_detection: str = "text"
    # silence that ends a caller's speech segment (Silero VAD); the end-of-turn window starts
    # here. 0.45 with "text" answers ≈0.1 s sooner than 0.55 and cuts in on fewer pauses in all
    # (bench/REPORT.md, session 4); 0.35 is faster still; with "vad" use 0.55
    vad_min_silence_s: float = Field(0.45, ge=0.1, le=3.0)
    # "model": an end-of-turn probability below this waits max_endpointing_delay_s instead of
    # min_endpointing_delay_s. 0.15 keeps missed ends of turn under 5 % on the travel phrases
    # (livekit's shipped 0.36 misses 36 %); see bench/speech/TURN_DETECTOR.md
    turn_unlikely_threshold: float = Field(0.15, gt=0.0, lt=1.0)
    # barge-in: caller speech this long pauses the agent (livekit's default is 0.5 s); 0.1 s
    # stops it in ≈0.3 s instead of ≈0.47 s at 0.25 (bench/REPORT.md, barge-in). A sound that
    # brings no words (a cough) lets the agent resume after false_interruption_timeout_s
    interruption_min_duration_s: float = Field(0.1, ge=0.05, le=2.0)
    # count a word's voiceless onset (the "s" of "Sorry") as speech toward that minimum: Silero
    # hears speech only from the vowel (speech/onset.py; bench.speech.onset: pause 56 ms sooner)
    barge_in_onset: bool = True
    # a pause with no words by this long after the caller went quiet resumes the agent where it
    # stopped (livekit's default 2 s; the transcript of real words comes within ≈0.5 s)
    false_interruption_timeout_s: float = Field(1.0, ge=0.2, le=10.0)
    # caller speech is ignored this long after the agent starts talking, against echo; phones
    # and browsers cancel their own echo, so livekit's 3 s default mostly delays barge-in
    aec_warmup_s: float = Field(0.5, ge=0.0, le=5.0)
    # start the reply's speech synthesis on the final transcript, before the end of turn is
    # confirmed (livekit discards it if the caller goes on); saves TTS's first-audio time on
    # replies that need no tool (bench/REPORT.md, "Where the time goes")
    preemptive_tts: bool = True
    # with the local engine and piper: play the caller's turn through (lookups, hand-offs) on the
    # final transcript and render the reply's first words before the end of turn is confirmed
    # (agents/lookahead.py)
    lookahead: bool = True
    # the real turn takes the database reads the look-ahead made instead of reading again
    # (tools/reads_ahead.py; off: every turn reads for itself)
    lookahead_reads: bool = True
    # the caller's audio reaches VAD and STT in frames of this length (livekit's default 50 ms;
    # a sound at a frame's start waits for the whole frame)
    audio_input_frame_ms: int = Field(20, ge=10, le=100)
    # offline dialogue engine behind the "local" LLM: rules | needle | hybrid (rules, then Needle)
    local_llm_engine: Literal["rules", "needle", "hybrid"] = "rules"

    # --- recordings and telemetry (recording/, analytics/) -----------------------------------
    recordings_backend: str = "local"  # "local" (a folder) or "s3" (S3-compatible storage)
    recordings_dir: Path | None = None  # None: data_dir / "recordings"
    s3_endpoint_url: str = ""  # empty: AWS; e.g. http://127.0.0.1:9000 for MinIO
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    otlp_endpoint: str = ""  # OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces

    # --- web app, dashboard, screen share, avatar ---------------------------------------------
    # signs the web app's cookies; empty: a random key per process (sign-ins end at restart)
    web_secret: SecretStr = SecretStr("")
    web_token_ttl_s: int = Field(600, ge=30, le=86400)  # lifetime of a caller's LiveKit token
    # the dashboard's password; empty: the dashboard refuses every sign-in (no anonymous access)
    dashboard_password: SecretStr = SecretStr("")
    vision_images: bool = False  # send screen frames as images (the LLM must accept images)
    avatar: str = "local"  # "none", "local" (drawn in the worker), "tavus", "hedra", "bey"

    @field_validator("stt", "llm", "tts", mode="before")
    @classmethod
    def _chain(cls, value: Any) -> Any:
        return _split_chain(value)

    @field_validator("stt")
    @classmethod
    def _check_stt(cls, value: list[str]) -> list[str]:
        return _check_chain("NAVAN_STT", value, STT_PROVIDERS)

    @field_validator("llm")
    @classmethod
    def _check_llm(cls, value: list[str]) -> list[str]:
        return _check_chain("NAVAN_LLM", value, LLM_PROVIDERS)

    @field_validator("tts")
    @classmethod
    def _check_tts(cls, value: list[str]) -> list[str]:
        return _check_chain("NAVAN_TTS", value, TTS_PROVIDERS)

    @field_validator(
        "twilio_numbers", "sip_allowed_addresses", "sip_allowed_numbers", mode="before"
    )
    @classmethod
    def _sip_lists(cls, value: Any) -> Any:
        return _split_chain(value)

    @field_validator("twilio_numbers", "sip_allowed_numbers")
    @classmethod
    def _check_e164(cls, value: list[str]) -> list[str]:
        for number in value:
            if not (number.startswith("+") and number[1:].isdigit() and 8 <= len(number) <= 16):
                raise ValueError(
                    f"{number!r} is not an E.164 phone number; write it as +15551234567"
                )
        return value

    @field_validator("livekit_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme not in ("ws", "wss", "http", "https") or not parsed.hostname:
            raise ValueError(
                f"{value!r} is not a LiveKit URL; use ws://host:port or wss://host "
                "(the local server is ws://127.0.0.1:7880)"
            )
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        allowed = ("DEBUG", "INFO", "WARNING", "ERROR")
        if value.upper() not in allowed:
            raise ValueError(f"{value!r} is not a log level; use one of {', '.join(allowed)}")
        return value.upper()

    @field_validator("recordings_backend")
    @classmethod
    def _check_recordings_backend(cls, value: str) -> str:
        if value not in ("local", "s3"):
            raise ValueError(f"{value!r} is not a recordings backend; use 'local' or 's3'")
        return value

    @field_validator("turn_detection")
    @classmethod
    def _check_turn(cls, value: str) -> str:
        if value not in ("vad", "text", "model"):
            raise ValueError(
                f"{value!r} is not a turn detection mode; use 'vad', 'text' or 'model'"
            )
        return value

    # --- derived ---------------------------------------------------------------------------
    @cached_property
    def resolved_profile(self) -> Profile:
        """The profile in force: the one set, else the first whose key is present, else local."""
        if self.profile is not None:
            return self.profile
        for profile, key in (
            (Profile.OPENAI, self.openai_api_key),
            (Profile.ANTHROPIC, self.anthropic_api_key),
            (Profile.GOOGLE, self.google_api_key),
        ):
            if key is not None and key.get_secret_value():
                return profile
        return Profile.LOCAL

    def chain(self, stage: str) -> list[str]:
        """The provider fallback chain for ``stage`` ("stt", "llm" or "tts")."""
        explicit: list[str] = getattr(self, stage)
        return explicit or list(PROFILE_DEFAULTS[self.resolved_profile][stage])

    def api_key(self, provider: str) -> str:
        """The key for ``provider``; raises ConfigError naming the variable when it is missing."""
        env = PROVIDER_KEY_ENV.get(provider)
        if env is None:
            return ""
        field = {"ELEVEN_API_KEY": "elevenlabs_api_key"}.get(env, env.lower())
        secret: SecretStr | None = getattr(self, field)
        if secret is None or not secret.get_secret_value():
            raise ConfigError(
                f"provider {provider!r} needs the environment variable {env}; set it, or pick "
                "another provider (NAVAN_PROFILE=local runs offline with no keys)"
            )
        return secret.get_secret_value()

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'navan.db'}"

    @property
    def effective_recordings_dir(self) -> Path:
        return self.recordings_dir or self.data_dir / "recordings"

    @property
    def livekit_http_url(self) -> str:
        """The server's HTTP(S) address, for the server API and health checks."""
        return self.livekit_url.replace("wss://", "https://").replace("ws://", "http://")

    def validate_providers(self) -> None:
        """Check at start-up that every provider in use has its key and settings."""
        for stage in ("stt", "llm", "tts"):
            for provider in self.chain(stage):
                self.api_key(provider)
        if self.resolved_profile is Profile.REALTIME:
            self.api_key("openai")
        if "openai-compatible" in self.chain("llm") and not self.llm_base_url:
            raise ConfigError(
                "the openai-compatible LLM needs NAVAN_LLM_BASE_URL, e.g. "
                "http://127.0.0.1:11434/v1 for Ollama"
            )


def _check_chain(name: str, value: list[str], allowed: tuple[str, ...]) -> list[str]:
    for provider in value:
        if provider not in allowed:
            raise ValueError(
                f"{name}: unknown provider {provider!r}; allowed: {', '.join(allowed)} "
                "(a comma-separated list is a fallback chain)"
            )
    return value


def load_settings(**overrides: Any) -> Settings:
    """Build and validate the settings, turning any error into one readable ConfigError."""
    try:
        settings = Settings(**overrides)
    except ValidationError as e:
        lines = []
        for err in e.errors():
            loc = ".".join(str(part) for part in err["loc"]) or "settings"
            env = loc if loc.isupper() else f"NAVAN_{loc.upper()}"
            lines.append(f"{env}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError("invalid settings:\n  " + "\n  ".join(lines)) from e
    settings.validate_providers()
    return settings
