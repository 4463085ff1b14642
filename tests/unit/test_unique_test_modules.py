"""Test modules have unique file names: pytest imports them by basename (no packages under
tests/), so a second `test_x.py` elsewhere is an import error in the full run only — a clean
clone's `make test` found one (storage/test_bulk.py beside population/test_bulk.py)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_no_two_test_modules_share_a_file_name() -> None:
    names = Counter(p.name for p in TESTS.rglob("test_*.py"))
    assert [name for name, n in names.items() if n > 1] == []
