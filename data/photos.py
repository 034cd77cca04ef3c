"""Incident photos: decoded and re-encoded before they are stored, never trusted by their bytes.

A phone's upload is opened with Pillow, which must recognise a whole JPEG or PNG (HTML after a
PNG signature, a polyglot or a truncated file is refused); its size is read from the header and
refused above ``MAX_PIXELS`` or ``MAX_SIDE`` before any pixel is decoded (a 50,000 × 50,000 PNG
costs nothing to refuse); it is then decoded (JPEGs in draft mode, at a reduced scale when they
are larger than needed), turned upright by its EXIF orientation, scaled to at most
``STORED_SIDE`` pixels a side and written anew: the stored file holds pixels only, no metadata
(no GPS position of a resident's home, no camera serial), no trailing bytes. What is served is
therefore exactly a JPEG or PNG this server wrote, with a fixed content type.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024      # an upload larger than this is refused unread (413)
MAX_PIXELS = 40_000_000           # width × height from the header; more is refused (422)
MAX_SIDE = 12_000                 # pixels on the longer side from the header; more is refused
STORED_SIDE = 4096                # what is kept: plenty to read a licence plate or a crack
JPEG_QUALITY = 85
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}
SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}


class PhotoError(ValueError):
    """An upload refused, with the HTTP status and code to answer and a message for the sender."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Photo:
    """A re-encoded photo ready to store."""

    content_type: str
    data: bytes
    width: int
    height: int


def reencode(raw: bytes) -> Photo:
    """Decode ``raw`` (JPEG or PNG) within the limits and write it anew; ``PhotoError`` otherwise."""
    if not raw:
        raise PhotoError(422, "empty_photo", "send the image bytes as the body")
    if len(raw) > MAX_BYTES:
        raise PhotoError(413, "payload_too_large", f"photos are limited to {MAX_BYTES // (1024 * 1024)} MB")
    declared = next((fmt for magic, fmt in SIGNATURES.items() if raw.startswith(magic)), None)
    if declared is None:
        raise PhotoError(422, "not_an_image", "JPEG or PNG only")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img: Image.Image = Image.open(io.BytesIO(raw), formats=[declared])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise PhotoError(422, "image_too_large", f"too many pixels: at most {MAX_PIXELS // 1_000_000} "
                                                     "megapixels") from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise PhotoError(422, "not_an_image", f"not a readable {declared} image ({type(exc).__name__})") from None
        width, height = img.size
        if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
            raise PhotoError(422, "image_too_large",
                             f"{width} × {height} pixels is too large: at most {MAX_PIXELS // 1_000_000} "
                             f"megapixels and {MAX_SIDE} pixels a side")
        try:
            if declared == "JPEG":
                img.draft("RGB", (STORED_SIDE, STORED_SIDE))  # decode at 1/2, 1/4 or 1/8 scale when it can
            img.load()
            img = ImageOps.exif_transpose(img)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError,
                Image.DecompressionBombWarning, MemoryError) as exc:
            raise PhotoError(422, "not_an_image", f"the {declared} image is damaged ({type(exc).__name__})") from None
    img.thumbnail((STORED_SIDE, STORED_SIDE))
    out = io.BytesIO()
    if declared == "JPEG":
        img.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        if img.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
            img = img.convert("RGBA")
        img.save(out, "PNG")
    if out.tell() > MAX_BYTES:  # a noisy PNG can grow; the table holds at most MAX_BYTES a photo
        raise PhotoError(413, "payload_too_large", "the image is too large once re-encoded: send it as a JPEG")
    return Photo(FORMATS[declared], out.getvalue(), img.width, img.height)
