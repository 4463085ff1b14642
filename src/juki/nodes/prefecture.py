"""A prefecture's server: keeps its municipalities' identity_info and passes it up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from juki.core.errors import DomainRuleError
from juki.network.directory import NATIONAL_ID, NodeKind
from juki.network.envelope import Envelope
from juki.network.messages import (
    IDENTITY_INFO_CHANGED,
    IDENTITY_SNAPSHOT,
    RESIDENT_CODE_ALLOTMENT,
    IdentityInfoChanged,
    IdentitySnapshot,
    ResidentCodeAllotment,
)
from juki.network.receiver import Handler
from juki.nodes.identity import apply_identity, apply_snapshot
from juki.nodes.node import Node


class PrefectureNode(Node):
    kind = NodeKind.PREFECTURE

    def covered_lg_codes(self) -> list[str]:
        return [e.node_id for e in self.directory().children(self.node_id)]

    def handlers(self) -> Mapping[str, Handler]:
        return {
            IDENTITY_INFO_CHANGED: self._on_identity,
            IDENTITY_SNAPSHOT: self._on_snapshot,
            RESIDENT_CODE_ALLOTMENT: self._on_allotment,
        }

    def _check_child(self, env: Envelope, lg_code: str) -> None:
        entry = self.directory().get(env.sender)
        if entry is None or entry.parent != self.node_id or lg_code != env.sender:
            raise DomainRuleError(
                "lg_code",
                "not_our_municipality",
                f"{env.sender} may not report identity_info of {lg_code} to {self.node_id}",
                "当都道府県の市区町村以外からの本人確認情報です",
            )

    def _on_identity(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        msg: IdentityInfoChanged = body
        self._check_child(env, msg.identity.lg_code)
        apply_identity(conn, msg.identity, message_id=env.message_id, now=self.clock.now())
        self.send(conn, NATIONAL_ID, msg)

    def _on_snapshot(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        snap: IdentitySnapshot = body
        self._check_child(env, snap.lg_code)
        apply_snapshot(conn, snap, message_id=env.message_id, now=self.clock.now())
        self.send(conn, NATIONAL_ID, snap)

    def _on_allotment(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        allotment: ResidentCodeAllotment = body
        entry = self.directory().get(allotment.lg_code)
        if env.sender != NATIONAL_ID or entry is None or entry.parent != self.node_id:
            raise DomainRuleError(
                "lg_code",
                "not_our_municipality",
                "allotment for another prefecture",
                "他の都道府県の市区町村への割当です",
            )
        self.send(conn, allotment.lg_code, allotment)
