"""What the PDF says, read back: each kind with and without each optional item, era and Western
dates, issue numbers per copy, and the IVS variant drawn as its own glyph."""

from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

import pypdfium2 as pdfium
import pytest
from pypdf import PdfReader

from juki.certificates.content import ALLOWED_ITEMS, build_content
from juki.certificates.document import digest_of
from juki.certificates.font_blob import copies_made, held_copy
from juki.certificates.font_face import PreparedSubsetter, faces_prepared, held_face
from juki.certificates.fonts import find_ipamj
from juki.certificates.model import (
    CertificateKind,
    CertificateRequest,
    Issuance,
    OptionalItem,
    Snapshot,
)
from juki.certificates.render import DOCUMENT_NAME
from juki.certificates.services import IssuedCertificate
from juki.registry.model import Municipality
from support.cert_population import (
    CLERK,
    KUZU_IVS,
    NOW,
    TSUJI_IVS,
    CertEnv,
    plain_record,
    shared_renderer,
)

# Text that appears on a certificate if, and only if, the item was asked for (label and value).
# 旧氏 is not here: once recorded it is on every certificate (test_cert_record_items.py).
ITEM_TEXT: dict[OptionalItem, tuple[str, ...]] = {
    OptionalItem.HOUSEHOLDER: ("続柄",),
    OptionalItem.HONSEKI: ("本籍", "筆頭者", "2111番地"),
    OptionalItem.RESIDENT_CODE: ("住民票コード",),
    OptionalItem.MY_NUMBER: ("個人番号",),
    OptionalItem.FOREIGN_ITEMS: (
        "国籍・地域",
        "アメリカ合衆国",
        "在留資格",
        "在留期間の満了の日",
        "在留カード等の番号",
        "AB12345678CD",
    ),
    OptionalItem.ALIAS_HISTORY: ("通称の記載・削除", "で記載"),
}


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def embedded_document(pdf: bytes) -> dict[str, Any]:
    raw = PdfReader(io.BytesIO(pdf)).attachments[DOCUMENT_NAME][0]
    loaded: dict[str, Any] = json.loads(raw)
    return loaded


def subject_for(env: CertEnv, kind: CertificateKind, item: OptionalItem | None) -> Any:
    p = env.people
    if item in (OptionalItem.FOREIGN_ITEMS, OptionalItem.ALIAS_HISTORY):
        return p.foreigner
    if kind is CertificateKind.SEAL or item is OptionalItem.FORMER_SURNAME:
        return p.wife  # has a 旧氏 and a live seal
    return p.head


# The copies and certificates of a record (the 転出証明書 has its own test: it needs a 転出届).
COPIES = [k for k in CertificateKind if k not in (CertificateKind.MOVE_OUT, CertificateKind.FUHYO)]
CASES = [(kind, item) for kind in COPIES for item in [None, *sorted(ALLOWED_ITEMS[kind])]]


@pytest.fixture(scope="module")
def issued(shared_env: CertEnv) -> dict[tuple[CertificateKind, OptionalItem | None], Any]:
    """One certificate per case, rendered once for the module."""
    out: dict[tuple[CertificateKind, OptionalItem | None], Any] = {}
    for kind, item in CASES:
        subject = subject_for(shared_env, kind, item)
        request = CertificateRequest(
            kind=kind,
            resident_code=subject.resident_code,
            items=frozenset({item}) if item else frozenset(),
        )
        result = shared_env.desk.issue(CLERK, request)
        out[(kind, item)] = (subject, result, pdf_text(result.pdf))
    return out


