"""Each level's copy of identity_info, and the digests that prove the levels agree.

A digest is a count and a SHA-256 over one canonical line per resident code of a municipality,
so two levels agree exactly when their digests are equal, and a disagreement names the
municipality to repair.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar

import sqlalchemy as sa

from juki.network.envelope import canonical_json
from juki.network.messages import IdentityInfoBody, IdentitySnapshot, MessageBody
from juki.nodes.digest import Digest
from juki.nodes.identity_load import (
    CHANGE_COLUMNS,
    COPY_COLUMNS,
    change_row,
    copy_row,
    copy_snapshot_part,
)
from juki.nodes.tables import identity_changes, identity_copies
from juki.registry.identity_info import IDENTITY_FIELDS
from juki.registry.tables import record_changes, resident_records, retired_codes
from juki.storage.bulk import BulkWrite

DIGEST_FIELDS: Final = IDENTITY_FIELDS  # identity_info, not the change information


def _line(values: Sequence[Any]) -> bytes:
    return json.dumps(
        [v.isoformat() if hasattr(v, "isoformat") else v for v in values],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")


def digest_of(lg_code: str, rows: Iterable[Sequence[Any]]) -> Digest:
    h = hashlib.sha256()
    count = 0
    for row in sorted(rows, key=lambda r: str(r[0])):
        h.update(_line(row))
        h.update(b"\n")
        count += 1
    return Digest(lg_code, count, h.hexdigest())


def copies_digest(conn: sa.Connection, lg_code: str) -> Digest:
    c = identity_copies.c
    rows = conn.execute(sa.select(*(c[f] for f in DIGEST_FIELDS)).where(c.lg_code == lg_code)).all()
    return digest_of(lg_code, rows)


def registry_digest(conn: sa.Connection, lg_code: str) -> Digest:
    """The registry's own view: per resident code, the active record, else the latest changed.
    A code the resident changed away from (retired, 法第30条の4) is no longer kept at any level."""
    r = resident_records.c
    last_change = (
        sa.select(record_changes.c.record_id, sa.func.max(record_changes.c.change_id).label("last"))
        .group_by(record_changes.c.record_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(*(r[f] for f in DIGEST_FIELDS), last_change.c.last)
        .join(last_change, last_change.c.record_id == r.record_id)
        .where(
            (r.lg_code == lg_code)
            & r.resident_code.not_in(sa.select(retired_codes.c.resident_code))
        )
    ).all()
    best: dict[str, tuple[tuple[int, int], Sequence[Any]]] = {}
    for row in rows:
        rank = (1 if row.status == "active" else 0, int(row.last))
        current = best.get(row.resident_code)
        if current is None or rank > current[0]:
            best[row.resident_code] = (rank, tuple(row)[: len(DIGEST_FIELDS)])
    return digest_of(lg_code, (v for _, v in best.values()))


def lg_codes_in_copies(conn: sa.Connection) -> list[str]:
    return list(
        conn.execute(
            sa.select(identity_copies.c.lg_code).distinct().order_by(identity_copies.c.lg_code)
        ).scalars()
    )


def apply_identity(
    conn: sa.Connection,
    info: IdentityInfoBody,
    *,
    message_id: str,
    now: datetime,
    snapshot_id: str | None = None,
) -> None:
    """Upsert one person's identity_info and append it to this level's history: a run of one."""
    apply_identities(conn, [(info, message_id)], now=now, snapshot_id=snapshot_id)


def apply_identities(
    conn: sa.Connection,
    changes: Sequence[tuple[IdentityInfoBody, str]],
    *,
    now: datetime,
    snapshot_id: str | None = None,
) -> None:
    """`apply_identity` for many (identity_info, message id) at once, in order (a later change
    of the same person wins): one upsert and one insert for all the rows, on the driver's own
    executemany (SQLite) or arrays (PostgreSQL) — `juki.storage.bulk`."""
    if not changes:
        return
    stamp = now.isoformat()
    _WRITE_COPIES.write(conn, [(*copy_row(info, stamp)[:-1], snapshot_id) for info, _ in changes])
    _WRITE_CHANGES.write(
        conn, [change_row(info, message_id, stamp) for info, message_id in changes]
    )


_WRITE_COPIES: Final = BulkWrite(
    identity_copies, COPY_COLUMNS, upsert_on=("lg_code", "resident_code")
)
_WRITE_CHANGES: Final = BulkWrite(identity_changes, CHANGE_COLUMNS)


# A snapshot part's body stays well under the envelope limit (256 KiB) whatever the addresses
# are like: entries are counted in encoded bytes, not only in number.
SNAPSHOT_PART_ENTRIES: Final = 500
SNAPSHOT_PART_BYTES: Final = 200 * 1024
Entry = TypeVar("Entry", bound=MessageBody)  # identity_info, or 附票本人確認情報 (fuhyo_link)


def snapshot_parts(
    entries: Sequence[Entry],
    max_entries: int = SNAPSHOT_PART_ENTRIES,
    max_bytes: int = SNAPSHOT_PART_BYTES,
) -> list[list[Entry]]:
    """Split a snapshot into parts of at most `max_entries` entries and about `max_bytes` of
    canonical JSON each (always at least one entry per part, and one part for no entries)."""
    parts: list[list[Entry]] = [[]]
    size = 0
    for entry in entries:
        encoded = len(canonical_json(entry.model_dump(mode="json"))) + 1
        current = parts[-1]
        if current and (len(current) >= max_entries or size + encoded > max_bytes):
            parts.append([])
            size = 0
        parts[-1].append(entry)
        size += encoded
    return parts


def apply_snapshot(
    conn: sa.Connection, snapshot: IdentitySnapshot, *, message_id: str, now: datetime
) -> int:
    """Apply one part of a repair snapshot; the last part drops what the municipality no
    longer has. Returns how many copies the last part removed."""
    for entry in snapshot.entries:
        if entry.lg_code != snapshot.lg_code:
            raise ValueError(f"snapshot of {snapshot.lg_code} carries {entry.lg_code}")
    if conn.dialect.name == "postgresql":  # streamed by COPY (ADR 0008)
        copy_snapshot_part(
            conn, snapshot.entries, message_id=message_id, now=now, snapshot_id=snapshot.snapshot_id
        )
    else:
        apply_identities(
            conn,
            [(entry, message_id) for entry in snapshot.entries],
            now=now,
            snapshot_id=snapshot.snapshot_id,
        )
    if snapshot.part < snapshot.parts:
        return 0
    stale = (identity_copies.c.lg_code == snapshot.lg_code) & (
        identity_copies.c.snapshot_id.is_(None)
        | (identity_copies.c.snapshot_id != snapshot.snapshot_id)
    )
    removed = conn.execute(identity_copies.delete().where(stale))
    return int(removed.rowcount)
