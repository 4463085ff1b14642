"""Resident codes across the network (ADR 0006): the national node's ledger of every code it
allotted or saw retired, the random pools it allots from the unused space, and how every level
applies a 住民票コードの変更 (法第30条の4).

The national node holds the index of every code in use (`identity_copies`) and this ledger, so
it alone can tell a code is unused nationwide: it draws each pool at random from what neither
holds (nor a range it issued before 0014), sends it to the municipality, and sends another when
identity_info shows the pool running low. A retired code stays in the ledger for good.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

import sqlalchemy as sa

from juki.network.authority import NotAuthorised
from juki.network.messages import ResidentCodeChanged
from juki.nodes.identity import apply_identity
from juki.nodes.tables import code_ledger, code_pools, identity_copies, issued_allotments
from juki.registry.codes import draw_unused
from juki.storage.bulk import PerDialect, one_of

POOL_BATCH: Final = 1000  # codes national sends when it replenishes a pool
POOL_LOW: Final = 250  # …once it has seen all but this many of the pool used
_IN_CHUNK: Final = 500


def _taken(conn: sa.Connection, codes: Iterable[str]) -> set[str]:
    wanted = sorted(codes)
    ranges = conn.execute(
        sa.select(issued_allotments.c.first_body, issued_allotments.c.last_body)
    ).all()
    found = {c for c in wanted if any(lo <= int(c[:10]) <= hi for lo, hi in ranges)}
    for i in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[i : i + _IN_CHUNK]
        for column in (code_ledger.c.resident_code, identity_copies.c.resident_code):
            found.update(
                conn.execute(sa.select(column).where(column.in_(chunk)).distinct()).scalars()
            )
    return found


def draw_pool(
    conn: sa.Connection, rng: random.Random, lg_code: str, count: int, now: datetime
) -> list[str]:
    """Draw `count` codes no one holds, nor ever held, and enter them in the ledger for
    `lg_code`'s pool (in the caller's transaction)."""
    codes = draw_unused(rng, count, lambda cs: _taken(conn, cs))
    at = now.isoformat()
    conn.execute(
        code_ledger.insert(),
        [{"resident_code": c, "lg_code": lg_code, "allotted_at": at} for c in codes],
    )
    p = code_pools.c
    grew = conn.execute(
        code_pools.update().where(p.lg_code == lg_code).values(unused=p.unused + count)
    )
    if grew.rowcount == 0:
        conn.execute(code_pools.insert().values(lg_code=lg_code, unused=count, batch=POOL_BATCH))
    return codes


# Built once: national runs these for every identity_info it applies.
_LEDGER_ROW = sa.select(code_ledger.c.lg_code, code_ledger.c.used_at).where(
    code_ledger.c.resident_code == sa.bindparam("k_code")
)
_MARK_USED = code_ledger.update().where(code_ledger.c.resident_code == sa.bindparam("k_code"))
_MARK_USED_MANY = PerDialect(
    lambda dialect: code_ledger.update().where(
        one_of(code_ledger.c.resident_code, "k_codes", dialect)
    )
)
_LEDGER_ROWS = PerDialect(
    lambda dialect: sa.select(
        code_ledger.c.resident_code, code_ledger.c.lg_code, code_ledger.c.used_at
    ).where(one_of(code_ledger.c.resident_code, "k_codes", dialect))
)
_TAKE_ONE = (
    code_pools.update()
    .where(code_pools.c.lg_code == sa.bindparam("k_lg"))
    .values(unused=code_pools.c.unused - 1)
)
_UNUSED = sa.select(code_pools.c.unused).where(code_pools.c.lg_code == sa.bindparam("k_lg"))


def note_used(conn: sa.Connection, code: str, lg_code: str, now: datetime) -> bool:
    """identity_info carried `code` from `lg_code`: enter it as used. True when that
    municipality's pool needs replenishing (below the low-water mark, or it has none yet)."""
    row = conn.execute(_LEDGER_ROW, {"k_code": code}).first()
    at = now.isoformat()
    if row is None:
        # a code from before the pools (a range, a standalone registry): in use, never allotted
        conn.execute(code_ledger.insert().values(resident_code=code, lg_code=lg_code, used_at=at))
    elif row.used_at is None:
        conn.execute(_MARK_USED, {"k_code": code, "used_at": at})
        conn.execute(_TAKE_ONE, {"k_lg": row.lg_code})
        lg_code = row.lg_code
    else:
        return False
    unused = conn.execute(_UNUSED, {"k_lg": lg_code}).scalar_one_or_none()
    return unused is None or unused < POOL_LOW