@pytest.mark.parametrize(
    ("kind", "item"), CASES, ids=[f"{k.value}-{i.value if i else 'default'}" for k, i in CASES]
)
def test_pdf_shows_exactly_the_allowed_items(
    issued: dict[Any, Any], kind: CertificateKind, item: OptionalItem | None
) -> None:
    subject, result, text = issued[(kind, item)]
    assert result.content.title in text.replace(" ", "")
    assert subject.family_name in text and subject.given_name in text
    for other, snippets in ITEM_TEXT.items():
        for snippet in snippets:
            if other is item:
                assert snippet in text, f"{snippet} missing for {item}"
            else:
                assert snippet not in text, f"{snippet} shown without being asked for"
    # values that only optional items carry
    for value, owner in (
        (subject.resident_code, OptionalItem.RESIDENT_CODE),
        (subject.my_number, OptionalItem.MY_NUMBER),
    ):
        assert (value in text) is (item is owner)
    # the household block (世帯主 and the householder's 続柄 value) only when asked for
    assert ("世帯主" in text) is (item is OptionalItem.HOUSEHOLDER)
    assert "以下余白" in text
    assert "証明する" in text


def test_seal_certificate_carries_the_impression_and_its_items(issued: dict[Any, Any]) -> None:
    _, result, text = issued[(CertificateKind.SEAL, None)]
    assert result.content.seal_sha256
    for label in ("氏名", "生年月日", "住所"):
        assert label in text
    assert "性別" not in text
    assert "登録されている印影と相違ないことを証明する" in text
    reader = PdfReader(io.BytesIO(result.pdf))
    images = [img for page in reader.pages for img in page.images]
    assert len(images) >= 2  # the impression and the mayor's seal


def test_ivs_name_survives_storage_and_rendering(issued: dict[Any, Any]) -> None:
    subject, result, text = issued[(CertificateKind.RESIDENCE, None)]
    name = f"{KUZU_IVS}西　{TSUJI_IVS}"
    assert subject.full_name == name
    assert name in text
    doc = embedded_document(result.pdf)
    assert doc["content"]["persons"][0]["name"] == name


def test_era_dates_across_the_boundary_and_western_dates_for_foreigners(
    shared_env: CertEnv,
) -> None:
    p = shared_env.people
    family = shared_env.desk.issue(
        CLERK, CertificateRequest(CertificateKind.RESIDENCE, p.head.resident_code, members="all")
    )
    text = pdf_text(family.pdf)
    assert "平成31年4月30日" in text and "令和元年5月1日" in text
    assert "昭和55年5月5日" in text  # the householder's birth date
    assert "令和7年4月1日" in text  # the date of the 認証文
    assert "世帯全員" in text
    foreign = shared_env.desk.issue(
        CLERK, CertificateRequest(CertificateKind.RESIDENCE, p.foreigner.resident_code)
    )
    ftext = pdf_text(foreign.pdf)
    assert "1985年3月2日" in ftext and "昭和60年" not in ftext
    assert "山田　ジョン" in ftext  # 通称
    assert "令和7年4月1日" in ftext  # the 認証文 stays in the era


def test_every_copy_has_its_own_issue_number_on_every_page(shared_env: CertEnv) -> None:
    p = shared_env.people
    result: IssuedCertificate = shared_env.desk.issue(
        CLERK,
        CertificateRequest(
            CertificateKind.RESIDENCE, p.head.resident_code, members="all", copies=3
        ),
    )
    numbers = result.issue_numbers
    assert len(set(numbers)) == 3
    reader = PdfReader(io.BytesIO(result.pdf))
    pages = [page.extract_text() for page in reader.pages]
    per_copy = len(pages) // 3
    assert per_copy >= 1 and len(pages) == 3 * per_copy
    for copy_index, number in enumerate(numbers):
        for page_index in range(per_copy):
            page = pages[copy_index * per_copy + page_index]
            assert number in page
            assert f"{copy_index + 1}通目" in page
            assert f"{page_index + 1}／{per_copy}頁" in page
    # the 認証文 and the mayor's seal are on each copy's last page
    for copy_index in range(3):
        last = pages[copy_index * per_copy + per_copy - 1]
        assert "相違ないことを証明する" in last and "東京都稲城市長" in last
    date_part, lg, terminal, seq = numbers[0].split("-")
    assert (date_part, lg, terminal) == ("20250401", "132250", "T01") and len(seq) == 6


