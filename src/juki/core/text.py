"""Name and reading (フリガナ) text.

Names are stored exactly as entered: 住民票 must reproduce a person's characters, including
Ideographic Variation Sequences such as 葛󠄂 (葛 + U+E0102) that distinguish 異体字. Unicode
normalisation is therefore never applied to names (NFKC folds compatibility ideographs and NFC
maps CJK compatibility ideographs to their unified forms). Readings, in contrast, are a closed
alphabet and are folded to full-width katakana so that one reading has one stored spelling, and
further to a search key in which small/large kana and separators no longer matter.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

import jaconv

from juki.core.errors import ValidationError

# ---------------------------------------------------------------------------------------------
# Japanese labels for error messages shown at the counter

_LABELS_JA: Final[dict[str, str]] = {
    "family_name": "氏",
    "given_name": "名",
    "former_surname": "旧氏",
    "alias_name": "通称",
    "family_name_kana": "氏のフリガナ",
    "given_name_kana": "名のフリガナ",
    "former_surname_kana": "旧氏のフリガナ",
    "alias_name_kana": "通称のフリガナ",
    "honseki": "本籍",
    "nationality": "国籍・地域",
    "address": "住所",
}


def _label_ja(field: str, default: str) -> str:
    name = field.rsplit(".", 1)[-1]
    if name.endswith("address"):
        return _LABELS_JA["address"]
    return _LABELS_JA.get(name, default)


# ---------------------------------------------------------------------------------------------
# Readings

_SMALL_TO_LARGE: Final = str.maketrans(
    "ァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ\U0001b164\U0001b165\U0001b166\U0001b167"
    "\U0001b150\U0001b151\U0001b152",
    "アイウエオツヤユヨワカケクシストヌハヒフヘホムラリルレロヰヱヲンヰヱヲ",
)
"""Small kana (including the Ainu extension and the small ゐ/ゑ/を) to their large forms."""

_SEPARATORS: Final = frozenset(" \u3000・･")

_KATAKANA: Final = "\u30a1-\u30fa\u30fc-\u30fe\u31f0-\u31ff\U0001b164-\U0001b167"
_READING_RE: Final = re.compile(f"[{_KATAKANA}]+(?:[\u3000・][{_KATAKANA}]+)*")


def normalize_kana(s: str) -> str:
    """Search key for a reading: ｶﾀｶﾅ, かたかな and カタカナ, キャ and キヤ, ヤマダ　タロウ and
    やまだたろう all give the same key.

    Clerks and residents write the small kana of old-style readings either way (キヤ/キャ) and
    separate parts inconsistently, so search must not depend on either.
    """
    text = jaconv.hira2kata(unicodedata.normalize("NFKC", s))
    text = text.translate(_SMALL_TO_LARGE)
    text = "".join(c for c in text if c not in _SEPARATORS and not c.isspace())
    # Enlarging (ヮ゙ → ヷ) or dropping a separator can bring a voiced mark next to a kana it
    # composes with; normalise again so that the key is a fixed point.
    return unicodedata.normalize("NFKC", text)


def validate_kana(field: str, s: str, max_len: int = 128) -> str:
    """Validate a reading and return it as full-width katakana, keeping small kana.

    Half-width katakana and hiragana are accepted and converted; parts may be separated by ・ or by
    one space, which is stored as an ideographic space (U+3000). Anything else is rejected.
    """
    label = _label_ja(field, "フリガナ")
    text = s.strip()
    if not text:
        raise ValidationError(
            field, "required", "a reading is required", f"{label}を入力してください"
        )
    text = unicodedata.normalize("NFC", text)
    text = jaconv.hira2kata(jaconv.h2z(text, kana=True, ascii=False, digit=False))
    text = text.replace(" ", "\u3000")
    if not _READING_RE.fullmatch(text):
        raise ValidationError(
            field,
            "katakana",
            "must be full-width katakana (ー allowed), with parts separated by one space or ・",
            f"{label}は全角カタカナで入力してください",
        )
    if len(text) > max_len:
        raise ValidationError(
            field,
            "max_length",
            f"must be at most {max_len} characters; found {len(text)}",
            f"{label}は{max_len}文字以内で入力してください（入力は{len(text)}文字）",
        )
    return text


# ---------------------------------------------------------------------------------------------
# Names

_EXTENDING_CATEGORIES: Final = frozenset({"Mn", "Mc", "Me"})
_CONTROL_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
"""Controls, format characters (bidi overrides, zero-width joiners …), lone surrogates and line or
paragraph separators: invisible or layout-changing, so they could make two printed names look
identical while differing in storage. Private-use (外字) and unassigned code points are allowed."""


def is_noncharacter(c: str) -> bool:
    """The 66 Unicode noncharacters: U+FDD0–U+FDEF and the last two code points of every plane
    (U+FFFE, U+FFFF, U+1FFFE …); reserved for a program's internal use, never part of a name."""
    code = ord(c)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def is_variation_selector(c: str) -> bool:
    """True for VS1–VS16 (U+FE00–FE0F) and the ideographic VS17–VS256 (U+E0100–E01EF)."""
    return "\ufe00" <= c <= "\ufe0f" or "\U000e0100" <= c <= "\U000e01ef"


