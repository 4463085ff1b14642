"""`python -m bench provision` runs end to end on a tiny index and prints juki's figures next to
the raw ones (what the figures are is the benchmark's business: no timing is asserted)."""

from __future__ import annotations

import io
import re

import pytest
from bench import provision

PERSONS, BATCH = 120, 25


@pytest.mark.postgres
def test_bench_provision_loads_looks_up_and_prints_each_figure_beside_the_raw_one(
    migrated_pg_url: str,
) -> None:
    out = io.StringIO()
    provision.run(migrated_pg_url, PERSONS, BATCH, seed=1, out=out)
    text = out.getvalue()
    load = re.search(r"juki initial load +([\d,.]+) +([\d,.]+) +([\d,.]+) +([\d.]+)", text)
    assert load is not None, text
    assert f"{PERSONS:,} persons" in text
    number = r"([\d,.]+)"
    for lookup in ("by resident code", "by the four items"):
        # juki lookups/s, raw lookups/s, ratio, provided by juki, rows found by raw SQL
        found = re.search(rf"{lookup} +{number} +{number} +{number} +(\d+) +(\d+)", text)
        assert found is not None, text
        assert (int(found[4]), int(found[5])) == (BATCH, BATCH)  # every person drawn found
    lookups = 2 * provision.ROUNDS * BATCH
    assert f"provision_records rows {lookups:,} for {lookups:,} lookups" in text
    assert f"oplog entries {2 * provision.ROUNDS} for {2 * provision.ROUNDS} batches" in text
