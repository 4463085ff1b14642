"""The outbox (identity_info waiting for the network) and the operation log, in SQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from juki.registry.ports import IdSource, OpLogEntry
from juki.storage.tables import move_out_infos, oplog, outbox


class SqlOutbox:
    def __init__(self, conn: sa.Connection, ids: IdSource, now: Callable[[], datetime]) -> None:
        self._conn = conn
        self._ids = ids
        self._now = now

    def put(self, message_type: str, key: str, payload: Mapping[str, Any]) -> None:
        self._conn.execute(
            _INSERT_OUTBOX,
            {
                "message_id": self._ids.new_id(),
                "message_type": message_type,
                "key": key,
                "payload": json.dumps(payload, ensure_ascii=False, sort_keys=True),
                "created_at": self._now().isoformat(),
            },
        )


_INSERT_OUTBOX = outbox.insert()
_INSERT_OPLOG = oplog.insert()


def oplog_row(entry: OpLogEntry) -> dict[str, Any]:
    return {
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "role": entry.role,
        "terminal_id": entry.terminal_id,
        "action": entry.action,
        "target": entry.target,
        "outcome": entry.outcome,
        "detail": entry.detail,
    }


class SqlOpLog:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def append(self, entry: OpLogEntry) -> None:
        self._conn.execute(_INSERT_OPLOG, oplog_row(entry))


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
        )
        body = self._conn.execute(sa.select(m.body).where(where)).scalar_one_or_none()
        if body is None:
            return None
        self._conn.execute(
            move_out_infos.update().where(where).values(used_at=self._now().isoformat())
        )
        loaded: dict[str, Any] = json.loads(body)
        return loaded
