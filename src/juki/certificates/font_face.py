"""Subset IPAmj明朝 from a face HarfBuzz prepared once per process, not from scratch per PDF.

WeasyPrint embeds only the glyphs a certificate uses: for every PDF it asks HarfBuzz to
subset the whole font (≈ 61 000 glyphs, 46 MB). Each such call first builds, from the whole
font, the tables and accelerators a subset is cut from — the same work every time, ≈ 45 ms
of a page on this machine kind, more than any other fixed cost of a certificate.
HarfBuzz (≥ 6.0) can do that work once: `hb_subset_preprocess` returns a face that carries it,
and a subset taken from that face is byte for byte the subset taken from the font itself
(`tests/unit/certificates/test_cert_font_face.py` compares them), in ≈ 6 ms.

`install()` hands WeasyPrint's PDF font code a view of HarfBuzz's subset library in which
`hb_subset_or_fail` on a whole font of at least `MIN_PREPARED_BYTES` starts from the prepared
face of that font; everything else (the second, small pass WeasyPrint makes over the subset,
any other font) goes to HarfBuzz unchanged. Preparing costs ≈ 0.6 s and ≈ 55 MB once per
process. Like `font_blob`, the cache holds one font, keyed by the font's blob, and keeps a
HarfBuzz reference to that blob and to the face, so neither can be freed and its address
reused by another font while the key is cached. A HarfBuzz without `hb_subset_preprocess`
leaves WeasyPrint as it was.
"""

from __future__ import annotations

import threading
from typing import Any, Final

MIN_PREPARED_BYTES: Final = 4 * 1024 * 1024
PREPROCESS_DECL: Final = "hb_face_t * hb_subset_preprocess (hb_face_t *source);"

_lock = threading.Lock()
_held: dict[tuple[int, int], tuple[Any, Any, Any]] = {}  # key -> (blob, face, prepared); ≤ 1
_prepared = 0
_installed = False


def faces_prepared() -> int:
    """How many times a whole font has been prepared since the process started."""
    return _prepared


def held_face() -> Any:
    """The whole font's face whose prepared face is held now, if any."""
    with _lock:
        return next((face for _blob, face, _prepared in _held.values()), None)


class PreparedSubsetter:
    """HarfBuzz's subset library, except that a whole font is subset from its prepared face."""

    def __init__(self, subset_lib: Any, harfbuzz: Any, ffi: Any) -> None:
        self.library = subset_lib  # HarfBuzz's own, for a caller that wants it unprepared
        self._lib = subset_lib
        self._hb = harfbuzz
        self._ffi = ffi

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lib, name)

    def hb_subset_or_fail(self, face: Any, subset_input: Any) -> Any:
        return self._lib.hb_subset_or_fail(self.prepared(face), subset_input)

    def prepared(self, face: Any) -> Any:
        """The prepared face for a whole font (made on first use), or `face` itself."""
        global _prepared
        hb, ffi = self._hb, self._ffi
        blob = hb.hb_face_reference_blob(face)
        with ffi.new("unsigned int *") as length:
            data = hb.hb_blob_get_data(blob, length)
            size = int(length[0])
        if data == ffi.NULL or size < MIN_PREPARED_BYTES:
            hb.hb_blob_destroy(blob)
            return face
        key = (int(ffi.cast("uintptr_t", data)), size)
        with _lock:
            held = _held.get(key)
            if held is not None:
                hb.hb_blob_destroy(blob)
                return held[2]
            for old_blob, old_face, old_prepared in _held.values():
                hb.hb_face_destroy(old_prepared)
                hb.hb_face_destroy(old_face)
                hb.hb_blob_destroy(old_blob)
            _held.clear()
            prepared = self._lib.hb_subset_preprocess(face)
            if prepared == ffi.NULL:
                hb.hb_blob_destroy(blob)
                return face
            # Keep `blob` and `face` referenced: the key's memory stays this font's while cached.
            _held[key] = (blob, hb.hb_face_reference(face), prepared)
            _prepared += 1
            return prepared


def install() -> None:
    """Route WeasyPrint's subsetting of a whole font through its prepared face (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
        from weasyprint.pdf import fonts as pdf_fonts  # type: ignore[import-untyped]
        from weasyprint.text.ffi import ffi, harfbuzz  # type: ignore[import-untyped]

        subset_lib = pdf_fonts.harfbuzz_subset
        if not subset_lib or not _declared(ffi, subset_lib):
            return
        pdf_fonts.harfbuzz_subset = PreparedSubsetter(subset_lib, harfbuzz, ffi)


def _declared(ffi: Any, subset_lib: Any) -> bool:
    """Whether `hb_subset_preprocess` can be called (declared here if WeasyPrint did not)."""
    for attempt in range(2):
        try:
            subset_lib.hb_subset_preprocess  # noqa: B018 - raises when undeclared or absent
        except AttributeError:
            if attempt:
                return False  # HarfBuzz < 6.0: no such function
            ffi.cdef(PREPROCESS_DECL)
        else:
            return True
    return False
