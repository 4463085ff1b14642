"""`juki network status` prints its table aligned, whatever the Japanese in the state column."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from juki.core.console import text_width
from juki.nodes.cli import status_table


def cells_of(line: str) -> list[tuple[int, int]]:
    """The terminal columns where each cell (separated by two spaces or more) starts and ends."""
    return [
        (text_width(line[: m.start()]), text_width(line[: m.end()]))
        for m in re.finditer(r"\S+(?: \S+)*", line)
    ]


def test_network_status_table_lines_up() -> None:
    def up(disconnected: bool) -> dict[str, Any]:
        return {
            "disconnected": disconnected,
            "queues": {"national": 2},
            "pending": 2,
            "registry_outbox": 1,
            "oldest_undelivered_age_s": 12.0,
            "dead_letters": 0,
            "last_digest_check": None,
        }

    kinds = {"national": "national", "130001": "prefecture", "132250": "municipality"}
    console: Any = SimpleNamespace(
        configs={n: SimpleNamespace(kind=SimpleNamespace(value=k)) for n, k in kinds.items()}
    )
    lines = status_table({"national": up(False), "130001": None, "132250": up(True)}, console)
    assert "応答なし(down)" in lines[2] and "離脱中(disc.)" in lines[3]
    cells = [cells_of(line) for line in lines]
    assert len({c[2][0] for c in cells}) == 1  # state
    assert len({c[3][1] for c in (cells[0], cells[1], cells[3])}) == 1  # pending