# -- the IVS variant is a different glyph on the page -----------------------------------------


def _render_name(family: str, given: str) -> bytes:
    record = plain_record(family, given)
    snapshot = Snapshot(Municipality("132250", "東京都", "稲城市"), record, (record,), None, NOW)
    content = build_content(CertificateRequest(CertificateKind.RESIDENCE, "24727059608"), snapshot)
    issuance = Issuance(
        certificate_id="0b6a2f1c-1111-2222-3333-444455556666",
        lg_code="132250",
        municipality="東京都稲城市",
        signatory="東京都稲城市長",
        issued_at=NOW.isoformat(),
        issued_on="2025-04-01",
        terminal_id="T01",
        issue_numbers=("20250401-132250-T01-000001",),
        verify_base_url="http://verify.test",
    )
    return shared_renderer().render(
        content, issuance, digest_of(content, issuance), municipality_name="稲城市"
    )


def _glyph(pdf: bytes, char: str) -> Any:
    """The rendered pixels of the first `char` on page 1, at 4× scale, and where they are."""
    doc = pdfium.PdfDocument(pdf)
    page = doc[0]
    text = page.get_textpage()
    # pdfium counts UTF-16 units (a selector after 葛 is two), so look the character up by index.
    index = next(i for i in range(text.count_chars()) if text.get_text_range(i, 1) == char)
    left, bottom, right, top = text.get_charbox(index)
    scale = 4
    image = page.render(scale=scale).to_pil().convert("L")
    height = page.get_height()
    box = (
        int(left * scale),
        int((height - top) * scale),
        int(right * scale),
        int((height - bottom) * scale),
    )
    return box, image.crop(box)


@pytest.fixture(scope="module")
def name_pdfs() -> tuple[bytes, bytes]:
    return _render_name(f"{KUZU_IVS}西", TSUJI_IVS), _render_name("葛西", "辻")


@pytest.mark.parametrize("char", ["葛", "辻"])
def test_ivs_glyph_differs_from_the_plain_one(name_pdfs: tuple[bytes, bytes], char: str) -> None:
    from PIL import ImageChops

    ivs_box, ivs = _glyph(name_pdfs[0], char)
    plain_box, plain = _glyph(name_pdfs[1], char)
    assert ivs_box == plain_box  # same place on the page …
    assert ImageChops.difference(ivs, plain).getbbox() is not None  # … different glyph
    # while a character written the same way in both is pixel-identical
    _, ivs_sa = _glyph(name_pdfs[0], "サ")
    _, plain_sa = _glyph(name_pdfs[1], "サ")
    assert ImageChops.difference(ivs_sa, plain_sa).getbbox() is None


def test_content_rendered_is_the_recorded_content(shared_env: CertEnv) -> None:
    """The PDF embeds the very document the database recorded and the digest covers."""
    import sqlalchemy as sa

    from juki.certificates.tables import certificates

    p = shared_env.people
    result = shared_env.desk.issue(
        CLERK, CertificateRequest(CertificateKind.RECORD_ITEMS, p.wife.resident_code)
    )
    with shared_env.engine.connect() as conn:
        stored = conn.execute(
            sa.select(certificates.c.content, certificates.c.content_digest).where(
                certificates.c.certificate_id == result.certificate_id
            )
        ).one()
    assert json.loads(stored.content) == embedded_document(result.pdf)
    assert stored.content_digest == result.digest
    assert (
        json.loads(json.dumps(dataclasses.asdict(result.content)))
        == (embedded_document(result.pdf)["content"])
    )


def test_qr_code_carries_the_certificate_id_and_digest(issued: dict[Any, Any]) -> None:
    from PIL import Image, ImageChops

    from juki.certificates.render import qr_png, verification_url

    _, result, _ = issued[(CertificateKind.RESIDENCE, None)]
    url = verification_url(result.issuance, result.digest)
    assert url == f"http://verify.test/verify/{result.certificate_id}?d={result.digest}"
    expected = Image.open(io.BytesIO(qr_png(url))).convert("L")
    images = [img.image.convert("L") for img in PdfReader(io.BytesIO(result.pdf)).pages[0].images]
    assert any(
        im.size == expected.size and ImageChops.difference(im, expected).getbbox() is None
        for im in images
    )


