"""Text on a shared screen, read by Debian's tesseract-ocr (through pytesseract).

Frames are RGB ``numpy`` arrays. Huge frames are scaled down before OCR, blank ones are not
sent to tesseract at all, and a slow OCR is cut off after ``timeout_s``.
"""

from __future__ import annotations

import logging
import re
import shutil

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from navan_voice.domain.errors import SetupError

logger = logging.getLogger(__name__)

MAX_OCR_WIDTH = 1600  # wider frames are scaled down (text stays readable, OCR stays fast)
MAX_OCR_HEIGHT = 1200
BLANK_STDDEV = 3.0  # a frame whose grey levels vary less than this has no text on it
MAX_TEXT_CHARS = 2000  # what the model is given at most

Frame = NDArray[np.uint8]


def is_blank(rgb: Frame) -> bool:
    """True for an empty, single-colour or near-single-colour frame."""
    if rgb.size == 0:
        return True
    step = max(1, max(rgb.shape[0], rgb.shape[1]) // 256)
    sample = rgb[::step, ::step].astype(np.float32)
    return bool(sample.std() < BLANK_STDDEV)


def shrink(rgb: Frame, max_w: int = MAX_OCR_WIDTH, max_h: int = MAX_OCR_HEIGHT) -> Image.Image:
    """The frame as a greyscale image no larger than ``max_w`` × ``max_h``."""
    image = Image.fromarray(rgb).convert("L")
    scale = min(1.0, max_w / image.width, max_h / image.height)
    if scale < 1.0:
        size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR)
    return image


def tidy(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """OCR output on one line per text line, blank lines dropped, cut to ``limit`` chars."""
    lines = [re.sub(r"\s+", " ", line).strip() for line in text.splitlines()]
    joined = "\n".join(line for line in lines if len(line) > 1)
    return joined[:limit]


def check_tesseract() -> None:
    """Raise SetupError when the tesseract program is missing."""
    if shutil.which("tesseract") is None:
        raise SetupError(
            "tesseract is not installed; run `make install` (Debian package tesseract-ocr) "
            "or set NAVAN_VISION_IMAGES=true with a vision-capable LLM"
        )


def read_text(rgb: Frame, *, timeout_s: float = 8.0) -> str:
    """The text tesseract reads on the frame ('' for a blank frame or when OCR fails)."""
    import pytesseract

    if rgb.ndim != 3 or is_blank(rgb):
        return ""
    check_tesseract()
    image = shrink(rgb)
    try:
        raw = pytesseract.image_to_string(image, lang="eng", config="--psm 3", timeout=timeout_s)
    except RuntimeError as e:  # pytesseract raises RuntimeError on timeout
        logger.warning("OCR of the shared screen gave up: %s", e)
        return ""
    except pytesseract.TesseractError as e:
        logger.warning("OCR of the shared screen failed: %s", e)
        return ""
    return tidy(str(raw))
