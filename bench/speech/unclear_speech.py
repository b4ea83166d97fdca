"""Can the local STT tell English it understood from speech it did not (another language)?

tiny.en only writes English: Spanish or German comes out as English words ("It's a great way to
go"), which the dialogue would answer as a request. What it does report is how sure it was (the
average log-probability of its tokens). This bench transcribes English travel sentences (three
Debian voices) and travel sentences in ten other languages (espeak-ng: the one voice here that
speaks them, so espeak-ng's English is the fair comparison), at 16 kHz and as an 8 kHz µ-law
phone line, decoded as calls decode them (the default settings: web calls with the web hints,
none by default, greedy; phone calls with the travel hints and beam 2), and
prints, for each threshold on that score, how many English clips it would wrongly call unclear
and how many other-language clips it would catch. The threshold is chosen on the first five
languages and checked on the other five.

Run: .venv/bin/python -m bench.speech.unclear_speech
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.e2e.results import save
from bench.telephony.narrowband_stt import HELD_OUT, SENTENCES, phone_line, read, speak
from navan_voice.config import Settings, load_settings
from navan_voice.speech.audio import FloatArray, resample
from navan_voice.speech.unclear import MIN_WORDS, is_unclear
from navan_voice.speech.vocabulary import resolve_hints
from navan_voice.speech.whisper_engine import WhisperEngine

# travel requests a caller might make in another language (espeak-ng voice names)
OTHER = {
    "es": ["Quiero cambiar mi vuelo a Nueva York para el viernes.",
           "¿A qué hora sale mi vuelo mañana?",
           "Necesito cancelar la reserva del hotel, por favor."],
    "fr": ["Je voudrais changer mon vol pour Paris.",
           "À quelle heure part mon avion demain matin?",
           "Pouvez-vous annuler ma chambre d'hôtel?"],
    "de": ["Ich möchte meinen Flug nach Berlin ändern.",
           "Wann fliegt meine Maschine morgen ab?",
           "Bitte stornieren Sie mein Hotelzimmer."],
    "it": ["Vorrei cambiare il mio volo per Roma.",
           "A che ora parte il mio aereo domani?",
           "Vorrei cancellare la mia prenotazione dell'albergo."],
    "pt": ["Quero mudar o meu voo para Lisboa, por favor.",
           "A que horas sai o meu voo amanhã?",
           "Preciso cancelar a reserva do hotel."],
    # held out: not looked at while choosing the threshold
    "nl": ["Ik wil mijn vlucht naar Amsterdam wijzigen.",
           "Hoe laat vertrekt mijn vlucht morgen?",
           "Kunt u mijn hotelkamer annuleren?"],
    "pl": ["Chcę zmienić mój lot do Warszawy.",
           "O której godzinie odlatuje mój samolot jutro?",
           "Proszę anulować moją rezerwację hotelu."],
    "ru": ["Я хочу изменить свой рейс в Москву.",
           "Во сколько вылетает мой самолёт завтра?",
           "Пожалуйста, отмените бронь в гостинице."],
    "hi": ["मुझे अपनी उड़ान बदलनी है।",
           "मेरी उड़ान कल कितने बजे है?",
           "कृपया मेरा होटल रद्द कर दीजिए।"],
    "tr": ["Uçuşumu İstanbul'a değiştirmek istiyorum.",
           "Uçağım yarın saat kaçta kalkıyor?",
           "Lütfen otel rezervasyonumu iptal edin."],
}  # fmt: skip
CHOSEN_ON = ("es", "fr", "de", "it", "pt")
# short answers: a confirmation must never be taken for speech the STT did not understand
SHORT = ["Yes.", "No.", "Yes, please.", "No, thanks.", "Okay.", "A person, please.",
         "Thank you.", "Goodbye."]  # fmt: skip
THRESHOLDS = (-0.5, -0.6, -0.65, -0.7, -0.75, -0.8, -0.9, -1.0)


@dataclass(frozen=True)
class Clip:
    language: str  # "en" or an espeak-ng voice
    voice: str
    band: str  # "16k" or "8k"
    text: str
    heard: str
    score: float  # Whisper's average log-probability


def _speak_other(language: str, text: str, out: Path) -> None:
    subprocess.run(["espeak-ng", "-v", language, "-s", "150", "-w", str(out), text], check=True)


def bands(wav: Path) -> dict[str, FloatArray]:
    """The clip at 16 kHz and through an 8 kHz µ-law phone line, both as 16 kHz audio."""
    audio, rate = read(wav)
    narrow, narrow_rate = phone_line(wav)
    return {"16k": resample(audio, rate), "8k": resample(narrow, narrow_rate)}


def decoding(settings: Settings) -> dict[str, tuple[str, int]]:
    """band -> (hints, beam) as the factory gives a web (16 kHz) or phone (8 kHz) call's STT."""
    return {
        "16k": (resolve_hints(settings.stt_web_hints), 1),
        "8k": (resolve_hints(settings.stt_phone_hints), settings.stt_phone_beam),
    }


