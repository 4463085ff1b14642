"""附票連携 (fuhyo_link): the 本籍 municipality sends each change of its 附票 up as
附票本人確認情報; its prefecture and national keep a copy with every change (住基法 第30条の41以下).

The municipality's own view is its 附票 (`fuhyo_entries`): per person, the entry latest by
(change date, order recorded) — the entry a 戸籍の附票の写し ends with. A copy applies a change only
when it is not older than what it holds, so a late notice of an earlier change (recorded after a
later one) goes into the history and leaves the copy as the 附票 reads. Digests and the repair
snapshot work as identity_info's (`juki.nodes.identity`), per 本籍 municipality.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa

from juki.core.text import normalize_kana
from juki.network.directory import NodeKind
from juki.network.fuhyo_link_messages import (
    FuhyoIdentityInfoBody,
    FuhyoIdentityInfoChanged,
    FuhyoIdentitySnapshot,
)
from juki.network.messages import FuhyoNotice
from juki.nodes.digest import Digest
from juki.nodes.identity import digest_of, snapshot_parts
from juki.nodes.tables import fuhyo_identity_changes, fuhyo_identity_copies
from juki.registry.tables import fuhyo_entries
from juki.storage.bulk import BulkWrite

if TYPE_CHECKING:
    from juki.nodes.node import Node

FIELDS: Final = tuple(FuhyoIdentityInfoBody.model_fields)


def fuhyo_identity_of(notice: FuhyoNotice, lg_code: str) -> FuhyoIdentityInfoBody:
    """The 附票本人確認情報 of one 附票 entry the municipality `lg_code` recorded: the notice's
    items without the 本籍, the 筆頭者 or the 支援措置 (they stay with the 附票)."""
    return FuhyoIdentityInfoBody(
        resident_code=notice.resident_code,
        family_name=notice.family_name,
        given_name=notice.given_name,
        family_name_kana=notice.family_name_kana,
        given_name_kana=notice.given_name_kana,
        birth_date=notice.birth_date,
        sex=notice.sex,
        address=notice.address,
        moved_abroad=notice.moved_abroad,
        abroad_country=notice.abroad_country if notice.moved_abroad else None,
        status=notice.status,
        lg_code=lg_code,
        change_reason=notice.change_reason,
        changed_on=notice.changed_on,
    )


def link_fuhyo(node: Node, conn: sa.Connection, notice: FuhyoNotice) -> None:
    """The 本籍 municipality recorded `notice` on its 附票: send the change up, in the same
    transaction (exactly once, in order, through the outbox)."""
    link_fuhyos(node, conn, [notice])


def link_fuhyos(node: Node, conn: sa.Connection, notices: Sequence[FuhyoNotice]) -> None:
    """`link_fuhyo` for notices recorded in one transaction, in order: one write of the
    link up for them all."""
    parent = node.parent
    if parent is not None and notices:
        infos = [fuhyo_identity_of(n, node.node_id) for n in notices]
        node.send_many(conn, parent, [FuhyoIdentityInfoChanged(fuhyo_identity=i) for i in infos])


def fuhyo_identity_of_entry(row: Mapping[Any, Any], lg_code: str) -> FuhyoIdentityInfoBody:
    """The 附票本人確認情報 of one row of the 附票 (`fuhyo_entries`) kept by `lg_code`."""
    moved_abroad = bool(row["moved_abroad"])
    return FuhyoIdentityInfoBody(
        resident_code=row["resident_code"],
        family_name=row["family_name"],
        given_name=row["given_name"],
        family_name_kana=row["family_name_kana"],
        given_name_kana=row["given_name_kana"],
        birth_date=row["birth_date"],
        sex=row["sex"],
        address=row["address"],
        moved_abroad=moved_abroad,
        abroad_country=row["abroad_country"] if moved_abroad else None,
        status=row["status"],
        lg_code=lg_code,
        change_reason=row["change_reason"],
        changed_on=row["changed_on"],
    )


def municipal_fuhyo_identities(conn: sa.Connection, lg_code: str) -> list[FuhyoIdentityInfoBody]:
    """The 附票本人確認情報 the municipality's 附票 holds now: per person, the latest entry."""
    f = fuhyo_entries.c
    rows = conn.execute(sa.select(fuhyo_entries).order_by(f.changed_on, f.entry_id)).mappings()
    latest = {row["resident_code"]: row for row in rows}
    return [fuhyo_identity_of_entry(latest[code], lg_code) for code in sorted(latest)]


def municipal_fuhyo_digest(conn: sa.Connection, lg_code: str) -> Digest:
    entries = municipal_fuhyo_identities(conn, lg_code)
    return digest_of(lg_code, (tuple(e.model_dump().values()) for e in entries))


