"""A select run on the driver's cursor finds what SQLAlchemy's execute finds, in its transaction."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa

from juki.storage.driver_query import DriverQuery
from juki.storage.engine import make_engine

rows_table = sa.Table(
    "driver_query_rows",
    sa.MetaData(),
    sa.Column("code", sa.String(11), primary_key=True),
    sa.Column("born", sa.Date, nullable=False),
)
BY_CODE = DriverQuery(
    sa.select(rows_table.c.code).where(
        (rows_table.c.code == sa.bindparam("code")) & (rows_table.c.born > sa.bindparam("after"))
    )
)


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    rows_table.create(engine)
    yield engine
    engine.dispose()


def test_driver_query_reads_inside_the_connections_transaction(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        conn.execute(rows_table.insert(), [{"code": "a", "born": date(2000, 1, 1)}])
        # not committed: the driver's cursor shares the Connection's transaction
        assert BY_CODE.rows(conn, {"code": "a", "after": date(1999, 1, 1)}) == [("a",)]
        assert BY_CODE.rows(conn, {"code": "a", "after": date(2001, 1, 1)}) == []
        assert BY_CODE.rows(conn, {"code": "b", "after": date(1999, 1, 1)}) == []
        conn.rollback()
    with engine.connect() as conn:
        assert BY_CODE.rows(conn, {"code": "a", "after": date(1999, 1, 1)}) == []
