"""Card numbers, CVV and expiry out of text and logs."""

from __future__ import annotations

import logging

import pytest

from navan_voice.recording.redaction import (
    CARD,
    CVV,
    EXPIRY,
    RedactingFilter,
    install_log_redaction,
    luhn_valid,
    redact,
    redact_value,
)

pytestmark = pytest.mark.unit

VISA = "4111111111111111"


@pytest.mark.parametrize(
    ("digits", "valid"),
    [
        (VISA, True),
        ("4111111111111112", False),
        ("378282246310005", True),  # Amex, 15
        ("4222222222222", True),  # 13-digit Visa
        ("6011111111111117", True),
        ("0", True),
        ("", False),
        ("41a1", False),
    ],
)
def test_luhn(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


@pytest.mark.parametrize(
    "spoken",
    [
        "my card is 4111111111111111 thanks",
        "my card is 4111 1111 1111 1111 thanks",
        "my card is 4111-1111-1111-1111 thanks",
        "my card is 4111.1111.1111.1111 thanks",
        "my card is four one one one one one one one one one one one one one one one thanks",
        "my card is Four One One One, one one one one, one one one one, one one one one thanks",
        "my card is four one double one one one one one one one one one one one one one thanks",
        "my card is 4111 one one one one 1111 1111 thanks",
        "my card is 3782 822463 10005 thanks",
        "my card is 4222222222222 thanks",
    ],
)
def test_cards_redacted(spoken: str) -> None:
    out = redact(spoken)
    assert out == f"my card is {CARD} thanks", out


def test_card_in_longer_run_and_neighbours_kept() -> None:
    out = redact(f"ref 12 then {VISA} and flight 1234")
    assert CARD in out and "1111" not in out
    assert out.startswith("ref 12 then ") and out.endswith(" and flight 1234")


@pytest.mark.parametrize(
    "text",
    [
        "my card is 4111 1111 1111 1112",  # fails Luhn
        "call me on +1 415 555 0123",  # a phone number: 11 digits
        "confirmation 123456789012",  # 12 digits
        "that is one or two bags for two people",
        "booking 41111111111111111111111",  # 23 digits, longer than any card
    ],
)
def test_not_cards(text: str) -> None:
    assert CARD not in redact(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the CVV is 123", f"the CVV is {CVV}"),
        ("security code: 4321.", f"security code: {CVV}."),
        ("cvc one two three", f"cvc {CVV}"),
        ("it expires 04/27", f"it expires {EXPIRY}"),
        ("expiry date is 04 2027", f"expiry date is {EXPIRY}"),
        ("exp oh four twenty seven", f"exp {EXPIRY}"),
        ("expiration 12-29 ok", f"expiration {EXPIRY} ok"),
    ],
)
def test_cvv_and_expiry(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_plain_text_unchanged() -> None:
    text = "I'd like to move my flight to Friday the 12th at 4 pm."
    assert redact(text) == text
    assert redact("") == ""


def test_redact_value_nested() -> None:
    value = {"note": f"card {VISA}", "items": [f"{VISA}", 3], "n": 4111111111111111}
    out = redact_value(value)
    assert out["note"] == f"card {CARD}" and out["items"] == [CARD, 3]
    assert out["n"] == 4111111111111111  # numbers are not text; tags() refuses them as cards


def test_filter_redacts_args(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("test.redaction.filter")
    log.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger="test.redaction.filter"):
        log.info("caller said %s", "4111 1111 1111 1111, cvv 737")
    assert "1111" not in caplog.text and "737" not in caplog.text
    assert CARD in caplog.text


def test_install_covers_every_logger(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    install_log_redaction()  # idempotent
    with caplog.at_level(logging.INFO):
        logging.getLogger("livekit.agents.somewhere").info("user: %s", f"it's {VISA}")
    assert VISA not in caplog.text and CARD in caplog.text
