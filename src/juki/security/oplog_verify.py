"""Reading the operation log back to verify its chain (`juki oplog verify`).

The rows are read in sequence order, a thousand at a time, so a log of years fits in memory as
easily as one of a day. The chain starts at its anchor: the genesis, or — once closed months
were pruned after seven years — the last entry of the newest pruned month, as its seal recorded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import sqlalchemy as sa

from juki.security.chain import HASHED, Anchor, Break, first_break
from juki.security.store import chain_head
from juki.security.tables import oplog, oplog_seals

BATCH: Final = 1000
_COLUMNS: Final = [oplog.c[name] for name in (*HASHED, "entry_hash")]


def anchor(conn: sa.Connection) -> Anchor:
    """Where the stored chain starts: after the newest pruned month, else at the genesis."""
    s = oplog_seals.c
    row = conn.execute(
        sa.select(s.last_seq, s.last_hash)
        .where(s.pruned_at.is_not(None))
        .order_by(s.last_seq.desc())
        .limit(1)
    ).first()
    return Anchor() if row is None else Anchor(int(row.last_seq), str(row.last_hash))


def chain_rows(
    conn: sa.Connection, after: int = 0, upto: int | None = None
) -> Iterator[dict[str, Any]]:
    """The entries after seq `after` (up to `upto`), in order, in batches."""
    last = after
    while True:
        stmt = sa.select(*_COLUMNS).where(oplog.c.seq > last)
        if upto is not None:
            stmt = stmt.where(oplog.c.seq <= upto)
        batch = list(conn.execute(stmt.order_by(oplog.c.seq).limit(BATCH)).mappings())
        if not batch:
            return
        for row in batch:
            yield dict(row)
        last = int(batch[-1]["seq"])


def verify_chain(conn: sa.Connection) -> Break | None:
    """The first entry changed, removed or inserted since the anchor; None when it holds."""
    start = anchor(conn)
    # A row numbered at or below the anchor is one that should have been pruned, or was
    # put back: it is read too, so it shows as inserted.
    below = conn.execute(
        sa.select(sa.func.min(oplog.c.seq)).where(oplog.c.seq <= start.seq)
    ).scalar()
    after = start.seq if below is None else int(below) - 1
    return first_break(chain_rows(conn, after), start, chain_head(conn))


def entry_count(conn: sa.Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(oplog)).scalar_one())
