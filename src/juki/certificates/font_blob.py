"""Copy IPAmj明朝 into Python once per process, not once per certificate.

WeasyPrint (70) builds a `Font` for every document it writes, and its constructor copies the
whole font file out of HarfBuzz into a `bytes` object — 46 MB for IPAmj明朝 — only to replace it
a moment later with the subset it embeds. Allocating and filling 46 MB costs ≈ 17 ms of every
certificate (more under memory pressure), the largest fixed cost of a page after layout.

`install()` wraps WeasyPrint's `get_hb_object_data` as its PDF font code sees it: a request
for a whole font face of at least `MIN_SHARED_BYTES` returns the one copy made for that
HarfBuzz blob; everything else (subset output, colour glyphs) goes to WeasyPrint unchanged.
The cache keeps a HarfBuzz reference to the blob it copied, so the memory behind its key can be
neither freed nor reused for another font while the key is in the cache: a hit is always the
same bytes WeasyPrint would have copied, and the PDF does not change. It holds one font: each
`CertificateRenderer` has its own font configuration and so its own blob of the same file, and
a process normally has one renderer; a second one replaces the first's copy (no worse than
copying every time) instead of keeping 46 MB per renderer ever made.
"""

from __future__ import annotations

import threading
from typing import Any, Final

# The whole-font copies worth sharing; subset fonts (tens of kB) are left alone.
MIN_SHARED_BYTES: Final = 4 * 1024 * 1024

_lock = threading.Lock()
_held: dict[tuple[int, int], tuple[Any, bytes]] = {}  # at most one entry
_made = 0
_installed = False


def held_copy() -> bytes | None:
    """The whole font held now, if any."""
    with _lock:
        return next((content for _blob, content in _held.values()), None)


def copies_made() -> int:
    """How many times a whole font has been copied since the process started."""
    return _made


def install() -> None:
    """Route WeasyPrint's whole-font copies through the per-process cache (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        from weasyprint.pdf import fonts as pdf_fonts  # type: ignore[import-untyped]
        from weasyprint.text.ffi import ffi, harfbuzz  # type: ignore[import-untyped]

        original = pdf_fonts.get_hb_object_data

        def get_hb_object_data(
            hb_object: Any, ot_color: str | None = None, glyph: int | None = None
        ) -> bytes | None:
            global _made
            if ot_color is not None:
                return original(hb_object, ot_color, glyph)  # type: ignore[no-any-return]
            blob = harfbuzz.hb_face_reference_blob(hb_object)
            with ffi.new("unsigned int *") as length:
                data = harfbuzz.hb_blob_get_data(blob, length)
                size = int(length[0])
            if data == ffi.NULL or size < MIN_SHARED_BYTES:
                harfbuzz.hb_blob_destroy(blob)
                return original(hb_object)  # type: ignore[no-any-return]
            key = (int(ffi.cast("uintptr_t", data)), size)
            with _lock:
                held = _held.get(key)
                if held is None:
                    for old_blob, _content in _held.values():
                        harfbuzz.hb_blob_destroy(old_blob)
                    _held.clear()
                    # Keep `blob` referenced: its memory stays this font's while cached.
                    held = _held[key] = (blob, ffi.unpack(data, size))
                    _made += 1
                    return held[1]
            harfbuzz.hb_blob_destroy(blob)
            return held[1]

        pdf_fonts.get_hb_object_data = get_hb_object_data
        _installed = True
