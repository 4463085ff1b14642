"""Readings fold to one spelling and one search key; names keep every code point, IVS included."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.core.errors import ValidationError
from juki.core.text import (
    grapheme_len,
    is_variation_selector,
    normalize_kana,
    validate_kana,
    validate_name,
)

# --- normalize_kana ---------------------------------------------------------------------------


def test_normalize_kana_equalities() -> None:
    assert normalize_kana("ｶﾀｶﾅ") == normalize_kana("かたかな") == normalize_kana("カタカナ")
    assert normalize_kana("ｶﾀｶﾅ") == "カタカナ"
    assert normalize_kana("キャ") == normalize_kana("キヤ") == "キヤ"
    assert normalize_kana("ヤマダ　タロウ") == normalize_kana("やまだたろう") == "ヤマダタロウ"
    assert normalize_kana("ジョン・スミス") == normalize_kana("ｼﾞｮﾝ ｽﾐｽ") == "ジヨンスミス"
    assert normalize_kana("ｶﾞｯｺｳ") == normalize_kana("がっこう") == "ガツコウ"
    assert normalize_kana("ヴァイオリン") == normalize_kana("ゔぁいおりん") == "ヴアイオリン"
    assert normalize_kana("ｳﾞ") == "ヴ"
    assert normalize_kana("ヮ\u3099") == normalize_kana("ワ\u3099") == "ヷ"
    assert normalize_kana("カ \u3099") == "ガ"
    assert normalize_kana("か\u3099") == "ガ"  # decomposed dakuten
    assert normalize_kana("ﾔﾏﾀﾞ ﾀﾛｰ") == "ヤマダタロー"
    assert normalize_kana("ヶ") == normalize_kana("ゖ") == "ケ"
    assert normalize_kana("ヵ") == normalize_kana("ゕ") == "カ"


@pytest.mark.parametrize(
    ("small", "large"),
    [
        ("ァィゥェォ", "アイウエオ"),
        ("ッャュョヮ", "ツヤユヨワ"),
        ("ヵヶ", "カケ"),
        ("ぁぃぅぇぉっゃゅょゎゕゖ", "アイウエオツヤユヨワカケ"),
        ("ㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ", "クシストヌハヒフヘホムラリルレロ"),
        ("ｧｨｩｪｫｯｬｭｮ", "アイウエオツヤユヨ"),
    ],
)
def test_small_kana_become_large(small: str, large: str) -> None:
    assert normalize_kana(small) == large


def test_every_small_katakana_is_mapped() -> None:
    # Cross-check the table against the Unicode names: KATAKANA LETTER SMALL X → KATAKANA LETTER X.
    for cp in range(0x110000):
        name = unicodedata.name(chr(cp), "")
        if name.startswith("KATAKANA LETTER SMALL "):
            large = unicodedata.lookup(name.replace("SMALL ", ""))
            assert normalize_kana(chr(cp)) == large, name


kana_text = st.text(alphabet=st.characters(min_codepoint=0x3041, max_codepoint=0x30FF), max_size=20)


@given(kana_text)
def test_normalize_kana_is_idempotent(s: str) -> None:
    once = normalize_kana(s)
    assert normalize_kana(once) == once
    assert " " not in once
    assert "\u3000" not in once
    assert "・" not in once


@given(st.text(alphabet="あいうえおかきくけこがぎぐげごさしすせそっゃゅょぁーん", max_size=20))
def test_hiragana_and_katakana_share_a_key(s: str) -> None:
    katakana = "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in s)
    assert normalize_kana(s) == normalize_kana(katakana)


# --- validate_kana ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_text", "expected"),
    [
        ("ヤマダ", "ヤマダ"),
        ("やまだ", "ヤマダ"),
        ("ﾔﾏﾀﾞ", "ヤマダ"),
        ("キャロル", "キャロル"),  # small kana kept
        ("ｷｬﾛﾙ", "キャロル"),
        ("ヤマダ　タロウ", "ヤマダ　タロウ"),
        ("ヤマダ タロウ", "ヤマダ　タロウ"),  # ASCII space stored as U+3000
        ("ジョン・スミス", "ジョン・スミス"),
        ("ｼﾞｮﾝ･ｽﾐｽ", "ジョン・スミス"),
        ("ユーコ", "ユーコ"),
        ("ｭｰｺ", "ューコ"),
        ("ヴィ", "ヴィ"),
        ("  ヤマダ  ", "ヤマダ"),
        ("か\u3099", "ガ"),
    ],
)
def test_validate_kana_accepts(given_text: str, expected: str) -> None:
    assert validate_kana("family_name_kana", given_text) == expected


@pytest.mark.parametrize(
    "bad",
    [
        "山田",
        "Yamada",
        "ﾔﾏﾀﾞ1",
        "ヤマダ　　タロウ",
        "ヤマダ  タロウ",
        "ヤマダ・ タロウ",
        "・ヤマダ",
        "ヤマダ・",
        "ヤマダ\tタロウ",
        "ヤマダ\nタロウ",
        "ｶﾞﾞ",
        "ﾞ",
        "ヤマダ!",
        "ＹＡＭＡＤＡ",
    ],
)
def test_validate_kana_rejects(bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_kana("given_name_kana", bad)
    assert (info.value.field, info.value.rule) == ("given_name_kana", "katakana")
    assert info.value.message_ja == "名のフリガナは全角カタカナで入力してください"


def test_validate_kana_required_and_length() -> None:
    for empty in ["", "   ", "\u3000"]:
        with pytest.raises(ValidationError) as info:
            validate_kana("family_name_kana", empty)
        assert info.value.rule == "required"
    assert validate_kana("x", "ア" * 128) == "ア" * 128
    with pytest.raises(ValidationError) as info:
        validate_kana("x", "ア" * 129)
    assert info.value.rule == "max_length"
    with pytest.raises(ValidationError) as info:
        validate_kana("x", "アア", max_len=1)
    assert info.value.rule == "max_length"


@given(st.text(alphabet="アイウエオァィゥェォッャュョーカガキギ", min_size=1, max_size=20))
def test_validate_kana_is_idempotent(s: str) -> None:
    once = validate_kana("k", s)
    assert once == s
    assert validate_kana("k", once) == once
    assert normalize_kana(once) == normalize_kana(s)


# --- validate_name ----------------------------------------------------------------------------

KATSUSHIKA_IVS = "葛\U000e0102飾"
TSUJI_IVS = "辻\U000e0102"


def test_ivs_survive_unchanged() -> None:
    assert validate_name("family_name", KATSUSHIKA_IVS) == KATSUSHIKA_IVS
    assert validate_name("family_name", TSUJI_IVS) == TSUJI_IVS
    assert validate_name("family_name", KATSUSHIKA_IVS).encode() == KATSUSHIKA_IVS.encode()
    assert validate_name("family_name", KATSUSHIKA_IVS) != "葛飾"
    assert validate_name("family_name", TSUJI_IVS) != "辻"
    assert validate_name("family_name", f"  {TSUJI_IVS}\u3000") == TSUJI_IVS
    assert grapheme_len(KATSUSHIKA_IVS) == 2
    assert grapheme_len(TSUJI_IVS) == 1


def test_names_are_not_normalised() -> None:
    compatibility = "\uf929"  # CJK COMPATIBILITY IDEOGRAPH-F929 (朗), which NFC would change
    assert unicodedata.normalize("NFC", compatibility) != compatibility
    assert validate_name("given_name", compatibility) == compatibility
    assert validate_name("given_name", "ﾀﾛｳ") == "ﾀﾛｳ"
    assert validate_name("given_name", "髙\ufe00") == "髙\ufe00"
    assert validate_name("family_name", "\ue000山") == "\ue000山"  # 外字 in the private-use area


def test_name_required() -> None:
    for empty in ["", "  ", "\u3000\t"]:
        with pytest.raises(ValidationError) as info:
            validate_name("family_name", empty)
        assert (info.value.field, info.value.rule) == ("family_name", "required")
        assert info.value.message_ja == "氏を入力してください"


@pytest.mark.parametrize(
    "bad", ["山\x00田", "山\n田", "山\x7f田", "山\u202e田", "山\u200b田", "山\u2028田", "山\ud800"]
)
def test_name_control_characters(bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_name("family_name", bad)
    assert info.value.rule == "control_character"


@pytest.mark.parametrize("bad", ["\U000e0102葛", "辻\U000e0102\U000e0102", "山 \ufe00", "\ufe0f"])
def test_orphan_variation_selector(bad: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_name("family_name", bad)
    assert info.value.rule == "orphan_variation_selector"


def test_name_max_length_counts_user_visible_characters() -> None:
    assert validate_name("n", "山" * 64) == "山" * 64
    with_selectors = "辻\U000e0102" * 64
    assert len(with_selectors) == 128
    assert validate_name("n", with_selectors) == with_selectors
    for too_long in ["山" * 65, "辻\U000e0102" * 65]:
        with pytest.raises(ValidationError) as info:
            validate_name("n", too_long)
        assert info.value.rule == "max_length"
    assert validate_name("address", "あ" * 200, max_len=200) == "あ" * 200
    # a pile of combining marks is one visible character but still bounded in code points
    with pytest.raises(ValidationError) as info:
        validate_name("n", "a" + "\u0301" * 200)
    assert info.value.rule == "max_length"


def test_grapheme_len() -> None:
    assert grapheme_len("") == 0
    assert grapheme_len("山田") == 2
    assert grapheme_len("\U000e0102") == 1
    assert grapheme_len("e\u0301") == 1
    assert is_variation_selector("\ufe00")
    assert is_variation_selector("\U000e01ef")
    assert not is_variation_selector("\U000e01f0")
    assert not is_variation_selector("葛")


ideographs = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
selectors = st.characters(min_codepoint=0xE0100, max_codepoint=0xE01EF)


@given(st.lists(st.tuples(ideographs, st.none() | selectors), min_size=1, max_size=64))
def test_names_with_ivs_are_kept_byte_for_byte(parts: list[tuple[str, str | None]]) -> None:
    name = "".join(base + (vs or "") for base, vs in parts)
    assert validate_name("family_name", name) == name
    assert grapheme_len(name) == len(parts)


@pytest.mark.parametrize("bad", ["山\ufffe", "\uffff田", "山\ufdd0田", "山\ufdef", "山\U0010ffff"])
def test_name_noncharacters(bad: str) -> None:
    """Noncharacters are for a program's internal use (Unicode §23.7), never part of a name."""
    with pytest.raises(ValidationError) as info:
        validate_name("family_name", bad)
    assert info.value.rule == "noncharacter"
    assert "非文字" in info.value.message_ja


@pytest.mark.parametrize("good", ["山\ufdcf田", "山\ufdf0田", "山\ufffd田", "𠮷野"])
def test_name_next_to_noncharacters(good: str) -> None:
    assert validate_name("family_name", good) == good
