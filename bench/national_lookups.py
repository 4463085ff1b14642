"""`bench national`'s reads and writes at size: lookups one at a time, changes one per commit.

Each is timed twice per person, alternating: through juki (the node's own code) and as raw
prepared SQL on the same indexes (the database's limit on this machine, in the same run).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import numpy as np
import psycopg
import sqlalchemy as sa

from bench.common import psycopg_connection
from juki.core.text import normalize_kana
from juki.network.messages import IdentityInfoBody
from juki.nodes.identity import apply_identity
from juki.nodes.provide import FIELDS, SqlIdentitySource
from juki.nodes.tables import identity_copies
from juki.population.national import FIRST_BODY
from juki.population.synthetic.my_numbers import mod11_check_digits
from juki.registry.model import ChangeReason

BY_CODE: Final = "SELECT * FROM identity_copies WHERE resident_code = %s"
BY_ITEMS: Final = (
    "SELECT * FROM identity_copies WHERE name_kana_key = %s AND birth_date = %s "
    "AND status = 'active'"
)
BY_NUMBER: Final = "SELECT my_number FROM identity_copies WHERE my_number = %s LIMIT 1"
RAW_UPDATE: Final = (
    "UPDATE identity_copies SET address = %s, change_reason = %s, changed_on = %s, "
    "updated_at = %s WHERE lg_code = %s AND resident_code = %s"
)
RAW_INSERT: Final = (
    "INSERT INTO identity_changes (lg_code, resident_code, message_id, body, received_at, "
    "name_kana_key, birth_date) VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
Lookup = Callable[[tuple[Any, ...]], int]


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


@dataclass
class Latencies:
    """Seconds per lookup or change, by kind: juki and raw."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, seconds: float, found: int) -> None:
        self.seconds.setdefault(kind, []).append(seconds)
        self.found[kind] = self.found.get(kind, 0) + found

    def ms(self, kind: str, q: float) -> float:
        return float(np.quantile(self.seconds[kind], q)) * 1000

    def rate(self, kind: str) -> float:
        """Per second, one after another on one connection (1 / the mean)."""
        return len(self.seconds[kind]) / sum(self.seconds[kind])


def _ways(conn: sa.Connection, cur: psycopg.Cursor[Any]) -> dict[str, tuple[Lookup, Lookup]]:
    """Each kind of lookup as juki makes it and as a raw prepared SELECT: rows found."""
    source = SqlIdentitySource(conn)
    number_query = sa.select(identity_copies.c.my_number).where(
        identity_copies.c.my_number == sa.bindparam("n")
    )

    def prepared(query: str) -> Lookup:
        def run(params: tuple[Any, ...]) -> int:
            cur.execute(query, params, prepare=True)
            return len(cur.fetchall())

        return run

    def by_code(p: tuple[Any, ...]) -> int:
        return len(source.by_codes([p[0]]).get(p[0], []))

    def by_items(p: tuple[Any, ...]) -> int:
        return len(source.by_reading([(p[1], p[2])]).get((p[1], p[2]), []))

    def by_number(p: tuple[Any, ...]) -> int:
        return int(conn.execute(number_query, {"n": p[3]}).first() is not None)

    code, items, number = prepared(BY_CODE), prepared(BY_ITEMS), prepared(BY_NUMBER)
    return {
        "code": (by_code, lambda p: code((p[0],))),
        "items": (by_items, lambda p: items((p[1], p[2]))),
        "my_number": (by_number, lambda p: number((p[3],))),
    }


def lookups(engine: sa.Engine, people: list[IdentityInfoBody]) -> Latencies:
    """Each person looked up three ways, raw and juki alternating, one connection each."""
    out = Latencies()
    picked = [
        (
            p.resident_code,
            normalize_kana(p.family_name_kana + p.given_name_kana),
            p.birth_date,
            p.my_number,
        )
        for p in people
    ]
    raw_conn = engine.raw_connection()
    try:
        raw = psycopg_connection(raw_conn)
        with engine.connect() as conn, raw.cursor() as cur:
            ways = _ways(conn, cur)
            for i, person in enumerate(picked):
                for kind, (juki, plain) in ways.items():
                    for name, way in ((f"raw {kind}", plain), (f"juki {kind}", juki)):
                        start = time.perf_counter()
                        found = way(person)
                        out.add(name, time.perf_counter() - start, found)
                if i % 1000 == 999:
                    _progress(f"lookups: {i + 1:,}/{len(picked):,}")
            conn.rollback()
        raw.rollback()
    finally:
        raw_conn.close()
    return out


def samples(engine: sa.Engine, persons: int, n: int, seed: int) -> list[IdentityInfoBody]:
    """`n` loaded persons drawn at random, as the node holds them now."""
    rng = np.random.default_rng(seed)
    bodies = FIRST_BODY + rng.choice(persons, size=min(n, persons), replace=False)
    codes = [f"{c:011d}" for c in (bodies * 10 + mod11_check_digits(bodies)).tolist()]
    columns = [identity_copies.c[f] for f in FIELDS]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(*columns).where(identity_copies.c.resident_code.in_(codes))
        ).all()
    return [IdentityInfoBody.model_validate(dict(zip(FIELDS, r, strict=True))) for r in rows]


def changes(engine: sa.Engine, picked: list[IdentityInfoBody], now: datetime) -> Latencies:
    """Each person moves (転居) to the next one's address, one change per transaction, as a
    node applies a message: half through `apply_identity`, half as a raw prepared UPDATE and
    INSERT (the body's JSON made before the clock starts), alternating."""
    out = Latencies()
    at = now.isoformat()
    moves = [
        p.model_copy(
            update={
                "address": picked[(i + 1) % len(picked)].address,
                "change_reason": ChangeReason.RELOCATION.value,
                "changed_on": now.date(),
            }
        )
        for i, p in enumerate(picked)
    ]
    raw_conn = engine.raw_connection()
    try:
        raw = psycopg_connection(raw_conn)
        for i in range(0, len(moves) - 1, 2):
            mine, theirs = moves[i], moves[i + 1]
            values = (mine.address, mine.change_reason, mine.changed_on, at)
            key = (mine.lg_code, mine.resident_code)
            reading = normalize_kana(mine.family_name_kana + mine.given_name_kana)
            body = (*key, f"bench-{i}", mine.model_dump_json(), at, reading, mine.birth_date)
            start = time.perf_counter()
            with raw.cursor() as cur:
                found = cur.execute(RAW_UPDATE, (*values, *key), prepare=True).rowcount
                cur.execute(RAW_INSERT, body, prepare=True)
            raw.commit()
            out.add("raw change", time.perf_counter() - start, found)
            start = time.perf_counter()
            with engine.begin() as conn:
                apply_identity(conn, theirs, message_id=f"bench-{i + 1}", now=now)
            out.add("juki change", time.perf_counter() - start, 1)
    finally:
        raw_conn.close()
    return out
