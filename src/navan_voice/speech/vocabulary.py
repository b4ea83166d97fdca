"""The words a travel caller is likely to say, given to the local Whisper as hints.

Whisper tiny.en mishears rare words on narrowband phone audio ("Boston" -> "of us the", "expense"
-> "X-10"); text placed before the audio as previous speech (faster-whisper's ``hotwords``)
makes these words likelier without forcing them. bench/telephony/REPORT.md has the measurements.
"""

from __future__ import annotations

from navan_voice.speech.dialogue.slots import CITY_AIRPORTS

TRAVEL_WORDS = (
    "Navan travel support call about a flight, hotel, rental car, booking, reservation, "
    "confirmation code, cancel, refund, upgrade, seat, expense report, travel policy."
)
BUILT_IN = "travel"  # the setting's value that selects the words above and the known cities


def travel_hints() -> str:
    """The travel words and the cities the dialogue engine knows (about 90 tokens)."""
    cities = ", ".join(city.title() for city in CITY_AIRPORTS)
    return f"{TRAVEL_WORDS} Cities: {cities}."


def resolve_hints(setting: str) -> str:
    """The hint text for a setting: ``"travel"`` the built-in list, ``""`` none, else as is."""
    value = setting.strip()
    return travel_hints() if value == BUILT_IN else value