def transcribe_all(work: Path) -> list[Clip]:
    engine = WhisperEngine.load(cpu_threads=1)
    by_band = decoding(load_settings(profile="local"))
    jobs: list[tuple[str, str, str, Path]] = []
    for i, text in enumerate(SENTENCES + HELD_OUT + SHORT):
        for voice in ("flite", "espeak-ng", "festival"):
            wav = work / f"en-{voice}-{i}.wav"
            speak(voice, text, wav)
            jobs.append(("en", voice, text, wav))
    for language, texts in OTHER.items():
        for i, text in enumerate(texts):
            wav = work / f"{language}-{i}.wav"
            _speak_other(language, text, wav)
            jobs.append((language, "espeak-ng", text, wav))
    clips = []
    for language, voice, text, wav in jobs:
        for band, audio in bands(wav).items():
            hints, beam = by_band[band]
            result = engine.transcribe(audio, hints=hints, beam_size=beam)
            clips.append(Clip(language, voice, band, text, result.text, result.avg_logprob))
    return clips


def table(clips: list[Clip], *, min_words: int = MIN_WORDS) -> list[dict[str, object]]:
    """Per threshold, with the rule calls apply (speech/unclear.py: a transcript of at least
    ``min_words`` words scored below it): English clips called unclear (per voice; sentences
    and short answers apart) and other-language clips caught (the languages it was chosen on,
    and the held-out ones)."""
    rows = []
    for limit in THRESHOLDS:

        def flagged(c: Clip, limit: float = limit) -> bool:
            return is_unclear(c.heard, c.score, limit, min_words=min_words)

        row: dict[str, object] = {"threshold": limit}
        for voice in ("flite", "espeak-ng", "festival"):
            english = [c for c in clips if c.language == "en" and c.voice == voice]
            short = [c for c in english if c.text in SHORT]
            long = [c for c in english if c.text not in SHORT]
            row[f"en {voice} flagged"] = _share([flagged(c) for c in long])
            row[f"en {voice} short flagged"] = _share([flagged(c) for c in short])
        chosen = [c for c in clips if c.language in CHOSEN_ON]
        held = [c for c in clips if c.language != "en" and c.language not in CHOSEN_ON]
        row["other caught (chosen on)"] = _share([flagged(c) for c in chosen])
        row["other caught (held out)"] = _share([flagged(c) for c in held])
        rows.append(row)
    return rows


def _share(flags: list[bool]) -> str:
    return f"{sum(flags)}/{len(flags)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clips = transcribe_all(Path(tmp))
    for band in ("16k", "8k"):
        english = sorted(c.score for c in clips if c.language == "en" and c.band == band)
        other = sorted(c.score for c in clips if c.language != "en" and c.band == band)
        print(f"{band}: English lowest {english[:4]}, other highest {other[-4:]}")
    tables = {f"{n}+ words": table(clips, min_words=n) for n in (1, MIN_WORDS)}
    for name, rows in tables.items():
        print(f"-- flagged: scored below the threshold, {name}")
        header = list(rows[0])
        print(" | ".join(header))
        for row in rows:
            print(" | ".join(str(row[h]) for h in header))
    for c in sorted(clips, key=lambda c: c.score):
        if c.language != "en" or c.score < -0.5:
            print(f"{c.score:6.2f} {c.language:3} {c.voice:10} {c.band:3} {c.heard!r}")
    save("unclear_speech", {"clips": [c.__dict__ for c in clips], "tables": tables})


if __name__ == "__main__":
    main()
