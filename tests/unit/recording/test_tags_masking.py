"""Tag bounding and caller-number masking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from navan_voice.recording.masking import mask_phone
from navan_voice.recording.tags import MAX_TAGS, MAX_VALUE_BYTES, clean_key, tag, tags_of

pytestmark = pytest.mark.unit


@dataclass
class State:
    tags: dict[str, Any] = field(default_factory=dict)


@dataclass
class Holder:
    userdata: State


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+14155550123", "+1415•••0123"),
        ("+1 (415) 555-0123", "+1415•••0123"),
        ("14155550123", "1415•••0123"),
        ("+4420794600", "+4420•••4600"),
        ("5550123", "•••23"),
        ("", ""),
        (None, ""),
        ("anonymous", ""),
    ],
)
def test_mask_phone(number: str | None, masked: str) -> None:
    assert mask_phone(number) == masked


def test_tag_on_state_and_on_userdata_holder() -> None:
    state = State()
    assert tag(state, "refund_requested", {"amount_cents": 18900})
    assert tag(Holder(state), "VIP Caller!", True)
    assert state.tags == {"refund_requested": {"amount_cents": 18900}, "vip_caller": True}
    assert tags_of(Holder(state)) is state.tags


def test_tag_strips_control_chars_and_redacts() -> None:
    state = State()
    tag(state, "note\x00\x1b[31m", "line\nbreak\x07 \u202e card 4111 1111 1111 1111")
    assert list(state.tags) == ["note_31m"]
    value = state.tags["note_31m"]
    assert "\x07" not in value and "\u202e" not in value and "\n" not in value
    assert "[card number]" in value and "1111 1111" not in value


def test_tag_huge_and_nested_values_are_bounded() -> None:
    state = State()
    tag(state, "huge", "x" * 100_000)
    assert len(state.tags["huge"]) == 500
    deep: Any = {"a": {"b": {"c": {"d": {"e": 1}}}}}
    tag(state, "deep", deep)
    assert isinstance(state.tags["deep"]["a"]["b"]["c"], str)
    tag(state, "wide", {f"k{i}": "y" * 400 for i in range(100)})
    assert isinstance(state.tags["wide"], str)  # too big as JSON: cut to text
    assert len(state.tags["wide"].encode()) <= MAX_VALUE_BYTES
    tag(state, "card_as_number", 4111111111111111)
    assert state.tags["card_as_number"] == "[card number]"
    tag(state, "nan", float("nan"))
    assert state.tags["nan"] == "nan"
    tag(state, "obj", object())
    assert isinstance(state.tags["obj"], str)


def test_tag_limits() -> None:
    state = State()
    assert not tag(state, "\x00\x01", 1)
    for i in range(MAX_TAGS):
        assert tag(state, f"t{i}", i)
    assert not tag(state, "one_too_many", 1)
    assert tag(state, "t0", "overwrite is fine")
    assert len(clean_key("k" * 500)) == 64


def test_tag_creates_tags_dict_or_says_what_to_pass() -> None:
    class Bare:
        pass

    bare = Bare()
    assert tag(bare, "x", 1)
    with pytest.raises(TypeError, match="call state"):
        tag(42, "x", 1)