def test_qr_code_on_the_printed_page_reads_as_the_verification_url(issued: dict[Any, Any]) -> None:
    """The page as a 216 dpi scan (pdfium), read by zbar: the URL with the id and digest."""
    from pyzbar.pyzbar import decode  # type: ignore[import-untyped]

    from juki.certificates.render import verification_url

    _, result, _ = issued[(CertificateKind.RESIDENCE, None)]
    page = pdfium.PdfDocument(result.pdf)[0].render(scale=3).to_pil().convert("L")
    found = [code.data.decode("utf-8") for code in decode(page)]
    assert found == [verification_url(result.issuance, result.digest)]


def test_the_whole_font_is_copied_once_per_process(shared_env: CertEnv) -> None:
    """A renderer's next certificates reuse its one copy of IPAmj明朝, the font file itself."""
    subject = subject_for(shared_env, CertificateKind.RESIDENCE, None)
    request = CertificateRequest(CertificateKind.RESIDENCE, subject.resident_code)
    shared_env.desk.issue(CLERK, request)
    made = copies_made()
    shared_env.desk.issue(CLERK, request)
    shared_env.desk.issue(CLERK, request)
    assert copies_made() == made
    assert held_copy() == find_ipamj().read_bytes()


def _subset(library: Any, face: Any, glyphs: list[int]) -> bytes:
    """WeasyPrint's first pass over a whole font (its flags), through `library`."""
    from weasyprint.text.ffi import ffi, harfbuzz

    subset_input = library.hb_subset_input_create_or_fail()
    try:
        wanted = library.hb_subset_input_glyph_set(subset_input)
        harfbuzz.hb_set_add_sorted_array(
            wanted, ffi.new(f"hb_codepoint_t[{len(glyphs)}]", glyphs), len(glyphs)
        )
        library.hb_subset_input_set_flags(
            subset_input,
            library.HB_SUBSET_FLAGS_RETAIN_GIDS
            | library.HB_SUBSET_FLAGS_PASSTHROUGH_UNRECOGNIZED
            | library.HB_SUBSET_FLAGS_DESUBROUTINIZE,
        )
        out = library.hb_subset_or_fail(face, subset_input)
    finally:
        library.hb_subset_input_destroy(subset_input)
    assert out != ffi.NULL
    blob = harfbuzz.hb_face_reference_blob(out)
    length = ffi.new("unsigned int *")
    data = ffi.unpack(harfbuzz.hb_blob_get_data(blob, length), length[0])
    harfbuzz.hb_blob_destroy(blob)
    harfbuzz.hb_face_destroy(out)
    return bytes(data)


def test_the_whole_font_is_subset_from_a_face_prepared_once(shared_env: CertEnv) -> None:
    """IPAmj明朝 is prepared for subsetting once per process, and a subset cut from the prepared
    face is the very subset HarfBuzz cuts from the font itself (the PDF does not change)."""
    from weasyprint.pdf import fonts as pdf_fonts

    subject = subject_for(shared_env, CertificateKind.RESIDENCE, None)
    request = CertificateRequest(CertificateKind.RESIDENCE, subject.resident_code)
    shared_env.desk.issue(CLERK, request)
    prepared = faces_prepared()
    shared_env.desk.issue(CLERK, request)
    assert faces_prepared() == prepared >= 1
    subsetter, face = pdf_fonts.harfbuzz_subset, held_face()
    assert isinstance(subsetter, PreparedSubsetter) and face is not None
    glyphs = sorted({1, 2, 3, 60_000, *range(100, 20_000, 37)})
    cut = _subset(subsetter, face, glyphs)
    assert cut == _subset(subsetter.library, face, glyphs)
    assert len(cut) < len(held_copy() or b"")
