"""Tables the commands print line up on a terminal, Japanese text included (East Asian Width)."""

from __future__ import annotations

import re

import pytest

from juki.core.console import pad, table, text_width


@pytest.mark.parametrize(
    ("text", "width"),
    [
        ("abc", 3),
        ("稼働(up)", 8),  # two wide characters and four narrow ones
        ("離脱中(disc.)", 13),
        ("ｶﾀｶﾅ", 4),  # half-width katakana: narrow
        ("ＡＢ", 4),  # full-width Latin: wide
        ("葛\U000e0102西", 4),  # an ideographic variation selector takes no column
        ("か\u3099", 2),  # a combining voiced mark takes no column
        ("", 0),
    ],
)
def test_text_width(text: str, width: int) -> None:
    assert text_width(text) == width


def test_pad_left_and_right() -> None:
    assert pad("東京都", 8) == "東京都  "
    assert pad("12", 5, right=True) == "   12"
    assert pad("長すぎる名前", 4) == "長すぎる名前"  # never cut


def cells_of(line: str) -> list[tuple[int, int]]:
    """The terminal columns where each cell (separated by two spaces or more) starts and ends."""
    return [
        (text_width(line[: m.start()]), text_width(line[: m.end()]))
        for m in re.finditer(r"\S+(?: \S+)*", line)
    ]


def test_table_columns_line_up_with_japanese() -> None:
    rows = [
        ["node", "state", "pending", "name"],
        ["132250", "稼働(up)", "3", "稲城市"],
        ["130001", "離脱中(disc.)", "120", "東京都"],
    ]
    lines = table(rows, right={2})
    cells = [cells_of(line) for line in lines]
    # node, state and name start in the same columns; the numbers end under their heading
    assert len({(c[0][0], c[1][0], c[3][0]) for c in cells}) == 1
    assert len({c[2][1] for c in cells}) == 1
    assert lines[1].endswith("稲城市")
