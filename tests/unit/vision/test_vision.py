"""OCR of frames (blank, huge, normal), the avatar's face and mouth, page/screen messages."""

from __future__ import annotations

import asyncio
import shutil

import numpy as np
import pytest
from livekit import rtc
from livekit.agents.voice.avatar import AudioSegmentEnd
from PIL import Image, ImageDraw, ImageFont

from navan_voice.vision.avatar import (
    MOUTH_LEVELS,
    FaceVideoGenerator,
    draw_faces,
    local_avatar_options,
    mouth_level,
)
from navan_voice.vision.context import page_message_text, screen_message_text
from navan_voice.vision.ocr import is_blank, read_text, shrink, tidy
from navan_voice.vision.screen import fingerprint, looks_different

pytestmark = pytest.mark.unit
needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="no tesseract")


def booking_error(width: int = 1280, height: int = 720) -> np.ndarray:
    img = Image.new("RGB", (1280, 720), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=44)
    draw.text((80, 150), "Booking error", fill="red", font=font)
    draw.text((80, 300), "Payment declined for hotel HTL-48213", fill="black", font=font)
    return np.asarray(img.resize((width, height)))


def test_blank_frames_are_not_read() -> None:
    assert is_blank(np.zeros((720, 1280, 3), np.uint8))
    assert is_blank(np.full((10, 10, 3), 200, np.uint8))
    assert is_blank(np.zeros((0, 0, 3), np.uint8))
    assert read_text(np.zeros((2160, 3840, 3), np.uint8)) == ""
    assert not is_blank(booking_error())


def test_huge_frame_is_shrunk_before_ocr() -> None:
    image = shrink(np.zeros((4320, 7680, 3), np.uint8))
    assert image.width <= 1600 and image.height <= 1200


def test_tidy_drops_noise_and_bounds_length() -> None:
    assert tidy("  Booking   error \n\n|\n x y ") == "Booking error\nx y"
    assert len(tidy("word " * 2000)) == 2000


@needs_tesseract
def test_ocr_reads_a_booking_error_at_any_size() -> None:
    for size in ((1280, 720), (7680, 4320)):
        text = read_text(booking_error(*size))
        assert "Booking error" in text and "HTL-48213" in text


def test_fingerprint_ignores_noise_but_sees_a_new_page() -> None:
    a = booking_error()
    noisy = np.clip(a.astype(np.int16) + np.random.default_rng(1).integers(-8, 9, a.shape), 0, 255)
    assert not looks_different(fingerprint(a), fingerprint(noisy.astype(np.uint8)))
    assert looks_different(fingerprint(a), fingerprint(np.zeros_like(a)))
    assert looks_different(None, fingerprint(a))


def test_mouth_opens_with_loudness() -> None:
    assert mouth_level(np.zeros(1600, np.int16)) == 0
    loud = (np.sin(np.arange(1600) / 5) * 20000).astype(np.int16)
    assert mouth_level(loud) == MOUTH_LEVELS - 1
    faces = draw_faces(64)
    assert len(faces) == MOUTH_LEVELS and len(set(faces)) == MOUTH_LEVELS


async def test_face_generator_pairs_video_with_audio() -> None:
    options = local_avatar_options()
    gen = FaceVideoGenerator(options)
    samples = (np.sin(np.arange(2400) / 4) * 15000).astype(np.int16)
    await gen.push_audio(rtc.AudioFrame(samples.tobytes(), 24000, 1, 2400))
    await gen.push_audio(AudioSegmentEnd())
    out: list[object] = []
    it = gen.__aiter__()
    while not any(isinstance(o, AudioSegmentEnd) for o in out):
        out.append(await asyncio.wait_for(it.__anext__(), 2))
    video = [o for o in out if isinstance(o, rtc.VideoFrame)]
    audio = [o for o in out if isinstance(o, rtc.AudioFrame)]
    assert len(audio) == len(video) == 2  # 1/15 s chunks: one full, one flushed remainder
    assert video[-1].data.tobytes() != draw_faces()[0]  # mouth open while it speaks
    gen.clear_buffer()


def test_context_messages() -> None:
    assert screen_message_text(None) is None
    assert "no readable text" in (screen_message_text("") or "")
    assert "Booking error" in (screen_message_text("Booking error") or "")
    text = page_message_text({"trip": "NVN7Q2", "huge": "x" * 5000})
    assert "NVN7Q2" in text and len(text) < 400
