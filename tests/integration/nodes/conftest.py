"""The nodes' integration tests share the two towns of 広域交付 (`support.wide_area`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from support.wide_area import WideArea, build_two_towns


@pytest.fixture
def wide(node_db_url: Callable[[str], str], tmp_path: Path) -> Iterator[WideArea]:
    towns = build_two_towns(node_db_url, tmp_path)
    yield towns
    towns.net.dispose()
