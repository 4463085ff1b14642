"""A hot read compiled once and run on the database driver's own cursor.

A SQLAlchemy Core `execute` costs ≈ 0.1–0.3 ms of Python per call (cache key, execution
context, result metadata) — several times the ≈ 0.05 ms a prepared point lookup takes on
PostgreSQL. For the national node's lookups by 住民票コード and by the four items, one at a
time, that overhead would be most of the answer's time (`python -m bench national`). A
`DriverQuery` compiles its select once per dialect and sends the SQL text straight to the
driver, inside the Connection's transaction; psycopg prepares it on the server after a few
uses. Only for selects whose parameters and results need no SQLAlchemy type processing
(strings, dates, arrays of them on PostgreSQL): the driver's own conversions are used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.compiler import SQLCompiler


class DriverQuery:
    """`statement`, compiled once per dialect, run on the driver's cursor."""

    def __init__(self, statement: sa.Select[Any]) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, dict[str, Any], tuple[str, ...] | None]] = {}

    def _compile(self, dialect: sa.Dialect) -> tuple[str, dict[str, Any], tuple[str, ...] | None]:
        """The SQL text, the values of the statement's own literals, the parameters' order
        (for a positional driver such as sqlite3)."""
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            assert isinstance(compiled, SQLCompiler)  # a select always compiles to SQL
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            literals = {n: b.effective_value for n, b in compiled.binds.items() if not b.required}
            found = (str(compiled), literals, order)
            self._compiled[dialect.name] = found
        return found

    def rows(self, conn: sa.Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows, as the driver returns them, in the Connection's transaction."""
        text, literals, order = self._compile(conn.dialect)
        values: Any = {**literals, **params}
        if order is not None:
            values = [values[name] for name in order]
        cursor = conn.connection.cursor()
        try:
            cursor.execute(text, values)
            return list(cursor.fetchall())
        finally:
            cursor.close()
