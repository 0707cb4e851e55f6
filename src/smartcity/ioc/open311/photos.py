"""Photos of citizen reports: checked, cleaned, stored under a content-hash name, served back.

A photo is accepted when it is at most ``SMARTCITY_MAX_PHOTO_BYTES``, its first bytes are those of a JPEG, PNG or
WebP file (whatever name or type the client gave it), and Pillow decodes it whole within :data:`MAX_PIXELS`.
It is then re-encoded in the same format without its metadata, so that the EXIF position, time and camera of
the citizen's phone are never published. The stored name is the SHA-256 of the stored bytes plus the extension:
the same photo twice is stored once, and a name can be checked against a strict pattern before any file access.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from smartcity.ioc.open311.errors import InvalidInput

log = logging.getLogger(__name__)

MAX_PIXELS = 40_000_000  # about 7,300 x 5,500: any phone camera
MIN_SIDE = 16
NAME = re.compile(r"^[0-9a-f]{64}\.(jpg|png|webp)$")
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
_PIL_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}


def sniff(data: bytes) -> str | None:
    """``jpg``, ``png`` or ``webp`` from the file's magic bytes, else None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


@dataclass(frozen=True)
class Photo:
    name: str
    content_type: str
    size: int


def clean(data: bytes, limit: int) -> tuple[bytes, str]:
    """The photo re-encoded without metadata, and its extension; InvalidInput for anything else."""
    if not data:
        raise InvalidInput("media is empty")
    if len(data) > limit:
        raise InvalidInput(f"media is too large: a photo may be at most {limit} bytes")
    kind = sniff(data)
    if kind is None:
        raise InvalidInput("media must be a JPEG, PNG or WebP photo")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[kind]]) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise InvalidInput("media has too many pixels")
                if min(width, height) < MIN_SIDE:
                    raise InvalidInput("media is too small to be a photo")
                image.load()
                upright = ImageOps.exif_transpose(image)
                out = io.BytesIO()
                if kind == "jpg":
                    upright.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
                elif kind == "png":
                    upright.save(out, "PNG", optimize=True)
                else:
                    upright.save(out, "WEBP", quality=85)
    except InvalidInput:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning):
        raise InvalidInput("media is not a readable JPEG, PNG or WebP photo") from None
    cleaned = out.getvalue()
    if len(cleaned) > limit:  # a re-encoding larger than the limit: keep the limit's promise
        raise InvalidInput(f"media is too large: a photo may be at most {limit} bytes")
    return cleaned, kind


class MediaStore:
    """Photos on disk under ``SMARTCITY_MEDIA_DIR`` (created on first use)."""

    def __init__(self, directory: str, limit: int) -> None:
        self.directory = Path(directory)
        self.limit = limit

    def put(self, data: bytes) -> Photo:
        cleaned, kind = clean(data, self.limit)
        name = f"{hashlib.sha256(cleaned).hexdigest()}.{kind}"
        path = self.directory / name
        if not path.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(cleaned)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        return Photo(name, CONTENT_TYPES[kind], len(cleaned))

    def path_of(self, name: str) -> Path | None:
        """The stored file of a name, or None (an invalid name is never looked up)."""
        if not NAME.match(name):
            return None
        path = self.directory / name
        return path if path.is_file() else None

    def content_type(self, name: str) -> str:
        return CONTENT_TYPES[name.rsplit(".", 1)[-1]]
