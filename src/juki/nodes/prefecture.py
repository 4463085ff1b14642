"""A prefecture's server: keeps its municipalities' identity_info and passes it up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from juki.network.directory import NATIONAL_ID, NodeKind
from juki.network.disclosure_messages import IDENTITY_DISCLOSURE_REQUEST
from juki.network.envelope import Envelope
from juki.network.fuhyo_link_messages import (
    FUHYO_IDENTITY_INFO_CHANGED,
    FUHYO_IDENTITY_SNAPSHOT,
    FuhyoIdentityInfoChanged,
    FuhyoIdentitySnapshot,
)
from juki.network.identity_runs import (
    IDENTITY_INFO_CHANGES,
    RUN_BYTES,
    IdentityInfoChanges,
    pack,
)
from juki.network.messages import (
    IDENTITY_INFO_CHANGED,
    IDENTITY_SNAPSHOT,
    OPLOG_CHECKPOINT,
    RESIDENT_CODE_CHANGED,
    IdentityInfoChanged,
    IdentitySnapshot,
    ResidentCodeChanged,
)
from juki.network.receiver import BatchHandler, Handler
from juki.network.store import MessageTooLarge
from juki.nodes.codes import apply_code_change
from juki.nodes.disclosure import answer_identity_disclosure
from juki.nodes.fuhyo_link import (
    apply_fuhyo_identities,
    apply_fuhyo_identity,
    apply_fuhyo_snapshot,
)
from juki.nodes.identity import apply_identities, apply_identity, apply_snapshot
from juki.nodes.node import Node
from juki.nodes.queries import QueryHandler


class PrefectureNode(Node):
    kind = NodeKind.PREFECTURE

    def covered_lg_codes(self) -> list[str]:
        return [e.node_id for e in self.directory().children(self.node_id)]

    def handlers(self) -> Mapping[str, Handler]:
        return {
            IDENTITY_INFO_CHANGED: self._on_identity,
            IDENTITY_INFO_CHANGES: self._on_identity_run,
            IDENTITY_SNAPSHOT: self._on_snapshot,
            RESIDENT_CODE_CHANGED: self._on_code_change,
            OPLOG_CHECKPOINT: self._on_checkpoint,
            FUHYO_IDENTITY_INFO_CHANGED: self._on_fuhyo_identity,
            FUHYO_IDENTITY_SNAPSHOT: self._on_fuhyo_snapshot,
        }

    def batch_handlers(self) -> Mapping[str, BatchHandler]:
        return {
            IDENTITY_INFO_CHANGED: self._on_identities,
            FUHYO_IDENTITY_INFO_CHANGED: self._on_fuhyo_identities,
        }

    def _on_fuhyo_identities(
        self, conn: sa.Connection, run: Sequence[tuple[Envelope, Any]]
    ) -> None:
        """附票連携: a batch's run, as `_on_fuhyo_identity` does each."""
        changes: list[FuhyoIdentityInfoChanged] = [body for _, body in run]
        apply_fuhyo_identities(
            conn,
            [(c.fuhyo_identity, env.message_id) for (env, _), c in zip(run, changes, strict=True)],
            now=self.clock.now(),
        )
        self.send_many(conn, NATIONAL_ID, changes)

    def _on_identities(self, conn: sa.Connection, run: Sequence[tuple[Envelope, Any]]) -> None:
        """A batch's run of identity_info, kept and passed up as `_on_identity` does each."""
        changes: list[IdentityInfoChanged] = [body for _, body in run]
        apply_identities(
            conn,
            [(c.identity, env.message_id) for (env, _), c in zip(run, changes, strict=True)],
            now=self.clock.now(),
        )
        self.send_many(conn, NATIONAL_ID, changes)

    def query_handlers(self) -> Mapping[str, QueryHandler]:
        return {
            IDENTITY_DISCLOSURE_REQUEST: lambda env, body: answer_identity_disclosure(
                self, env, body
            )
        }

    def _on_code_change(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        change: ResidentCodeChanged = body
        apply_code_change(conn, change, message_id=env.message_id, now=self.clock.now())
        self.send(conn, NATIONAL_ID, change)

    def _on_identity(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        msg: IdentityInfoChanged = body
        apply_identity(conn, msg.identity, message_id=env.message_id, now=self.clock.now())
        self.send(conn, NATIONAL_ID, msg)

    def _on_identity_run(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        """identity_info_changes: kept in order under the message's id, passed up as one — or,
        larger than a message alone may be (a batch carried it; no CS packs one so), in parts
        that each could go alone, so a retry to national never refuses it as oversized."""
        run: IdentityInfoChanges = body
        apply_identities(
            conn, [(info, env.message_id) for info in run.changes], now=self.clock.now()
        )
        try:
            self.send(conn, NATIONAL_ID, run)
        except MessageTooLarge:
            self.send_many(conn, NATIONAL_ID, pack(run.lg_code, run.changes, RUN_BYTES))

    def _on_snapshot(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        snap: IdentitySnapshot = body
        apply_snapshot(conn, snap, message_id=env.message_id, now=self.clock.now())
        self.send(conn, NATIONAL_ID, snap)

    # -- 附票連携: the 附票本人確認情報 of the prefecture's 本籍 municipalities, kept and passed up

    def _on_fuhyo_identity(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        msg: FuhyoIdentityInfoChanged = body
        apply_fuhyo_identity(
            conn, msg.fuhyo_identity, message_id=env.message_id, now=self.clock.now()
        )
        self.send(conn, NATIONAL_ID, msg)

    def _on_fuhyo_snapshot(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        snap: FuhyoIdentitySnapshot = body
        apply_fuhyo_snapshot(conn, snap, message_id=env.message_id, now=self.clock.now())
        self.send(conn, NATIONAL_ID, snap)
