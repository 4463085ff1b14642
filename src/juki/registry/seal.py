"""印鑑登録: one live registered seal per person, with its impression (印影) as a PNG image."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from PIL import Image, UnidentifiedImageError

from juki.core.errors import ValidationError

MAX_IMAGE_BYTES: Final = 1024 * 1024
MIN_SIDE_PX: Final = 32
MAX_SIDE_PX: Final = 2000
PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"


class SealStatus(StrEnum):
    LIVE = "live"
    ABOLISHED = "abolished"  # 廃止: never certified again


@dataclass(frozen=True, slots=True)
class SealRegistration:
    registration_number: str
    record_id: str
    image_png: bytes
    image_sha256: str
    registered_on: date
    status: SealStatus = SealStatus.LIVE
    abolished_on: date | None = None
    abolish_reason: str | None = None

    @property
    def is_live(self) -> bool:
        return self.status is SealStatus.LIVE


def _bad_image(rule: str, en: str, ja: str) -> ValidationError:
    return ValidationError("image_png", rule, en, ja)


def validate_seal_image(data: bytes) -> str:
    """Check the impression is a well-formed PNG of sensible size; return its SHA-256."""
    if len(data) > MAX_IMAGE_BYTES:
        raise _bad_image(
            "max_size",
            f"seal image is {len(data)} bytes; at most {MAX_IMAGE_BYTES}",
            f"印影画像は{MAX_IMAGE_BYTES // 1024}KiB以下にしてください",
        )
    if not data.startswith(PNG_SIGNATURE):
        raise _bad_image("png", "seal image must be a PNG file", "印影画像はPNG形式にしてください")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            width, height = img.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _bad_image(
            "png", f"seal image is not a readable PNG: {exc}", "印影画像を読み取れません"
        ) from exc
    if not (MIN_SIDE_PX <= width <= MAX_SIDE_PX and MIN_SIDE_PX <= height <= MAX_SIDE_PX):
        raise _bad_image(
            "dimensions",
            f"seal image is {width}×{height} px; each side must be {MIN_SIDE_PX}–{MAX_SIDE_PX}",
            f"印影画像の大きさは各辺{MIN_SIDE_PX}〜{MAX_SIDE_PX}ピクセルにしてください",
        )
    return hashlib.sha256(data).hexdigest()
