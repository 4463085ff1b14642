"""Give WeasyPrint the PDF image of the mayor's seal made once, not once per certificate.

For an image with an alpha channel (the mayor's seal 職印, a registered seal impression) every
PDF WeasyPrint writes decodes the PNG, splits colour from alpha and encodes both again as PNG
(`weasyprint.images.RasterImage.get_x_object`): ≈ 7 ms of a page's CPU for the 360 × 360
seal, the same bytes for every certificate. `install()` makes that method keep, for the last
`KEPT` such images, the finished image streams' bytes, and answer the next PDF that draws the
same image with new stream objects (each PDF numbers its own) holding those very bytes.

An image is the same image when its bytes are: the cache is keyed by their SHA-256, not by
WeasyPrint's id for the image (an MD5 of its URL, which two crafted seal images could share).
Only images WeasyPrint holds in memory (data URIs, as certificates use) are kept; one read from
a file, and one without alpha (the QR code, different on every certificate), is made as before.
Nothing changes in the PDF: `tests/unit/certificates/test_cert_image_cache.py` compares the
streams with WeasyPrint's own.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Final

KEPT: Final = 16
ALPHA_MODES: Final = frozenset({"RGBA", "LA"})

_lock = threading.Lock()
_kept: OrderedDict[tuple[bytes, str, bool, float], Any] = OrderedDict()
_made = 0
_installed = False


def streams_made() -> int:
    """How many alpha images' streams have been made (not answered from the cache)."""
    return _made


def kept() -> int:
    """How many images' streams are kept now (at most `KEPT`)."""
    with _lock:
        return len(_kept)


def _as_bytes(stream: Any) -> Any:
    """A stream whose data are plain bytes (WeasyPrint's refer to a per-document cache)."""
    import pydyf  # type: ignore[import-untyped]

    extra = pydyf.Dictionary(stream.extra)
    for key, value in extra.items():
        if isinstance(value, pydyf.Stream):
            extra[key] = _as_bytes(value)
    data = b"\n".join(item if isinstance(item, bytes) else item.data for item in stream.stream)
    return pydyf.Stream([data], extra)


def fresh(stream: Any) -> Any:
    """New stream objects (a PDF numbers the objects it holds) over the same bytes."""
    import pydyf

    extra = pydyf.Dictionary(stream.extra)
    for key, value in extra.items():
        if isinstance(value, pydyf.Stream):
            extra[key] = fresh(value)
    return pydyf.Stream(list(stream.stream), extra)


def install() -> None:
    """Wrap `RasterImage.get_x_object` (once per process)."""
    global _installed
    from weasyprint.images import LazyImage, RasterImage  # type: ignore[import-untyped]

    with _lock:
        if _installed:
            return
        original = RasterImage.get_x_object

        def get_x_object(image: Any, interpolate: bool, dpi_ratio: float) -> Any:
            global _made
            if image.mode not in ALPHA_MODES or not isinstance(image.image_data, LazyImage):
                return original(image, interpolate, dpi_ratio)
            digest = hashlib.sha256(image.image_data.data).digest()
            key = (digest, str(image.mode), bool(interpolate), float(dpi_ratio))
            with _lock:
                kept = _kept.get(key)
                if kept is not None:
                    _kept.move_to_end(key)
                    return fresh(kept)
            made = _as_bytes(original(image, interpolate, dpi_ratio))
            with _lock:
                _made += 1
                _kept[key] = made
                while len(_kept) > KEPT:
                    _kept.popitem(last=False)
            return fresh(made)

        get_x_object.__wrapped__ = original  # type: ignore[attr-defined]
        RasterImage.get_x_object = get_x_object
        _installed = True
