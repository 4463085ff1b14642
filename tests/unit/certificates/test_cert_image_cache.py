"""The mayor's seal as a PDF image is made once: the same streams as WeasyPrint's own, each PDF
its own stream objects, and images without alpha or from files made as before."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from juki.certificates import image_cache
from juki.certificates.fonts import find_ipamj
from juki.certificates.render import mayor_seal_png, qr_png


def _raster(png: bytes, image_id: str, *, filename: str | None = None) -> Any:
    from weasyprint.images import RasterImage  # type: ignore[import-untyped]

    return RasterImage(Image.open(io.BytesIO(png)), image_id, png, filename=filename)


def _bytes(stream: Any) -> tuple[bytes, bytes | None]:
    """A stream's serialised dictionary and data, and its soft mask's (as a PDF holds them)."""
    import pydyf  # type: ignore[import-untyped]

    mask = stream.extra.get("SMask")
    smask = None if mask is None else _bytes(mask)[0]
    extra = pydyf.Dictionary({k: v for k, v in stream.extra.items() if k != "SMask"})
    return extra.data + b"|" + stream.data, smask


def _original() -> Any:
    from weasyprint.images import RasterImage

    image_cache.install()
    return RasterImage.get_x_object.__wrapped__


def test_a_seal_is_made_once_into_the_streams_weasyprint_makes() -> None:
    seal = mayor_seal_png("稲城市", find_ipamj(), size=120)
    original = _original()
    own = _bytes(original(_raster(seal, "seal-a"), False, 1))
    made = image_cache.streams_made()
    first = _raster(seal, "seal-a").get_x_object(False, 1)
    second = _raster(seal, "seal-a").get_x_object(False, 1)
    assert image_cache.streams_made() == made + 1
    assert _bytes(first) == _bytes(second) == own
    assert own[1] is not None  # the alpha channel is its soft mask
    assert first is not second and first.extra["SMask"] is not second.extra["SMask"]


def test_a_different_seal_or_drawing_is_made_anew_even_under_the_same_id() -> None:
    original = _original()
    one = mayor_seal_png("稲城市", find_ipamj(), size=120)
    other = mayor_seal_png("多摩市", find_ipamj(), size=120)
    _raster(one, "seal-b").get_x_object(False, 1)
    made = image_cache.streams_made()
    # the same id as the first seal (WeasyPrint's MD5 of the URL, which could collide): the
    # bytes decide, so the other seal is drawn as itself
    assert _bytes(_raster(other, "seal-b").get_x_object(False, 1)) == _bytes(
        original(_raster(other, "seal-b"), False, 1)
    )
    _raster(one, "seal-b").get_x_object(True, 1)  # interpolated: another stream
    assert image_cache.streams_made() == made + 2


def test_images_without_alpha_or_from_files_are_not_kept(tmp_path: Path) -> None:
    _original()
    made = image_cache.streams_made()
    qr = qr_png("https://city.example.lg.jp/verify/x?d=00")
    _raster(qr, "qr").get_x_object(False, 1)
    seal = mayor_seal_png("稲城市", find_ipamj(), size=120)
    path = tmp_path / "seal.png"
    path.write_bytes(seal)
    _raster(seal, "file", filename=str(path)).get_x_object(False, 1)
    _raster(seal, "file", filename=str(path)).get_x_object(False, 1)
    assert image_cache.streams_made() == made


def test_only_the_last_few_images_are_kept() -> None:
    _original()
    for k in range(image_cache.KEPT + 3):
        seal = mayor_seal_png(f"市{k}", find_ipamj(), size=40)
        _raster(seal, f"many-{k}").get_x_object(False, 1)
    assert image_cache.kept() == image_cache.KEPT