def _extends(c: str) -> bool:
    return is_variation_selector(c) or unicodedata.category(c) in _EXTENDING_CATEGORIES


def grapheme_len(s: str) -> int:
    """Number of user-visible characters: a base plus its selectors or combining marks is one.

    A simplification of Unicode grapheme clusters that is exact for Japanese names with IVS.
    """
    count = 0
    for i, c in enumerate(s):
        if i == 0 or not _extends(c):
            count += 1
    return count


def validate_name(field: str, s: str, max_len: int = 64) -> str:
    """Validate a name (or address, 本籍 …) and return it stripped but otherwise byte for byte.

    ``max_len`` counts user-visible characters; the code-point length is also capped at twice
    that, which allows a selector on every character but bounds combining-mark pile-ups.
    """
    label = _label_ja(field, "入力値")
    text = s.strip()
    if not text:
        raise ValidationError(
            field, "required", "a value is required", f"{label}を入力してください"
        )
    for position, c in enumerate(text, start=1):
        if unicodedata.category(c) in _CONTROL_CATEGORIES:
            raise ValidationError(
                field,
                "control_character",
                f"control or format character U+{ord(c):04X} at position {position}",
                f"{label}に使用できない制御文字が含まれています（{position}文字目）",
            )
        if is_noncharacter(c):
            raise ValidationError(
                field,
                "noncharacter",
                f"noncharacter U+{ord(c):04X} at position {position} is not a character of a name",
                f"{label}に文字ではない符号（非文字）が含まれています（{position}文字目）",
            )
    for position, c in enumerate(text, start=1):
        if is_variation_selector(c) and (
            position == 1
            or is_variation_selector(text[position - 2])
            or text[position - 2].isspace()
        ):
            raise ValidationError(
                field,
                "orphan_variation_selector",
                f"variation selector U+{ord(c):04X} at position {position} follows no character",
                f"{label}の異体字セレクタの位置が正しくありません（{position}文字目）",
            )
    length = grapheme_len(text)
    if length > max_len or len(text) > 2 * max_len:
        raise ValidationError(
            field,
            "max_length",
            f"must be at most {max_len} characters ({2 * max_len} code points); "
            f"found {length} ({len(text)} code points)",
            f"{label}は{max_len}文字以内で入力してください（入力は{length}文字）",
        )
    return text


def validate_free_text(field: str, text: str, max_len: int, what_ja: str) -> str:
    """What a person writes in their own words (a correction request, a reason): 1–`max_len`
    characters of printable text, line breaks allowed, kept as written (NFC). `what_ja` names
    it in the message when it is missing (例: 訂正を求める内容)."""
    cleaned = unicodedata.normalize("NFC", text).strip()
    if not cleaned:
        raise ValidationError(field, "required", "say what it is", f"{what_ja}を入力してください")
    if len(cleaned) > max_len:
        raise ValidationError(
            field, "length", f"at most {max_len} characters", f"{max_len}文字以内で入力してください"
        )
    if any(
        unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") and c not in "\n\t" for c in cleaned
    ):
        raise ValidationError(
            field,
            "characters",
            "control or unassigned characters are not accepted",
            "使用できない文字が含まれています",
        )
    return cleaned
