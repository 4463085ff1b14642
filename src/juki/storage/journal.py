"""The outbox (identity_info waiting for the network) and the operation log, in SQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from juki.registry.ports import IdSource, OpLogEntry
from juki.storage.tables import oplog, outbox


class SqlOutbox:
    def __init__(self, conn: sa.Connection, ids: IdSource, now: Callable[[], datetime]) -> None:
        self._conn = conn
        self._ids = ids
        self._now = now

    def put(self, message_type: str, key: str, payload: Mapping[str, Any]) -> None:
        self._conn.execute(
            outbox.insert().values(
                message_id=self._ids.new_id(),
                message_type=message_type,
                key=key,
                payload=json.dumps(payload, ensure_ascii=False, sort_keys=True),
                created_at=self._now().isoformat(),
            )
        )


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
        self._conn.execute(oplog.insert().values(oplog_row(entry)))
