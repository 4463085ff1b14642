"""What the registry and its CS hand each other, in SQL: the outbox of typed events going out,
the 転出証明書情報 that came in ahead of a card-based move-in, and the 附票 entries this
municipality keeps as a 本籍 municipality."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from juki.core.ports import IdSource
from juki.network.messages import (
    CURRENT_VERSION,
    FuhyoNotice,
    MoveOutCertificateInfo,
    body_of,
    type_of,
)
from juki.registry.events import RegistryEvent
from juki.registry.tables import fuhyo_entries, move_out_infos, outbox
from juki.storage.watch import announce

_INSERT_OUTBOX = outbox.insert()


def outbox_row(
    message_id: str, event: RegistryEvent, key: str, created_at: datetime
) -> dict[str, Any]:
    name = type_of(event)
    return {
        "message_id": message_id,
        "message_type": name,
        "schema_version": CURRENT_VERSION[name],
        "key": key,
        "payload": json.dumps(body_of(event), ensure_ascii=False, sort_keys=True),
        "created_at": created_at.isoformat(),
    }


class SqlOutbox:
    def __init__(self, conn: sa.Connection, ids: IdSource, now: Callable[[], datetime]) -> None:
        self._conn = conn
        self._ids = ids
        self._now = now

    def put(self, event: RegistryEvent, key: str) -> None:
        """Queue the event for the CS; a CS in another process is woken when this commits."""
        self._conn.execute(_INSERT_OUTBOX, outbox_row(self._ids.new_id(), event, key, self._now()))
        announce(self._conn)


class SqlMoveOutInfos:
    """転出証明書情報 received by this municipality's CS, taken once by a card-based move-in."""

    def __init__(self, conn: sa.Connection, now: Callable[[], datetime]) -> None:
        self._conn = conn
        self._now = now

    def take(self, resident_code: str, from_lg_code: str) -> Mapping[str, Any] | None:
        m = move_out_infos.c
        where = (
            (m.resident_code == resident_code)
            & (m.from_lg_code == from_lg_code)
            & m.used_at.is_(None)
            & m.withdrawn_on.is_(None)
        )
        body = self._conn.execute(sa.select(m.body).where(where)).scalar_one_or_none()
        if body is None:
            return None
        self._conn.execute(
            move_out_infos.update().where(where).values(used_at=self._now().isoformat())
        )
        loaded: dict[str, Any] = json.loads(body)
        return loaded

    def withdrawn_on(self, resident_code: str, from_lg_code: str) -> date | None:
        """The day the origin withdrew the information it sent (転出取消), if it did."""
        m = move_out_infos.c
        day: date | None = self._conn.execute(
            sa.select(m.withdrawn_on).where(
                (m.resident_code == resident_code) & (m.from_lg_code == from_lg_code)
            )
        ).scalar_one_or_none()
        return day


def held_move_out_infos(conn: sa.Connection, resident_code: str) -> list[dict[str, Any]]:
    """Every 転出証明書情報 held for this resident code (one per origin municipality)."""
    m = move_out_infos.c
    rows = conn.execute(
        sa.select(m.from_lg_code, m.body, m.used_at, m.withdrawn_on).where(
            m.resident_code == resident_code
        )
    ).mappings()
    return [dict(r) for r in rows]


def withdraw_move_out_info(
    conn: sa.Connection, resident_code: str, from_lg_code: str, on: date
) -> None:
    """転出取消 at the destination: the information stays, marked withdrawn, so a 特例転入 on
    it is refused saying why (`SqlMoveOutInfos.take` no longer gives it)."""
    m = move_out_infos.c
    conn.execute(
        move_out_infos.update()
        .where((m.resident_code == resident_code) & (m.from_lg_code == from_lg_code))
        .values(withdrawn_on=on)
    )


def keep_move_out_info(conn: sa.Connection, info: MoveOutCertificateInfo, now: str) -> None:
    """The CS keeps what arrived; a later one from the same municipality replaces it."""
    key = (move_out_infos.c.resident_code == info.identity.resident_code) & (
        move_out_infos.c.from_lg_code == info.from_lg_code
    )
    conn.execute(move_out_infos.delete().where(key))
    conn.execute(
        move_out_infos.insert().values(
            resident_code=info.identity.resident_code,
            from_lg_code=info.from_lg_code,
            body=info.model_dump_json(),
            received_at=now,
        )
    )


def record_fuhyo(conn: sa.Connection, notice: FuhyoNotice, message_id: str, now: str) -> None:
    values = notice.model_dump()
    values.update(message_id=message_id, received_at=now)
    conn.execute(_INSERT_FUHYO, values)


# Built once and executed with parameters: a relocation's 附票 notices come by the hundred.
_INSERT_FUHYO = fuhyo_entries.insert()


def fuhyo_history(conn: sa.Connection, honseki: str, koseki_head: str) -> list[dict[str, Any]]:
    """附票: the address history of everyone in one family register, oldest first."""
    f = fuhyo_entries.c
    rows = (
        conn.execute(
            sa.select(fuhyo_entries)
            .where((f.honseki == honseki) & (f.koseki_head == koseki_head))
            .order_by(f.resident_code, f.address_since, f.entry_id)
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


def fuhyo_support_on(entry: Mapping[str, Any], day: date) -> bool:
    """Whether the 支援措置 an entry of the 附票 was notified with applies on `day`, as the 本籍
    municipality reads it: from the period a version-3 notice carried (so its end needs no
    further notice), or the flag alone from an older one (as of the change's date)."""
    starts, ends = entry.get("support_starts_on"), entry.get("support_ends_on")
    if starts is not None and ends is not None:
        return bool(starts <= day <= ends)
    return bool(entry.get("support_measure"))


def pending_events(conn: sa.Connection) -> int:
    """Events the CS has not forwarded yet."""
    return int(
        conn.execute(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.delivered_at.is_(None))
        ).scalar_one()
    )
