"""Operator verification in SQL: credentials, cards, terminals, sessions, challenges, ledger.
Nothing here commits: the caller's transaction also holds the oplog entry."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from juki.security.tables import (
    operator_cards,
    operator_challenges,
    operator_credentials,
    operator_ledger,
    operator_sessions,
    terminals,
)
from juki.security.verification.ports import (
    LedgerEntry,
    StoredCard,
    StoredChallenge,
    StoredCredential,
    StoredSession,
    StoredTerminal,
)


def _fields(cls: Any, row: sa.RowMapping) -> dict[str, Any]:
    return {f.name: row[f.name] for f in dataclasses.fields(cls)}


class SqlVerification:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    # -- 照合情報 --
    def add_credential(self, credential: StoredCredential) -> None:
        self._conn.execute(operator_credentials.insert().values(dataclasses.asdict(credential)))

    def credentials_of(self, operator_id: str) -> Sequence[StoredCredential]:
        rows = self._conn.execute(
            sa.select(operator_credentials)
            .where(operator_credentials.c.operator_id == operator_id)
            .where(operator_credentials.c.withdrawn_at.is_(None))
            .order_by(operator_credentials.c.registered_at)
        ).mappings()
        return [StoredCredential(**_fields(StoredCredential, r)) for r in rows]

    def set_sign_count(self, credential_id: str, sign_count: int) -> None:
        self._conn.execute(
            operator_credentials.update()
            .where(operator_credentials.c.credential_id == credential_id)
            .values(sign_count=sign_count)
        )

    def withdraw_credentials(self, operator_id: str, at: str) -> int:
        c = operator_credentials.c
        done = self._conn.execute(
            operator_credentials.update()
            .where(c.operator_id == operator_id, c.withdrawn_at.is_(None))
            .values(withdrawn_at=at)
        )
        return done.rowcount

    # -- 操作識別カード --
    def add_card(
        self, *, operator_id: str, card_label: str, public_key_pem: str, at: str, by: str
    ) -> int:
        done = self._conn.execute(
            operator_cards.insert().values(
                operator_id=operator_id,
                card_label=card_label,
                public_key_pem=public_key_pem,
                issued_at=at,
                issued_by=by,
            )
        )
        key = done.inserted_primary_key
        return int(key[0]) if key else 0

    def active_card(self, operator_id: str) -> StoredCard | None:
        c = operator_cards.c
        row = (
            self._conn.execute(
                sa.select(operator_cards)
                .where(c.operator_id == operator_id, c.withdrawn_at.is_(None))
                .order_by(c.card_id.desc())
            )
            .mappings()
            .first()
        )
        return StoredCard(**_fields(StoredCard, row)) if row is not None else None

    def withdraw_cards(self, operator_id: str, at: str) -> int:
        c = operator_cards.c
        done = self._conn.execute(
            operator_cards.update()
            .where(c.operator_id == operator_id, c.withdrawn_at.is_(None))
            .values(withdrawn_at=at)
        )
        return done.rowcount

    # -- 統合端末 --
    def add_terminal(self, terminal: StoredTerminal) -> None:
        self._conn.execute(terminals.insert().values(dataclasses.asdict(terminal)))

    def terminal(self, terminal_id: str) -> StoredTerminal | None:
        row = (
            self._conn.execute(sa.select(terminals).where(terminals.c.terminal_id == terminal_id))
            .mappings()
            .first()
        )
        return StoredTerminal(**_fields(StoredTerminal, row)) if row is not None else None

    # -- sessions --
    def add_session(self, session_sha256: str, session: StoredSession) -> None:
        self._conn.execute(
            operator_sessions.insert().values(
                session_sha256=session_sha256, **dataclasses.asdict(session)
            )
        )

    def session(self, session_sha256: str) -> StoredSession | None:
        row = (
            self._conn.execute(
                sa.select(operator_sessions).where(
                    operator_sessions.c.session_sha256 == session_sha256
                )
            )
            .mappings()
            .first()
        )
        return StoredSession(**_fields(StoredSession, row)) if row is not None else None

    def live_sessions(self, operator_id: str) -> Sequence[tuple[str, StoredSession]]:
        c = operator_sessions.c
        rows = self._conn.execute(
            sa.select(operator_sessions).where(c.operator_id == operator_id, c.ended_at.is_(None))
        ).mappings()
        return [(r["session_sha256"], StoredSession(**_fields(StoredSession, r))) for r in rows]

    def touch_session(self, session_sha256: str, at: str) -> None:
        self._conn.execute(
            operator_sessions.update()
            .where(operator_sessions.c.session_sha256 == session_sha256)
            .values(last_seen_at=at)
        )

    def end_session(self, session_sha256: str, at: str, reason: str) -> None:
        c = operator_sessions.c
        self._conn.execute(
            operator_sessions.update()
            .where(c.session_sha256 == session_sha256, c.ended_at.is_(None))
            .values(ended_at=at, end_reason=reason)
        )

    # -- challenges --
    def add_challenge(self, challenge: StoredChallenge) -> None:
        self._conn.execute(operator_challenges.insert().values(dataclasses.asdict(challenge)))

    def challenge(self, challenge_id: str) -> StoredChallenge | None:
        row = (
            self._conn.execute(
                sa.select(operator_challenges).where(
                    operator_challenges.c.challenge_id == challenge_id
                )
            )
            .mappings()
            .first()
        )
        return StoredChallenge(**_fields(StoredChallenge, row)) if row is not None else None

    def purge_challenges(self, created_before: str) -> None:
        self._conn.execute(
            operator_challenges.delete().where(operator_challenges.c.created_at < created_before)
        )

    def use_challenge(self, challenge_id: str, at: str) -> bool:
        c = operator_challenges.c
        done = self._conn.execute(
            operator_challenges.update()
            .where(c.challenge_id == challenge_id, c.used_at.is_(None))
            .values(used_at=at)
        )
        return done.rowcount == 1

    # -- 管理簿 --
    def append_ledger(self, entry: LedgerEntry) -> None:
        self._conn.execute(operator_ledger.insert().values(dataclasses.asdict(entry)))

    def ledger(self, operator_id: str | None) -> Sequence[LedgerEntry]:
        query = sa.select(operator_ledger).order_by(operator_ledger.c.entry_id)
        if operator_id is not None:
            query = query.where(operator_ledger.c.operator_id == operator_id)
        rows = self._conn.execute(query).mappings()
        return [LedgerEntry(**_fields(LedgerEntry, r)) for r in rows]
