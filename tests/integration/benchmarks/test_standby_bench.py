"""`python -m bench standby` runs end to end on a tiny index: a standby is made of it, every batch
meant for the standby is read there, and each figure is printed beside the raw one (no timing
is asserted)."""

from __future__ import annotations

import io
import re

import pytest
from bench import standby

PERSONS, BATCH = 120, 25


@pytest.mark.postgres
def test_bench_standby_reads_every_batch_on_the_standby_and_prints_each_figure() -> None:
    out = io.StringIO()
    standby.main(PERSONS, BATCH, seed=1, out=out)
    text = out.getvalue()
    number = r"([\d,.]+)"
    for lookup in ("by resident code", "by the four items"):
        # on the primary, on the standby, raw on the standby, ratio, three CPU seconds
        assert re.search(rf"{lookup}" + rf" +{number}" * 7, text), text
    # each kind read on the standby (a batch on a busy machine may fall back, and says so)
    for kind in ("code", "items"):
        assert re.search(rf"'standby {kind}': \[[^\]]*'standby'", text), text
    waited = re.search(r"(\d+) requests waited for the standby .*; (\d+) read on the primary", text)
    assert waited is not None, text
    assert int(waited[1]) == standby.WAITS
