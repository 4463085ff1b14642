"""Gap-free counters (seal registration numbers, certificate issue numbers)."""

from __future__ import annotations

import sqlalchemy as sa

from juki.storage.metadata import Code, metadata

counters = sa.Table(
    "counters",
    metadata,
    sa.Column("name", Code, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
    info={"class": "config"},
)


def next_counter(conn: sa.Connection, name: str) -> int:
    """A gap-free sequence that rolls back with its transaction (unlike a database sequence)."""
    updated = conn.execute(
        counters.update().where(counters.c.name == name).values(value=counters.c.value + 1)
    )
    if updated.rowcount == 0:
        conn.execute(counters.insert().values(name=name, value=1))
    return int(
        conn.execute(sa.select(counters.c.value).where(counters.c.name == name)).scalar_one()
    )
