"""A municipality: its registry and its communication server (CS), the only door to the network.

The registry hands the CS its outbox rows (identity_info changes, move-in notices, 附票 notices,
card move-out information); the CS keeps a copy of its residents' identity_info, turns the rows
into signed messages, and applies what other nodes send (seed 002 第2条: 転入通知, 附票記載事項
通知, 転出証明書情報, 個人番号の生成要求 and its answer).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from typing import Any, Final

import sqlalchemy as sa
import structlog

from juki.core.errors import DomainRuleError, NotFoundError
from juki.network.directory import NATIONAL_ID, NodeKind
from juki.network.disclosure_messages import DISCLOSURE_REQUEST, PORTAL_ACTION_REQUEST
from juki.network.envelope import Envelope
from juki.network.identity_runs import up_messages
from juki.network.kiosk_messages import (
    KIOSK_KEY_REQUEST,
    KIOSK_OFFER_REQUEST,
    KIOSK_REQUEST,
    KIOSK_VOID,
)
from juki.network.messages import (
    FUHYO_NOTICE,
    IDENTITY_INFO_CHANGED,
    MOVE_IN_NOTICE,
    MOVE_OUT_CERTIFICATE_INFO,
    MOVE_OUT_WITHDRAWN,
    MY_NUMBER_ASSIGNED,
    RESIDENT_CODE_ALLOTMENT,
    RESIDENT_CODE_CHANGED,
    FuhyoNotice,
    IdentityInfoBody,
    IdentityInfoChanged,
    IdentitySnapshot,
    MoveInNotice,
    MoveInNoticeV1,
    MoveOutCertificateInfo,
    MoveOutWithdrawn,
    MyNumberAssigned,
    MyNumberRequest,
    ResidentCodeAllotment,
    ResidentCodeAllotmentV1,
    ResidentCodeChanged,
)
from juki.network.receiver import Handler
from juki.network.wide_area_messages import CERTIFICATE_CONTENT_REQUEST
from juki.nodes.codes import apply_code_change
from juki.nodes.cs_pump import Forwarder, pump_registry
from juki.nodes.digest import Digest
from juki.nodes.disclosure import answer_disclosure
from juki.nodes.fuhyo_link import link_fuhyo, link_fuhyos, send_fuhyo_snapshot
from juki.nodes.identity import (
    apply_identities,
    apply_identity,
    registry_digest,
    snapshot_parts,
)
from juki.nodes.kiosk import (
    MunicipalKiosk,
    answer_key_request,
    answer_kiosk_request,
    answer_offer_request,
    on_kiosk_void,
)
from juki.nodes.moves import check_move_in_notice, withdraw_move_out
from juki.nodes.node import Node
from juki.nodes.portal_actions import answer_portal_action
from juki.nodes.queries import QueryHandler
from juki.nodes.tables import identity_copies, my_number_requests
from juki.nodes.wide_area import answer_content_request
from juki.registry.commands import AssignMyNumber, ConfirmMoveOut
from juki.registry.services import assign_my_number, confirm_move_out
from juki.registry.store.codes import NATIONAL, receive_pool, successor_of
from juki.registry.store.journal import (
    keep_move_out_info,
    record_fuhyo,
)
from juki.registry.store.municipality import add_allotment
from juki.registry.tables import resident_records
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor

log = structlog.get_logger("juki.nodes.municipality")

# A new resident without a my_number gets one requested from the national node.
_NEEDS_NUMBER: Final = frozenset({"birth", "immigration", "entry_by_authority", "move_in"})


class MunicipalityNode(Node):
    kind = NodeKind.MUNICIPALITY
    kiosk: MunicipalKiosk | None = None  # コンビニ交付 (juki.nodes.kiosk), when it offers it

    def system_actor(self) -> Actor:
        return Actor.system(f"cs:{self.node_id}")

    def _uow(self, conn: sa.Connection) -> SqlRegistryUnitOfWork:
        return SqlRegistryUnitOfWork(
            self.engine, clock=self.clock, connection=conn, ids=_RngIds(self.rng), rng=self.rng
        )

    # -- the CS forwards its registry's changes -----------------------------------------------

    def pump(self) -> int:
        """Move up to a batch of registry outbox rows onto the network, in one transaction."""
        if self._directory is None:
            # Load it before the write transaction: loading it inside would open a second
            # SQLite connection that waits out busy_timeout on this one's lock, then fails.
            try:
                self.directory()
            except Exception:  # no directory yet: nothing can be routed
                return 0
        return pump_registry(
            self.engine,
            self.clock.now().isoformat(),
            self.forwarders(),
            self._forward_identities,
            self._forward_fuhyo,
        )

    def _forward_identities(self, conn: sa.Connection, run: list[tuple[str, Any]]) -> None:
        """`_forward_identity` for a run of changes: the CS's copy and the messages up written
        for all of them at once (a repair's or a 離脱's backlog is thousands)."""
        if not run:
            return
        apply_identities(conn, [(c.identity, mid) for mid, c in run], now=self.clock.now())
        parent = self.parent
        if parent is not None:
            self.send_many(conn, parent, up_messages([c for _, c in run]))
        for _, changed in run:
            info = changed.identity
            if info.my_number is None and info.status == "active":
                self._request_my_number(conn, info)

    def forwarders(self) -> Mapping[str, Forwarder]:
        """The registry's events (`juki.registry.events`) and where each goes, by message type;
        the pump forwards identity_info and 附票 notices in runs (`_forward_identities`,
        `_forward_fuhyo`)."""
        return {
            IDENTITY_INFO_CHANGED: self._forward_identity,
            MOVE_IN_NOTICE: self._forward_move_in_notice,
            MOVE_OUT_CERTIFICATE_INFO: self._forward_move_out_info,
            RESIDENT_CODE_CHANGED: self._forward_code_change,
            MOVE_OUT_WITHDRAWN: self._forward_move_out_withdrawn,
        }

    def _forward_code_change(self, conn: sa.Connection, message_id: str, event: Any) -> None:
        change: ResidentCodeChanged = event
        apply_code_change(conn, change, message_id=message_id, now=self.clock.now())
        parent = self.parent
        if parent is not None:
            self.send(conn, parent, change)

    def _forward_identity(self, conn: sa.Connection, message_id: str, event: Any) -> None:
        changed: IdentityInfoChanged = event
        info = changed.identity
        apply_identity(conn, info, message_id=message_id, now=self.clock.now())
        parent = self.parent
        if parent is not None:
            self.send(conn, parent, changed)
        if info.my_number is None and info.status == "active":
            self._request_my_number(conn, info)

    def _forward_move_in_notice(self, conn: sa.Connection, message_id: str, event: Any) -> None:
        notice: MoveInNotice = event
        if self.directory().get(notice.from_lg_code) is None:
            log.debug("move-in from outside the network", from_lg=notice.from_lg_code)
        else:
            self.send(conn, notice.from_lg_code, notice)

    def _forward_fuhyo(self, conn: sa.Connection, run: list[tuple[str, Any]]) -> None:
        """A run of 附票 notices (a household's relocation brings one per member), each to the
        municipality of its 本籍: one kept here is recorded on the 附票 and linked up (附票連携);
        the others are queued for each 本籍 municipality in the order they came, one write of
        that link for them all."""
        if not run:
            return
        directory = self.directory()
        stamp = self.clock.now().isoformat()
        here: list[FuhyoNotice] = []
        away: dict[str, list[FuhyoNotice]] = {}
        for message_id, fuhyo in run:
            target = directory.municipality_at(fuhyo.honseki)
            if target is None:
                log.debug("本籍 outside the network", honseki_prefix=fuhyo.honseki[:6])
            elif target.node_id == self.node_id:
                record_fuhyo(conn, fuhyo, message_id, stamp)
                here.append(fuhyo)
            else:
                away.setdefault(target.node_id, []).append(fuhyo)
        link_fuhyos(self, conn, here)
        for peer, notices in away.items():
            self.send_many(conn, peer, notices)

    def _forward_move_out_info(self, conn: sa.Connection, message_id: str, event: Any) -> None:
        info: MoveOutCertificateInfo = event
        if self.directory().get(info.to_lg_code) is not None:
            self.send(conn, info.to_lg_code, info)

    def _forward_move_out_withdrawn(self, conn: sa.Connection, message_id: str, event: Any) -> None:
        withdrawn: MoveOutWithdrawn = event
        if self.directory().get(withdrawn.to_lg_code) is not None:
            self.send(conn, withdrawn.to_lg_code, withdrawn)

    def _request_my_number(self, conn: sa.Connection, info: IdentityInfoBody) -> None:
        if info.change_reason not in _NEEDS_NUMBER:
            return
        exists = conn.execute(
            sa.select(my_number_requests.c.resident_code).where(
                my_number_requests.c.resident_code == info.resident_code
            )
        ).first()
        if exists is not None:
            return
        conn.execute(
            my_number_requests.insert().values(
                resident_code=info.resident_code, requested_at=self.clock.now().isoformat()
            )
        )
        self.send(
            conn,
            NATIONAL_ID,
            MyNumberRequest(resident_code=info.resident_code, lg_code=self.node_id),
        )

    # -- what other nodes send ------------------------------------------------------------------

    def handlers(self) -> Mapping[str, Handler]:
        return {
            MOVE_IN_NOTICE: self._on_move_in_notice,
            MY_NUMBER_ASSIGNED: self._on_my_number,
            MOVE_OUT_CERTIFICATE_INFO: self._on_move_out_info,
            MOVE_OUT_WITHDRAWN: self._on_move_out_withdrawn,
            FUHYO_NOTICE: self._on_fuhyo,
            RESIDENT_CODE_ALLOTMENT: self._on_allotment,
            KIOSK_VOID: lambda conn, env, body: on_kiosk_void(self, conn, env, body),
        }

    def query_handlers(self) -> Mapping[str, QueryHandler]:
        return {
            CERTIFICATE_CONTENT_REQUEST: lambda env, body: answer_content_request(self, env, body),
            KIOSK_KEY_REQUEST: lambda env, body: answer_key_request(self, env, body),
            KIOSK_REQUEST: lambda env, body: answer_kiosk_request(self, env, body),
            KIOSK_OFFER_REQUEST: lambda env, body: answer_offer_request(self, env, body),
            DISCLOSURE_REQUEST: lambda env, body: answer_disclosure(self, env, body),
            PORTAL_ACTION_REQUEST: lambda env, body: answer_portal_action(self, env, body),
        }

    def _on_move_in_notice(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        notice: MoveInNotice | MoveInNoticeV1 = body
        check_move_in_notice(conn, self.directory(), env.sender, notice)
        confirm_move_out(
            self._uow(conn),
            self.system_actor(),
            ConfirmMoveOut(
                resident_code=notice.resident_code,
                confirmed_address=notice.new_address,
                confirmed_on=notice.moved_on,
                notified_on=notice.notified_on,
            ),
        )

    def _on_my_number(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        assigned: MyNumberAssigned = body
        # asked for under a code the resident has since changed (法第30条の4): the number is
        # theirs under the new one
        code = successor_of(conn, assigned.resident_code) or assigned.resident_code
        record_id = conn.execute(
            sa.select(resident_records.c.record_id).where(
                (resident_records.c.resident_code == code) & (resident_records.c.status == "active")
            )
        ).scalar_one_or_none()
        conn.execute(
            my_number_requests.update()
            .where(my_number_requests.c.resident_code == assigned.resident_code)
            .values(assigned_at=self.clock.now().isoformat())
        )
        if record_id is None:
            raise NotFoundError("active resident for my_number", assigned.resident_code)
        assign_my_number(
            self._uow(conn), self.system_actor(), AssignMyNumber(record_id, assigned.my_number)
        )

    def _on_move_out_info(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        info: MoveOutCertificateInfo = body
        keep_move_out_info(conn, info, self.clock.now().isoformat())

    def _on_move_out_withdrawn(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        withdraw_move_out(conn, env.sender, body)

    def _on_fuhyo(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        notice: FuhyoNotice = body
        record_fuhyo(conn, notice, env.message_id, self.clock.now().isoformat())
        link_fuhyo(self, conn, notice)  # 附票連携: up to the prefecture and national

    def _on_allotment(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        """A pool of random codes (version 2, ADR 0006), or a range (version 1, from a national
        node not yet upgraded: used, in order, only until the first pool arrives)."""
        allotment: ResidentCodeAllotment | ResidentCodeAllotmentV1 = body
        by = f"national via {env.sender}"
        if isinstance(allotment, ResidentCodeAllotmentV1):
            if allotment.first_body > allotment.last_body:
                raise DomainRuleError("first_body", "range", "empty range", "割当範囲が不正です")
            add_allotment(conn, allotment.first_body, allotment.last_body, by)
            return
        _, known = receive_pool(
            conn, allotment.codes, source=NATIONAL, allotted_by=by, now=self.clock.now().isoformat()
        )
        if known:
            log.warning("allotted codes already used here were not kept", count=len(known))

    # -- digests and repair ----------------------------------------------------------------------

    def covered_lg_codes(self) -> list[str]:
        return [self.node_id]

    def digests(self) -> list[Digest]:
        with self.engine.connect() as conn:
            return [registry_digest(conn, self.node_id)]

    def send_snapshot(self, snapshot_id: str, by: Actor | None = None) -> int:
        """Repair: send the whole identity_info set up, so every level can replace its copy;
        with `by`, logged in the same transaction."""
        with self.engine.begin() as conn:
            if by is not None:
                self.log_operation(conn, by, "send_snapshot", f"{self.node_id}:{snapshot_id}")
            rows = (
                conn.execute(
                    sa.select(identity_copies)
                    .where(identity_copies.c.lg_code == self.node_id)
                    .order_by(identity_copies.c.resident_code)
                )
                .mappings()
                .all()
            )
            entries = [
                IdentityInfoBody.model_validate({k: r[k] for k in IdentityInfoBody.model_fields})
                for r in rows
            ]
            chunks = snapshot_parts(entries)
            parts = len(chunks)
            parent = self.parent
            if parent is None:
                return 0
            send_fuhyo_snapshot(self, conn, snapshot_id)  # 附票連携 is repaired with it
            for i, chunk in enumerate(chunks):
                self.send(
                    conn,
                    parent,
                    IdentitySnapshot(
                        lg_code=self.node_id,
                        snapshot_id=snapshot_id,
                        part=i + 1,
                        parts=parts,
                        entries=chunk,
                    ),
                )
        return len(entries)

    def unconfirmed_move_outs(self, older_than_days: int = 0) -> list[dict[str, Any]]:
        """転入通知未着者一覧: planned move-outs whose move-in notice never came."""
        r = resident_records.c
        cutoff = self.clock.today().toordinal() - older_than_days
        with self.engine.connect() as conn:
            rows = (
                conn.execute(
                    sa.select(
                        r.record_id,
                        r.resident_code,
                        r.family_name,
                        r.given_name,
                        r.move_out_planned_address,
                        r.move_out_planned_on,
                    )
                    .where(
                        (r.removal_reason == "move_out_planned") & r.move_out_confirmed_on.is_(None)
                    )
                    .order_by(r.move_out_planned_on, r.resident_code)
                )
                .mappings()
                .all()
            )
        return [
            dict(row)
            for row in rows
            if row["move_out_planned_on"] is not None
            and row["move_out_planned_on"].toordinal() <= cutoff
        ]


class _RngIds:
    """Ids for what handlers write (registry outbox rows) from the node's seeded random source:
    the default uuid4 would make a simulated run differ from its replay."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
