"""The CS's pump: its registry's outbox rows onto the network, a batch per transaction.

The registry writes each change's event to its own outbox in the change's transaction; the CS
takes up to `PUMP_BATCH` of them at a time (its database's), in order, forwards each (its own
copy, a message queued for the network) and marks them forwarded, all in one transaction: a
crash leaves them either all forwarded or all still waiting. identity_info is forwarded in
runs (one write of the copies and the link for the run), and a run goes on across the events
whose forwarding touches nothing identity_info does. 附票 notices are forwarded in runs as
well (a household's relocation brings one per member), each run before anything after it:
every peer is sent what it was sent forwarding the rows one at a time, in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import orjson
import sqlalchemy as sa

from juki.network.messages import FUHYO_NOTICE, IDENTITY_INFO_CHANGED, parse_body
from juki.registry.tables import outbox
from juki.storage.bulk import PerDialect, one_of

# Registry changes forwarded per transaction, by database. SQLite's WAL takes each page a
# transaction changed whole, and the CS's own copy of each change's identity_info goes into
# indexes keyed by resident code and reading key, at random places: more changes to a
# transaction share more of those pages, and at 8,192 the CS queued a 100 k backlog about a
# third faster than at 1,024 (docs/scale.md, stop 28). PostgreSQL logs rows, not pages, and
# was slower at 8,192. A step holds a SQLite municipality's write lock about 0.8 s on this
# project's machine: a counter's write waits that long at most, and only while a run (a
# seeded or loaded population, a 離脱's backlog) is forwarded; otherwise a step takes the few
# changes there are.
PUMP_BATCH: Final = {"sqlite": 8192, "postgresql": 1024}


def pump_batch(dialect: str) -> int:
    return PUMP_BATCH.get(dialect, 1024)


# Built once per dialect: every step of a municipality asks for its registry's unforwarded rows.
_UNFORWARDED: Final = PerDialect(
    lambda dialect: (
        sa.select(outbox)
        .where(outbox.c.delivered_at.is_(None))
        .order_by(outbox.c.outbox_id)
        .limit(pump_batch(dialect))
    )
)
_FORWARDED: Final = PerDialect(
    lambda dialect: outbox.update().where(one_of(outbox.c.outbox_id, "k_ids", dialect))
)
# Forwards one registry event (a message body) onto the network, in the pump's transaction.
Forwarder = Callable[[sa.Connection, str, Any], None]
# Forwards a run of identity_info_changed events, given as (registry message id, event).
RunForwarder = Callable[[sa.Connection, list[tuple[str, Any]]], None]
# Registry events whose forwarding touches nothing identity_info does (the 附票, 附票連携):
# a run of identity_info is forwarded together across them, not cut into pieces.
BESIDE_IDENTITY: Final = frozenset({FUHYO_NOTICE})


def pump_registry(
    engine: sa.Engine,
    now: str,
    forwarders: Mapping[str, Forwarder],
    forward_identities: RunForwarder,
    forward_fuhyo: RunForwarder,
) -> int:
    """Forward up to a batch of registry outbox rows in one transaction; how many.
    `forward_fuhyo` takes a run of fuhyo_notice events as `forward_identities` takes theirs."""
    with engine.begin() as conn:
        rows = conn.execute(_UNFORWARDED(conn)).all()
        run: list[tuple[str, Any]] = []  # identity_info, forwarded together
        notices: list[tuple[str, Any]] = []  # 附票 notices, together until another event
        for row in rows:
            # orjson, faster than the standard library: the registry wrote these payloads from
            # its own models, which hold no integer past 64 bits (orjson reads one as a float)
            payload = orjson.loads(row.payload)
            event = parse_body(row.message_type, row.schema_version, payload)
            if row.message_type == IDENTITY_INFO_CHANGED:
                run.append((row.message_id, event))
                continue
            if row.message_type == FUHYO_NOTICE:
                notices.append((row.message_id, event))
                continue
            forward_fuhyo(conn, notices)
            notices = []
            if row.message_type not in BESIDE_IDENTITY:
                forward_identities(conn, run)
                run = []
            forward = forwarders.get(row.message_type)
            if forward is None:
                raise ValueError(f"the registry outbox holds {row.message_type}, not an event")
            forward(conn, row.message_id, event)
        forward_fuhyo(conn, notices)
        forward_identities(conn, run)
        if rows:  # the whole batch at once, in the same transaction as its forwarding
            ids = [r.outbox_id for r in rows]
            conn.execute(_FORWARDED(conn), {"k_ids": ids, "delivered_at": now})
    return len(rows)
