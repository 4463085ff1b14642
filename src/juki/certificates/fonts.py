"""Can the certificate font draw this text? Asked before anything is issued.

A renderer that meets a character its font lacks quietly draws a box or a fallback glyph from
another font — a different character on a legal document. So every printed value is checked
against IPAmj明朝's own tables first: the base character must be in its cmap, and a base followed
by a variation selector (葛 + U+E0102) must be a sequence its format-14 (IVS) subtable lists.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

from juki.core.errors import ValidationError
from juki.core.text import is_variation_selector

IPAMJ_FAMILY: Final = "IPAmj明朝"
IPAMJ_CANDIDATES: Final = (
    Path("/usr/share/fonts/truetype/ipamj/ipamjm.ttf"),
    Path("/usr/share/fonts/truetype/fonts-japanese-mincho.ttf"),
)


class FontMissingError(RuntimeError):
    """IPAmj明朝 is not installed: run `bash scripts/setup.sh` (Debian fonts-ipamj-mincho)."""


def find_ipamj() -> Path:
    for path in IPAMJ_CANDIDATES:
        if path.exists() and "ipamj" in path.resolve().name.lower():
            return path.resolve()
    fc_match = shutil.which("fc-match")
    if fc_match:
        out = subprocess.run(
            [fc_match, "-f", "%{file}", "IPAmjMincho"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if out and "ipamj" in Path(out).name.lower():
            return Path(out)
    raise FontMissingError(
        "IPAmj明朝 (fonts-ipamj-mincho) is not installed; run `bash scripts/setup.sh`"
    )


def _codepoints(text: str) -> str:
    return " ".join(f"U+{ord(c):04X}" for c in text)


@dataclass(frozen=True, slots=True)
class GlyphCoverage:
    """The characters and variation sequences one font can draw."""

    chars: frozenset[int]
    sequences: frozenset[tuple[int, int]]

    @classmethod
    def of_font(cls, path: Path) -> GlyphCoverage:
        from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

        font = TTFont(str(path), lazy=True)
        try:
            cmap = font["cmap"]
            chars = frozenset(cmap.getBestCmap())
            sequences: set[tuple[int, int]] = set()
            for table in cmap.tables:
                if table.format == 14:
                    for selector, pairs in table.uvsDict.items():
                        sequences.update((base, selector) for base, _glyph in pairs)
        finally:
            font.close()
        return cls(chars=chars, sequences=frozenset(sequences))

    def first_undrawable(self, text: str) -> str | None:
        """The first character (with its selector, if any) the font cannot draw, or None."""
        i = 0
        while i < len(text):
            base = text[i]
            selector = text[i + 1] if i + 1 < len(text) else ""
            if is_variation_selector(base):
                return base
            if ord(base) not in self.chars:
                return base + (selector if is_variation_selector(selector) else "")
            if selector and is_variation_selector(selector):
                if (ord(base), ord(selector)) not in self.sequences:
                    return base + selector
                i += 2
                continue
            i += 1
        return None

    def ensure(self, field: str, label_ja: str, text: str) -> None:
        bad = self.first_undrawable(text)
        if bad is None:
            return
        raise ValidationError(
            field,
            "undrawable_character",
            f"{field}: the character {bad} ({_codepoints(bad)}) cannot be printed with "
            f"{IPAMJ_FAMILY}; register the character (外字) or correct the record",
            f"{label_ja}の「{bad}」（{_codepoints(bad)}）は証明書の字形（{IPAMJ_FAMILY}）で"
            "印字できません。文字を確認してください",
        )


@cache
def ipamj_coverage() -> GlyphCoverage:
    return GlyphCoverage.of_font(find_ipamj())
