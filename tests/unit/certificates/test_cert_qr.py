"""The QR code with its fixed mask reads back, with a real decoder (zbar), as the URL it carries."""

from __future__ import annotations

import io
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pyzbar.pyzbar import decode  # type: ignore[import-untyped]

from juki.certificates.render import QR_MASK, qr_png

BASES = st.sampled_from(
    [
        "http://127.0.0.1:8000",
        "https://127.0.0.1:28003/registry",
        "https://www.city.inagi.example.lg.jp/juki",
    ]
)


def read(png: bytes) -> list[str]:
    """What a reader sees: each module three pixels wide, as a phone's camera would resolve it."""
    image = Image.open(io.BytesIO(png))
    large = image.resize((image.width * 3, image.height * 3), Image.Resampling.NEAREST)
    return [found.data.decode("utf-8") for found in decode(large.convert("L"))]


@settings(max_examples=40, deadline=None)
@given(BASES, st.uuids(), st.binary(min_size=32, max_size=32))
def test_the_qr_code_decodes_to_the_verification_url(
    base: str, certificate_id: uuid.UUID, digest: bytes
) -> None:
    url = f"{base}/verify/{certificate_id}?d={digest.hex()}"
    assert read(qr_png(url)) == [url]


def test_the_mask_is_the_fixed_one() -> None:
    """The format bits (next to the top-left finder) carry the mask: M level, pattern 2."""
    import qrcode  # type: ignore[import-untyped]

    expected = qrcode.util.BCH_type_info((qrcode.constants.ERROR_CORRECT_M << 3) | QR_MASK)
    ours = Image.open(io.BytesIO(qr_png("https://city.example.lg.jp/verify/x")))
    border = 2
    bits = [ours.getpixel((border + 8, border + row)) == 0 for row in (0, 1, 2, 3, 4, 5, 7, 8)]
    assert bits == [bool((expected >> i) & 1) for i in range(8)]
