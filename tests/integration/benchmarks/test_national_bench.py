"""`python -m bench national` runs end to end on a tiny index, partitioned or not, and prints
each figure beside the raw one (no timing is asserted: the figures are the benchmark's)."""

from __future__ import annotations

import io
import re

import pytest
from bench import national

PERSONS, LOOKUPS = 300, 20


@pytest.mark.postgres
@pytest.mark.parametrize("partitions", [0, 2])
def test_bench_national_loads_looks_up_changes_and_prints_each_figure_beside_the_raw_one(
    restructured_pg_url: str, partitions: int
) -> None:
    out = io.StringIO()
    national.run(restructured_pg_url, PERSONS, LOOKUPS, 1, partitions, 1, out=out)
    text = out.getvalue()
    assert re.search(r"juki initial load +[\d,.]+ +[\d,.]+ +[\d,.]+ +[\d.]+", text), text
    assert f"{PERSONS:,} persons" in text
    assert f"hash partitions: {partitions or 'none'}" in text
    for lookup in ("by 住民票コード", "by 個人番号"):
        found = re.search(rf"{lookup} +(?:[\d,.]+ +){{7}}([\d,]+) / ([\d,]+)", text)
        assert found is not None, text
        assert found[1] == found[2] == str(LOOKUPS)  # every person drawn found both ways
    assert re.search(r"juki change +[\d.]+ +[\d.]+ +[\d,.]+", text), text
    assert re.search(r"index ix_identity_copies_lg_code +[\d.]+", text), text