def copies_fuhyo_digest(conn: sa.Connection, lg_code: str) -> Digest:
    c = fuhyo_identity_copies.c
    rows = conn.execute(sa.select(*(c[f] for f in FIELDS)).where(c.lg_code == lg_code)).mappings()
    return digest_of(
        lg_code, (tuple(bool(r[f]) if f == "moved_abroad" else r[f] for f in FIELDS) for r in rows)
    )


def fuhyo_digests(node: Node) -> list[Digest]:
    """This node's digest of each 附票 it covers: a municipality's of its own 附票, a
    prefecture's and national's of their copies."""
    with node.engine.connect() as conn:
        if node.kind is NodeKind.MUNICIPALITY:
            return [municipal_fuhyo_digest(conn, node.node_id)]
        return [copies_fuhyo_digest(conn, lg) for lg in node.covered_lg_codes()]


def apply_fuhyo_identity(
    conn: sa.Connection,
    info: FuhyoIdentityInfoBody,
    *,
    message_id: str,
    now: datetime,
    snapshot_id: str | None = None,
) -> None:
    """Append the change to this level's history; upsert the copy unless it holds a later
    change (a snapshot's entry always replaces it): a run of one."""
    apply_fuhyo_identities(conn, [(info, message_id)], now=now, snapshot_id=snapshot_id)


# The history and copy rows of 附票本人確認情報, written on the driver (`juki.storage.bulk`).
_CHANGE_COLUMNS: Final = (
    "lg_code",
    "resident_code",
    "name_kana_key",
    "birth_date",
    "changed_on",
    "message_id",
    "body",
    "received_at",
)
_COPY_COLUMNS: Final = (*FIELDS, "name_kana_key", "updated_at", "snapshot_id")
_COPY_KEY: Final = ("lg_code", "resident_code")
_WRITE_CHANGES: Final = BulkWrite(fuhyo_identity_changes, _CHANGE_COLUMNS)
# a change replaces the copy unless the copy holds a later one; a snapshot's entry always does
_WRITE_COPIES: Final = BulkWrite(
    fuhyo_identity_copies, _COPY_COLUMNS, upsert_on=_COPY_KEY, newer_than="changed_on"
)
_REPLACE_COPIES: Final = BulkWrite(fuhyo_identity_copies, _COPY_COLUMNS, upsert_on=_COPY_KEY)
_fields_of: Final = attrgetter(*FIELDS)


def apply_fuhyo_identities(
    conn: sa.Connection,
    changes: Sequence[tuple[FuhyoIdentityInfoBody, str]],
    *,
    now: datetime,
    snapshot_id: str | None = None,
) -> None:
    """`apply_fuhyo_identity` for many (附票本人確認情報, message id) at once, in order: the
    history in one insert, the copies in one upsert that keeps a copy holding a later change
    (a snapshot's entries, with `snapshot_id`, replace it)."""
    if not changes:
        return
    stamp = now.isoformat()
    history: list[tuple[Any, ...]] = []
    copies: list[tuple[Any, ...]] = []
    for info, message_id in changes:
        key = normalize_kana(info.family_name_kana + info.given_name_kana)
        history.append(
            (
                info.lg_code,
                info.resident_code,
                key,
                info.birth_date,
                info.changed_on,
                message_id,
                info.model_dump_json(),
                stamp,
            )
        )
        copies.append((*_fields_of(info), key, stamp, snapshot_id))
    _WRITE_CHANGES.write(conn, history)
    (_WRITE_COPIES if snapshot_id is None else _REPLACE_COPIES).write(conn, copies)


def apply_fuhyo_snapshot(
    conn: sa.Connection, snapshot: FuhyoIdentitySnapshot, *, message_id: str, now: datetime
) -> int:
    """Apply one part of a repair snapshot (its entries at once); the last part drops what the
    municipality's 附票 no longer holds. Returns how many copies the last part removed."""
    apply_fuhyo_identities(
        conn,
        [(entry, message_id) for entry in snapshot.entries],
        now=now,
        snapshot_id=snapshot.snapshot_id,
    )
    if snapshot.part < snapshot.parts:
        return 0
    c = fuhyo_identity_copies.c
    stale = (c.lg_code == snapshot.lg_code) & (
        c.snapshot_id.is_(None) | (c.snapshot_id != snapshot.snapshot_id)
    )
    return int(conn.execute(fuhyo_identity_copies.delete().where(stale)).rowcount)


def send_fuhyo_snapshot(node: Node, conn: sa.Connection, snapshot_id: str) -> int:
    """Repair: the municipality sends its whole 附票本人確認情報 up, in parts (none when it has
    no parent). Returns how many entries."""
    parent = node.parent
    if parent is None:
        return 0
    entries = municipal_fuhyo_identities(conn, node.node_id)
    chunks = snapshot_parts(entries)
    for i, chunk in enumerate(chunks):
        node.send(
            conn,
            parent,
            FuhyoIdentitySnapshot(
                lg_code=node.node_id,
                snapshot_id=snapshot_id,
                part=i + 1,
                parts=len(chunks),
                entries=chunk,
            ),
        )
    return len(entries)
