"""Where a registry's resident codes come from, in SQL (ADR 0006).

In order: a random unreserved member of the pool the national node allotted; before the first
pool, a range national allotted in the old scheme (migration 0014); in a standalone registry
(one that never received anything from national), a random code it draws itself and checks
against its own tables. A network member with an empty pool is refused (`allotment_exhausted`)
until national replenishes it.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Final

import sqlalchemy as sa

from juki.core.errors import DomainRuleError, ValidationError
from juki.core.identifiers import ResidentCode
from juki.registry.codes import MAX_DRAWS, draw_unused, random_code
from juki.registry.tables import (
    code_allotments,
    code_pool,
    code_pool_batches,
    resident_records,
    retired_codes,
)

RESIDENT_CODE: Final = "resident_code"  # the kind of code a (legacy) range allotment holds
NATIONAL: Final = "national"
STANDALONE: Final = "standalone"
_IN_CHUNK: Final = 500

EXHAUSTED_JA: Final = "住民票コードの割当を使い切りました。機構からの追加の割当をお待ちください"


def exhausted() -> DomainRuleError:
    return DomainRuleError(
        "resident_code",
        "allotment_exhausted",
        "no resident codes left in this municipality's allotment",
        EXHAUSTED_JA,
    )


def from_national(conn: sa.Connection) -> bool:
    """Whether national ever allotted this registry codes (a pool, or a range before 0014)."""
    if _national_pool_received(conn):
        return True
    a = code_allotments.c
    ranged = conn.execute(
        sa.select(a.allotment_id).where(a.allotted_by.like("national%")).limit(1)
    ).first()
    return ranged is not None


def _national_pool_received(conn: sa.Connection) -> bool:
    b = code_pool_batches.c
    row = conn.execute(sa.select(b.batch_id).where(b.source == NATIONAL).limit(1)).first()
    return row is not None


def _from_pool(conn: sa.Connection, rng: random.Random) -> str | None:
    """A uniformly random unreserved member: which one is independent of when each code was
    allotted and of the order codes are handed out."""
    p = code_pool.c
    free = p.reserved_by.is_(None)
    for _ in range(MAX_DRAWS):
        size = conn.execute(sa.select(sa.func.count()).where(free)).scalar_one()
        if not size:
            return None
        code = conn.execute(
            sa.select(p.resident_code)
            .where(free)
            .order_by(p.resident_code)
            .offset(rng.randrange(size))
            .limit(1)
        ).scalar_one()
        taken = conn.execute(code_pool.delete().where((p.resident_code == code) & free))
        if taken.rowcount == 1:  # another counter may have taken it first: draw again
            return str(code)
    raise exhausted()


def _from_range(conn: sa.Connection) -> str | None:
    a = code_allotments.c
    row = conn.execute(
        sa.select(a.allotment_id, a.next_body)
        .where((a.kind == RESIDENT_CODE) & (a.next_body <= a.last_body))
        .order_by(a.allotment_id)
        .limit(1)
        .with_for_update()
    ).first()
    if row is None:
        return None
    conn.execute(
        code_allotments.update()
        .where(a.allotment_id == row.allotment_id)
        .values(next_body=row.next_body + 1)
    )
    return ResidentCode.complete(f"{row.next_body:010d}").value


def taken_codes(conn: sa.Connection, codes: Iterable[str]) -> set[str]:
    """Which of `codes` this registry has ever used, retired or holds in its pool."""
    wanted = sorted(codes)
    found: set[str] = set()
    for i in range(0, len(wanted), _IN_CHUNK):
        chunk = wanted[i : i + _IN_CHUNK]
        for column in (
            resident_records.c.resident_code,
            retired_codes.c.resident_code,
            code_pool.c.resident_code,
        ):
            found.update(
                conn.execute(sa.select(column).where(column.in_(chunk)).distinct()).scalars()
            )
    return found


def draw_resident_code(conn: sa.Connection, rng: random.Random) -> str:
    """The next resident code for a new record (see the module's docstring for the order)."""
    code = _from_pool(conn, rng)
    if code is not None:
        return code
    if not _national_pool_received(conn):
        code = _from_range(conn)
        if code is not None:
            return code
    if from_national(conn):
        raise exhausted()
    for _ in range(MAX_DRAWS):
        candidate = random_code(rng)
        if not taken_codes(conn, [candidate]):
            return candidate
    raise exhausted()


def receive_pool(
    conn: sa.Connection, codes: Sequence[str], *, source: str, allotted_by: str, now: str
) -> tuple[int, list[str]]:
    """Keep a batch of codes to hand out; returns (batch id, the codes already known here,
    which are not kept: national never allots a used code, so these are reported)."""
    known = taken_codes(conn, codes)
    inserted = conn.execute(
        code_pool_batches.insert().values(
            source=source, allotted_by=allotted_by, codes=len(codes) - len(known), received_at=now
        )
    ).inserted_primary_key
    assert inserted is not None
    batch_id = inserted[0]
    rows = [{"resident_code": c, "batch_id": batch_id} for c in codes if c not in known]
    if rows:
        conn.execute(code_pool.insert(), rows)
    return int(batch_id), sorted(known)


def reserve_codes(
    conn: sa.Connection, n: int, *, rng: random.Random, run_id: str, now: str
) -> list[str]:
    """Reserve `n` codes for a bulk load, in random order: members of national's pool, or, in
    a standalone registry, codes drawn here and kept in the pool as reserved. Reserved codes are
    never handed out at the counter; `release_reserved` drops them once they are on records
    (a load that fails half-way leaves its unused codes reserved, never handed out)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("LOCK TABLE code_pool IN SHARE ROW EXCLUSIVE MODE")
    p = code_pool.c
    if from_national(conn):
        free = sorted(
            conn.execute(sa.select(p.resident_code).where(p.reserved_by.is_(None))).scalars()
        )
        if len(free) < n:
            raise ValidationError(
                "residents",
                "codes_exhausted",
                f"the pool national allotted holds {len(free)} resident codes, not {n}",
                f"機構から割り当てられた住民票コードが不足しています（残り{len(free)}件）",
            )
        chosen = rng.sample(free, n)
        for i in range(0, n, _IN_CHUNK):
            conn.execute(
                code_pool.update()
                .where(p.resident_code.in_(chosen[i : i + _IN_CHUNK]))
                .values(reserved_by=run_id)
            )
        return chosen
    drawn = draw_unused(rng, n, lambda cs: taken_codes(conn, cs))
    batch_id, _ = receive_pool(conn, [], source=STANDALONE, allotted_by=STANDALONE, now=now)
    conn.execute(
        code_pool_batches.update().where(code_pool_batches.c.batch_id == batch_id).values(codes=n)
    )
    conn.execute(
        code_pool.insert(),
        [{"resident_code": c, "batch_id": batch_id, "reserved_by": run_id} for c in drawn],
    )
    return drawn


def release_reserved(conn: sa.Connection, run_id: str) -> int:
    """Drop a finished load's reservations: its codes are on records now."""
    return int(conn.execute(code_pool.delete().where(code_pool.c.reserved_by == run_id)).rowcount)


def retire_code(
    conn: sa.Connection, code: str, *, successor: str, record_id: str, now: str
) -> None:
    conn.execute(
        retired_codes.insert().values(
            resident_code=code, successor=successor, record_id=record_id, retired_at=now
        )
    )


def successor_of(conn: sa.Connection, code: str) -> str | None:
    """The code that replaced a retired one (following every later change)."""
    current, seen = code, set()
    while current not in seen:
        seen.add(current)
        nxt = conn.execute(
            sa.select(retired_codes.c.successor).where(retired_codes.c.resident_code == current)
        ).scalar_one_or_none()
        if nxt is None:
            return None if current == code else current
        current = str(nxt)
    return current
