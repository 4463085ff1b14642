"""Draw a certificate: HTML/CSS templates laid out by WeasyPrint as an A4 PDF in IPAmj明朝.

WeasyPrint shapes text with HarfBuzz, so a name written with an Ideographic Variation Sequence
(葛 + U+E0102) is drawn with the variant glyph the font maps it to, where reportlab would draw
a box (STACK-NOTES). Each copy is laid out as its own document so its page footer carries its
own issue number and its own page/total; the copies are then written as one PDF that embeds the
certificate document (`certificate.json`) the digest covers.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
import random
import threading
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any, Final

from juki.certificates.codes import verification_code
from juki.certificates.document import canonical_json
from juki.certificates.font_blob import install as install_shared_font_copies
from juki.certificates.font_face import install as install_prepared_font_face
from juki.certificates.fonts import find_ipamj
from juki.certificates.image_cache import install as install_image_cache
from juki.certificates.model import CertificateContent, Issuance, Line
from juki.core.era import to_wareki

DOCUMENT_NAME: Final = "certificate.json"
# Items printed across the full width of a row; the others are paired two to a row.
WIDE_KEYS: Final = frozenset(
    {
        "address",
        "previous_address",
        "move_out_planned",
        "move_out_confirmed",
        "honseki",
        "alias_name",
        "householder",
    }
)
SEAL_RED: Final = (196, 24, 36, 235)
# The QR code's mask (ISO/IEC 18004 pattern 2, `j mod 3 = 0`), fixed instead of searched: any
# mask makes a valid code (its number is in the code's format bits), and searching all eight
# cost ≈ 10 ms of a page's CPU. Pattern 2 has the lowest penalty score, on average and at worst,
# over sixty verification URLs of this length.
QR_MASK: Final = 2


def verification_url(issuance: Issuance, digest: str) -> str:
    """The QR code's target: the municipality's public verification page (its public base URL,
    never a node's mutual-TLS address), with the id and the full digest a phone need not type."""
    return f"{issuance.verify_base_url}/verify/{issuance.certificate_id}?d={digest}"


def _data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def qr_png(text: str) -> bytes:
    """The QR code as a 1-bit PNG, one pixel per module (drawn without smoothing).

    A PNG, not an SVG: WeasyPrint draws an SVG QR code path by path, which cost more than
    the rest of the page. The mask is fixed (`QR_MASK`).
    """
    import qrcode  # type: ignore[import-untyped]
    from PIL import Image

    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, border=2, mask_pattern=QR_MASK
    )
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    image = Image.new("1", (size, size), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def mayor_seal_png(municipality_name: str, font_path: Path, size: int = 360) -> bytes:
    """A plausible square official seal (職印): 「稲城市長之印」 in columns read right to left.

    Generated, never committed: it is a picture of the mayor's seal, not a security feature —
    the electronic signature is what makes the certificate verifiable.
    """
    from PIL import Image, ImageDraw, ImageFont

    text = f"{municipality_name}長之印"
    cols = max(2, math.ceil(math.sqrt(len(text))))
    rows = math.ceil(len(text) / cols)
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    border = size // 16
    draw.rectangle(
        (border // 2, border // 2, size - border // 2, size - border // 2),
        outline=SEAL_RED,
        width=border,
    )
    inner = size - 3 * border
    cell_w, cell_h = inner / cols, inner / rows
    font = ImageFont.truetype(str(font_path), int(min(cell_w, cell_h) * 0.92))
    for index, char in enumerate(text):
        col, row = divmod(index, rows)
        x = size - 1.5 * border - (col + 0.5) * cell_w
        y = 1.5 * border + (row + 0.5) * cell_h
        draw.text((x, y), char, font=font, fill=SEAL_RED, anchor="mm", stroke_width=size // 90)
    # Worn ink: knock out a few specks, the same ones every time for one municipality.
    rng = random.Random(hashlib.sha256(text.encode()).digest())
    pixels = image.load()
    assert pixels is not None
    for _ in range(size * 6):
        px, py = rng.randrange(size), rng.randrange(size)
        pixels[px, py] = (0, 0, 0, 0)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def paired(lines: Sequence[Line]) -> list[list[Line]]:
    """Rows of the item table: wide items alone, the rest two by two, in their order."""
    rows: list[list[Line]] = []
    pending: Line | None = None
    for line in lines:
        if line.key in WIDE_KEYS:
            if pending is not None:
                rows.append([pending])
                pending = None
            rows.append([line])
        elif pending is None:
            pending = line
        else:
            rows.append([pending, line])
            pending = None
    if pending is not None:
        rows.append([pending])
    return rows


class CertificateRenderer:
    """Lays out certificates; one instance per process, shared by every request.

    WeasyPrint's font configuration is not documented as thread-safe, and layout is CPU-bound
    Python anyway, so renders are serialised with a lock: concurrency costs nothing here and no
    state of one certificate can reach another.
    """

    def __init__(self, *, font_path: Path | None = None) -> None:
        from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

        self._env = Environment(
            loader=PackageLoader("juki.certificates", "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
        )
        self._env.filters["paired"] = paired
        self._font_path = font_path or find_ipamj()
        self._lock = threading.Lock()
        self._mayor_seals: dict[str, str] = {}
        self._font_config: Any = None
        self._stylesheet: Any = None

    def mayor_seal_uri(self, municipality_name: str) -> str:
        uri = self._mayor_seals.get(municipality_name)
        if uri is None:
            uri = _data_uri("image/png", mayor_seal_png(municipality_name, self._font_path))
            self._mayor_seals[municipality_name] = uri
        return uri

    def html(
        self,
        content: CertificateContent,
        issuance: Issuance,
        digest: str,
        *,
        copy_index: int = 0,
        seal_png: bytes | None = None,
        municipality_name: str,
    ) -> str:
        template = self._env.get_template("certificate.html")
        return template.render(
            content=content,
            issuance=issuance,
            digest=digest,
            verification_code=verification_code(digest),
            issue_number=issuance.issue_numbers[copy_index],
            copy_no=copy_index + 1,
            qr_uri=_data_uri("image/png", qr_png(verification_url(issuance, digest))),
            mayor_seal_uri=self.mayor_seal_uri(municipality_name),
            seal_uri=_data_uri("image/png", seal_png) if seal_png else None,
            issued_date_ja=to_wareki(issuance.issued_date),
        )

    def render(
        self,
        content: CertificateContent,
        issuance: Issuance,
        digest: str,
        *,
        seal_png: bytes | None = None,
        municipality_name: str,
    ) -> bytes:
        """An unsigned PDF with every copy, each with its own issue number on every page."""
        if content.seal_sha256 is not None and (
            seal_png is None or hashlib.sha256(seal_png).hexdigest() != content.seal_sha256
        ):
            raise ValueError("the seal impression does not match the content's digest of it")
        from weasyprint import CSS, HTML, Attachment  # type: ignore[import-untyped]
        from weasyprint.text.fonts import FontConfiguration  # type: ignore[import-untyped]

        pages_html = [
            self.html(
                content,
                issuance,
                digest,
                copy_index=k,
                seal_png=seal_png,
                municipality_name=municipality_name,
            )
            for k in range(len(issuance.issue_numbers))
        ]
        document_json = canonical_json(content, issuance)
        with self._lock:
            if self._font_config is None:
                install_shared_font_copies()
                install_prepared_font_face()
                install_image_cache()
                self._font_config = FontConfiguration()
                css = files("juki.certificates").joinpath("templates/certificate.css")
                self._stylesheet = CSS(string=css.read_text("utf-8"), font_config=self._font_config)
            documents = [
                HTML(string=page_html).render(
                    font_config=self._font_config, stylesheets=[self._stylesheet]
                )
                for page_html in pages_html
            ]
            combined = documents[0].copy([page for doc in documents for page in doc.pages])
            attachment = Attachment(
                string=document_json,
                name=DOCUMENT_NAME,
                description="juki certificate document (the signed content)",
            )
            pdf: bytes = combined.write_pdf(attachments=[attachment])
        return pdf
