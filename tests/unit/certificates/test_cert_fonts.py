"""The printability check: IPAmj明朝's cmap and its IVS (format 14) table decide, before issuing."""

from __future__ import annotations

import pytest

from juki.certificates.fonts import GlyphCoverage, ipamj_coverage
from juki.core.errors import ValidationError


@pytest.fixture(scope="module")
def coverage() -> GlyphCoverage:
    return ipamj_coverage()


@pytest.mark.parametrize(
    "text",
    [
        "葛\U000e0102西",
        "辻\U000e0102",
        "葛西　辻",
        "髙﨑",
        "𠮷野",
        "SMITH JOHN",
        "カサイ・ツジ",
        "2111番地",
    ],
)
def test_names_the_font_has_pass(coverage: GlyphCoverage, text: str) -> None:
    assert coverage.first_undrawable(text) is None


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("葛\U000e01ef西", "葛\U000e01ef"),  # a variation sequence the font does not register
        ("辻\U000e0100", "辻\U000e0100"),
        ("山\ue000", "\ue000"),  # private use (外字) has no glyph here
        ("笑😀", "😀"),
        ("\U000e0102", "\U000e0102"),  # a selector with nothing before it
    ],
)
def test_first_undrawable_names_the_character_and_its_selector(
    coverage: GlyphCoverage, text: str, bad: str
) -> None:
    assert coverage.first_undrawable(text) == bad


def test_refusal_names_field_and_character(coverage: GlyphCoverage) -> None:
    with pytest.raises(ValidationError) as err:
        coverage.ensure("name", "氏名", "葛\U000e01ef西　太郎")
    exc = err.value
    assert exc.field == "name" and exc.rule == "undrawable_character"
    assert "U+845B U+E01EF" in exc.message_en
    assert "氏名" in exc.message_ja and "葛\U000e01ef" in exc.message_ja


def test_variant_and_plain_are_different_glyphs_in_the_font() -> None:
    from fontTools.ttLib import TTFont

    from juki.certificates.fonts import find_ipamj

    font = TTFont(str(find_ipamj()), lazy=True)
    try:
        cmap = font["cmap"]
        best = cmap.getBestCmap()
        uvs = next(t for t in cmap.tables if t.format == 14).uvsDict[0xE0102]
        variants = dict(uvs)
    finally:
        font.close()
    for base in (0x845B, 0x8FBB):  # 葛, 辻
        assert variants[base] not in (None, best[base])
