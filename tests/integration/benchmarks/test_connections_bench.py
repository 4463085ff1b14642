"""`python -m bench connections` runs end to end on a tiny index and prints each backend's
memory after provision work, for every connection it opened (no figure is asserted)."""

from __future__ import annotations

import io
import re

import pytest
from bench import connections

PERSONS, CLIENTS = 120, 3


@pytest.mark.postgres
def test_bench_connections_reads_the_memory_of_every_backend_that_worked() -> None:
    out = io.StringIO()
    connections.main(PERSONS, CLIENTS, seed=1, out=out)
    text = out.getvalue()
    number = r"([\d,.]+)"
    idle = re.search(rf"connected, nothing asked +{number} +{number} +1\b", text)
    assert idle is not None, text
    working = re.search(rf"after 400 lookups \(provide_batch\) +{number} +{number} +(\d+)", text)
    assert working is not None, text
    assert int(working[3]) >= CLIENTS  # every client's backend, and the loader's
    assert float(working[2]) > 0
