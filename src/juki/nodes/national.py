"""The national node (機構): everyone's identity_info, my_number generation, resident-code
pools (random unused codes, `juki.nodes.codes`) and the directory it signs as the network's
root. Agencies' lookups are provision (`juki.nodes.provide`, `juki.nodes.provide_api`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import sqlalchemy as sa
from cryptography import x509

from juki.cards import ca_store
from juki.cards.ca import CRL_LIFETIME, CardAuthority
from juki.core.errors import DomainRuleError, ValidationError
from juki.core.identifiers import LgCode, MyNumber
from juki.network import pki, store
from juki.network.card_messages import CARD_CERTIFICATE_REQUEST
from juki.network.directory import Directory, NodeKind, NodeStatus
from juki.network.envelope import Envelope
from juki.network.fuhyo_link_messages import (
    FUHYO_IDENTITY_INFO_CHANGED,
    FUHYO_IDENTITY_SNAPSHOT,
    FuhyoIdentityInfoChanged,
    FuhyoIdentitySnapshot,
)
from juki.network.identity_runs import IDENTITY_INFO_CHANGES, IdentityInfoChanges
from juki.network.messages import (
    IDENTITY_INFO_CHANGED,
    IDENTITY_SNAPSHOT,
    MAX_POOL_CODES,
    MY_NUMBER_REQUEST,
    OPLOG_CHECKPOINT,
    RESIDENT_CODE_CHANGED,
    IdentityInfoBody,
    IdentityInfoChanged,
    IdentitySnapshot,
    MyNumberAssigned,
    MyNumberRequest,
    ResidentCodeAllotment,
    ResidentCodeChanged,
)
from juki.network.receiver import BatchHandler, Handler
from juki.nodes import cards, codes
from juki.nodes.cards import answer_card_request, revoke_on_identity_change
from juki.nodes.fuhyo_link import (
    apply_fuhyo_identities,
    apply_fuhyo_identity,
    apply_fuhyo_snapshot,
)
from juki.nodes.identity import apply_identities, apply_identity, apply_snapshot
from juki.nodes.node import DIRECTORY_KEY, Node
from juki.nodes.queries import QueryHandler
from juki.nodes.tables import identity_copies, my_numbers
from juki.security.actors import Actor

MAX_NUMBER_DRAWS: Final = 1000


class NationalNode(Node):
    kind = NodeKind.NATIONAL
    root_key: pki.PrivateKey | None = None
    card_ca: CardAuthority | None = None  # the card CA (juki.cards.ca), when this node runs it
    # (what the CRL lists had changed this many times, the CRL signed then): `card_crl`
    _crl_cache: tuple[int, x509.CertificateRevocationList] | None = None

    def handlers(self) -> Mapping[str, Handler]:
        return {
            IDENTITY_INFO_CHANGED: self._on_identity,
            IDENTITY_INFO_CHANGES: self._on_identity_run,
            IDENTITY_SNAPSHOT: self._on_snapshot,
            OPLOG_CHECKPOINT: self._on_checkpoint,
            MY_NUMBER_REQUEST: self._on_my_number_request,
            RESIDENT_CODE_CHANGED: self._on_code_change,
            FUHYO_IDENTITY_INFO_CHANGED: self._on_fuhyo_identity,
            FUHYO_IDENTITY_SNAPSHOT: self._on_fuhyo_snapshot,
        }

    def _on_fuhyo_identity(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        """附票連携: every 附票's 附票本人確認情報, kept with its changes."""
        msg: FuhyoIdentityInfoChanged = body
        apply_fuhyo_identity(
            conn, msg.fuhyo_identity, message_id=env.message_id, now=self.clock.now()
        )

    def _on_fuhyo_snapshot(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        snap: FuhyoIdentitySnapshot = body
        apply_fuhyo_snapshot(conn, snap, message_id=env.message_id, now=self.clock.now())

    def query_handlers(self) -> Mapping[str, QueryHandler]:
        return {CARD_CERTIFICATE_REQUEST: lambda env, body: answer_card_request(self, env, body)}

    def card_crl(self) -> x509.CertificateRevocationList:
        """The card CA's current revocation list (the relay's verifier reads it on every kiosk
        verification). Signed anew only when what it lists has changed (one counter row read
        tells) or half its lifetime has passed; a revocation or hold is seen at once."""
        if self.card_ca is None:
            raise RuntimeError("the national node runs no card CA")
        now = self.clock.now()
        with self.engine.connect() as conn:
            version = ca_store.status_version(conn)
        cached = self._crl_cache
        if cached is not None and cached[0] == version:
            next_update = cached[1].next_update_utc
            if next_update is not None and now < next_update - CRL_LIFETIME / 2:
                return cached[1]
        with self.engine.begin() as conn:
            version = ca_store.status_version(conn)
            crl = ca_store.crl(conn, self.card_ca, now)
        self._crl_cache = (version, crl)
        return crl

    def _on_identity(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        msg: IdentityInfoChanged = body
        self._apply_change(conn, env.message_id, msg.identity)

    def _apply_change(self, conn: sa.Connection, message_id: str, info: IdentityInfoBody) -> None:
        now = self.clock.now()
        revoke_on_identity_change(conn, info, now)  # before the copy changes
        apply_identity(conn, info, message_id=message_id, now=now)
        if codes.note_used(conn, info.resident_code, info.lg_code, now):
            self._send_pool(conn, info.lg_code, codes.POOL_BATCH)

    def _on_identity_run(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        """identity_info_changes: its changes in order, under the message's id."""
        run: IdentityInfoChanges = body
        self._apply_changes(conn, [(env.message_id, info) for info in run.changes])

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

    def _on_identities(self, conn: sa.Connection, run: Sequence[tuple[Envelope, Any]]) -> None:
        """A batch's run of identity_info, as `_on_identity` does each: one query finds the
        residents with a live card certificate (each of those is taken alone, revocation
        before the copy changes); the code ledger is written for all of them at once."""
        self._apply_changes(conn, [(env.message_id, msg.identity) for env, msg in run])

    def _apply_changes(
        self, conn: sa.Connection, changes: Sequence[tuple[str, IdentityInfoBody]]
    ) -> None:
        """(message id, identity_info) changes in order: together, unless one of them holds a
        live card certificate (then each alone, its revocation before its copy changes)."""
        if cards.with_live_certificates(conn, [info.resident_code for _, info in changes]):
            for message_id, info in changes:
                self._apply_change(conn, message_id, info)
            return
        now = self.clock.now()
        apply_identities(conn, [(info, message_id) for message_id, info in changes], now=now)
        used = [(info.resident_code, info.lg_code) for _, info in changes]
        for lg_code in sorted(codes.note_used_many(conn, used, now)):
            self._send_pool(conn, lg_code, codes.POOL_BATCH)

    def _on_code_change(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        """住民票コードの変更 (法第30条の4): the former code is retired for good, the new one is
        in use, and the person's my_number follows them to it."""
        change: ResidentCodeChanged = body
        info, now = change.identity, self.clock.now()
        if codes.is_retired(conn, info.resident_code):
            raise DomainRuleError(
                "resident_code",
                "retired_code",
                f"{info.resident_code} was retired and is never issued again",
                "廃止された住民票コードは再び使用できません",
            )
        codes.apply_code_change(conn, change, message_id=env.message_id, now=now)
        codes.retire(conn, change.former_resident_code, info.resident_code, info.lg_code, now)
        conn.execute(
            my_numbers.update()
            .where(my_numbers.c.resident_code == change.former_resident_code)
            .values(resident_code=info.resident_code)
        )
        if codes.note_used(conn, info.resident_code, info.lg_code, now):
            self._send_pool(conn, info.lg_code, codes.POOL_BATCH)

    def _on_snapshot(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        snap: IdentitySnapshot = body
        apply_snapshot(conn, snap, message_id=env.message_id, now=self.clock.now())

    # -- my_number (個人番号の生成) --------------------------------------------------------------

    def _on_my_number_request(self, conn: sa.Connection, env: Envelope, body: Any) -> None:
        request: MyNumberRequest = body
        # asked for under a code the resident has since changed (法第30条の4): the number is
        # generated for, and sent back under, the code they hold now
        code = codes.current_code(conn, request.resident_code)
        number = self.my_number_for(conn, code, request.lg_code)
        self.send(
            conn,
            env.sender,
            MyNumberAssigned(resident_code=code, my_number=number, lg_code=request.lg_code),
        )

    def my_number_for(self, conn: sa.Connection, resident_code: str, lg_code: str) -> str:
        """The resident's number: the one already generated, or a new one unique nationwide."""
        existing = conn.execute(
            sa.select(my_numbers.c.my_number).where(my_numbers.c.resident_code == resident_code)
        ).scalar_one_or_none()
        if existing is not None:
            return str(existing)
        for _ in range(MAX_NUMBER_DRAWS):
            body = f"{self.rng.randrange(10**10, 10**11):011d}"
            number = MyNumber.complete(body).value
            taken = (
                conn.execute(
                    sa.select(my_numbers.c.my_number).where(my_numbers.c.my_number == number)
                ).first()
                or conn.execute(
                    # numbers that arrived with identity_info (a seeded population) are taken too
                    sa.select(identity_copies.c.my_number).where(
                        identity_copies.c.my_number == number
                    )
                ).first()
            )
            if taken is None:
                conn.execute(
                    my_numbers.insert().values(
                        my_number=number,
                        resident_code=resident_code,
                        lg_code=lg_code,
                        assigned_at=self.clock.now().isoformat(),
                    )
                )
                return number
        raise DomainRuleError(
            "my_number", "exhausted", "no free my_number found", "個人番号の生成に失敗しました"
        )

    def register_existing_numbers(self, conn: sa.Connection) -> int:
        """Numbers that arrived with identity_info (a seeded population) are reserved too."""
        rows = conn.execute(
            sa.select(
                identity_copies.c.my_number,
                identity_copies.c.resident_code,
                identity_copies.c.lg_code,
            ).where(identity_copies.c.my_number.is_not(None))
        ).all()
        known = set(conn.execute(sa.select(my_numbers.c.my_number)).scalars())
        at = self.clock.now().isoformat()
        new: list[dict[str, str]] = []
        for number, code, lg in rows:
            if number not in known:
                new.append(
                    {"my_number": number, "resident_code": code, "lg_code": lg, "assigned_at": at}
                )
                known.add(number)
        if new:  # one executemany, not one statement per number
            conn.execute(my_numbers.insert(), new)
        return len(new)

    # -- resident-code allotment ---------------------------------------------------------------

    def allot(self, lg_code: str, count: int, *, send: bool = True) -> list[ResidentCodeAllotment]:
        """Give a municipality a pool of `count` random unused resident codes (規則第1条), in
        messages of at most `MAX_POOL_CODES`, sent to it directly (only national allots,
        `juki.network.authority`). `send=False` only returns them: `juki net init`, which
        holds every node's database, installs the first pools itself before seeding."""
        lg = LgCode.parse(lg_code).value
        if not 1 <= count <= 10_000_000:
            raise ValidationError("count", "range", "count must be 1..10000000", "割当数が不正です")
        entry = self.directory().require(lg)
        if entry.kind is not NodeKind.MUNICIPALITY or entry.parent is None:
            raise ValidationError(
                "lg_code",
                "not_a_municipality",
                f"{lg} is not a municipality",
                "市区町村ではありません",
            )
        with self.engine.begin() as conn:
            return self._send_pool(conn, lg, count, send=send)

    def _send_pool(
        self, conn: sa.Connection, lg: str, count: int, *, send: bool = True
    ) -> list[ResidentCodeAllotment]:
        drawn = codes.draw_pool(conn, self.rng, lg, count, self.clock.now())
        messages = [
            ResidentCodeAllotment(lg_code=lg, codes=drawn[i : i + MAX_POOL_CODES])
            for i in range(0, len(drawn), MAX_POOL_CODES)
        ]
        if send:
            for message in messages:
                self.send(conn, lg, message)
        return messages

    # -- the directory it signs ----------------------------------------------------------------

    def publish(self, directory: Directory) -> Directory:
        if self.root_key is None:
            raise RuntimeError("the national node needs the root key to sign the directory")
        signed = directory.signed(self.root_key)
        with self.engine.begin() as conn:
            store.set_state(conn, DIRECTORY_KEY, signed.to_bytes().decode())
        self._directory = signed
        return signed

    def set_node_status(
        self, node_id: str, status: NodeStatus, by: Actor | None = None
    ) -> Directory:
        """Mark a node disconnected (離脱) or active again, in a newly signed directory; with
        `by`, logged (the directory is published in a transaction of its own before)."""
        current = self.directory()
        signed = self.publish(current.with_status(node_id, status, self.clock.now().isoformat()))
        if by is not None:
            with self.engine.begin() as conn:
                self.log_operation(
                    conn, by, "set_node_status", node_id, detail=f"{status.value} {signed.serial}"
                )
        return signed

    def directory_bytes(self) -> bytes:
        return self.directory().to_bytes()