def note_used_many(conn: sa.Connection, used: Sequence[tuple[str, str]], now: datetime) -> set[str]:
    """`note_used` for many (code, lg_code) at once, in a few statements: the municipalities
    whose pool now needs replenishing (each once, however many of its codes came)."""
    ledger: dict[str, tuple[str, str | None]] = {}
    wanted = sorted({code for code, _ in used})
    for i in range(0, len(wanted), _IN_CHUNK):
        rows = conn.execute(_LEDGER_ROWS(conn), {"k_codes": wanted[i : i + _IN_CHUNK]}).all()
        ledger.update({r.resident_code: (r.lg_code, r.used_at) for r in rows})
    at = now.isoformat()
    new: dict[str, dict[str, str]] = {}
    marked: dict[str, str] = {}  # code → the municipality whose pool it came from
    for code, lg_code in used:
        row = ledger.get(code)
        if row is None and code not in new:
            new[code] = {"resident_code": code, "lg_code": lg_code, "used_at": at}
        elif row is not None and row[1] is None and code not in marked:
            marked[code] = row[0]
    if new:
        conn.execute(code_ledger.insert(), list(new.values()))
    if marked:
        codes = sorted(marked)
        for i in range(0, len(codes), _IN_CHUNK):
            conn.execute(
                _MARK_USED_MANY(conn), {"k_codes": codes[i : i + _IN_CHUNK], "used_at": at}
            )
        for lg_code, taken in Counter(marked.values()).items():
            conn.execute(_TAKE_MANY, {"k_lg": lg_code, "k_n": taken})
    touched = {v["lg_code"] for v in new.values()} | set(marked.values())
    return {
        lg
        for lg in sorted(touched)
        if (n := conn.execute(_UNUSED, {"k_lg": lg}).scalar_one_or_none()) is None or n < POOL_LOW
    }


_TAKE_MANY = (
    code_pools.update()
    .where(code_pools.c.lg_code == sa.bindparam("k_lg"))
    .values(unused=code_pools.c.unused - sa.bindparam("k_n"))
)


def retire(conn: sa.Connection, code: str, successor: str, lg_code: str, now: datetime) -> None:
    """The ledger keeps a retired code for good, so it is never allotted again."""
    c = code_ledger.c
    at = now.isoformat()
    done = conn.execute(
        code_ledger.update()
        .where(c.resident_code == code)
        .values(retired_at=at, successor=successor)
    )
    if done.rowcount == 0:
        conn.execute(
            code_ledger.insert().values(
                resident_code=code, lg_code=lg_code, used_at=at, retired_at=at, successor=successor
            )
        )


def current_code(conn: sa.Connection, code: str) -> str:
    """The code a person holds now, following every change from `code`."""
    c = code_ledger.c
    seen = {code}
    while True:
        nxt = conn.execute(
            sa.select(c.successor).where(c.resident_code == code)
        ).scalar_one_or_none()
        if nxt is None or nxt in seen:
            return code
        seen.add(nxt)
        code = nxt


def is_retired(conn: sa.Connection, code: str) -> bool:
    c = code_ledger.c
    row = conn.execute(sa.select(c.retired_at).where(c.resident_code == code)).first()
    return row is not None and row.retired_at is not None


def apply_code_change(
    conn: sa.Connection, change: ResidentCodeChanged, *, message_id: str, now: datetime
) -> None:
    """Every level: the former code's copy goes, the identity_info is kept under the new code.

    Only the municipality holding the resident may change their code: the copy of the former
    code must be that municipality's active resident here, or the message is refused
    (`NotAuthorised`: refused and recorded, as a sender-authority refusal is)."""
    info = change.identity
    c = identity_copies.c
    former = (c.lg_code == info.lg_code) & (c.resident_code == change.former_resident_code)
    status = conn.execute(sa.select(c.status).where(former)).scalar_one_or_none()
    if status != "active":
        raise NotAuthorised(
            f"{info.lg_code} does not hold an active resident {change.former_resident_code}"
        )
    clash = conn.execute(
        sa.select(c.lg_code).where((c.resident_code == info.resident_code) & (c.status == "active"))
    ).first()
    if clash is not None:
        raise NotAuthorised(f"{info.resident_code} is already an active resident's code")
    conn.execute(identity_copies.delete().where(former))
    apply_identity(conn, info, message_id=message_id, now=now)
