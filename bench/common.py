"""What the benchmarks share: throwaway databases and the result table."""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.pool import PoolProxiedConnection

TESTS = Path(__file__).resolve().parent.parent / "tests"


@dataclass(frozen=True)
class Backend:
    """A backend that can make brand-new, empty databases on demand."""

    name: str
    new_url: Callable[[], str]


@contextmanager
def backends(which: str, settings: Mapping[str, str] | None = None) -> Iterator[list[Backend]]:
    """SQLite files in a temporary directory and/or databases on a throwaway PostgreSQL server
    (started with `settings` beyond the test server's)."""
    out: list[Backend] = []
    with tempfile.TemporaryDirectory(prefix="juki-bench-") as tmp:
        if which in ("sqlite", "both"):
            out.append(Backend("sqlite", lambda: f"sqlite:///{tmp}/{uuid.uuid4().hex}.db"))
        server: Any = None
        if which in ("postgres", "both"):
            sys.path.insert(0, str(TESTS))
            from support.pgserver import PostgresServer, PostgresServerError  # type: ignore[import-not-found]

            try:
                server = PostgresServer(settings=settings).start()
            except PostgresServerError as exc:
                print(f"(postgres skipped: {exc})")
            else:
                srv = server
                out.append(
                    Backend("postgres", lambda: srv.create_database(f"b_{uuid.uuid4().hex}"))
                )
        try:
            yield out
        finally:
            if server is not None:
                server.stop()


def psycopg_connection(raw: PoolProxiedConnection) -> psycopg.Connection[Any]:
    """The psycopg connection under SQLAlchemy's pool proxy, typed (the proxy's is `Any | None`)
    for the benchmarks that COPY or prepare statements on it directly."""
    driver = raw.driver_connection
    if not isinstance(driver, psycopg.Connection):
        raise TypeError(f"not a psycopg connection: {type(driver).__name__}")
    return driver


def sqlite_connection(raw: PoolProxiedConnection) -> sqlite3.Connection:
    """The same for SQLite's stdlib driver."""
    driver = raw.driver_connection
    if not isinstance(driver, sqlite3.Connection):
        raise TypeError(f"not a sqlite3 connection: {type(driver).__name__}")
    return driver


def load_average() -> str:
    """The machine's load averages (1, 5, 15 minutes), printed beside every figure."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:,.2f}" if v < 100 else f"{v:,.0f}"
        return str(v)

    cells = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)
