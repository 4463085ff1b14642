"""The municipality's card register in SQL (`cards`), and its unit of work: the registry's,
with the cards beside it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from juki.cards.model import AbolitionReason, Backend, Card, CardStatus
from juki.cards.tables import cards
from juki.core.errors import NotFoundError
from juki.registry.uow import SqlRegistryUnitOfWork

c = cards.c


def card_from_row(row: Mapping[Any, Any]) -> Card:
    reason = row["abolition_reason"]
    return Card(
        card_serial=row["card_serial"],
        resident_code=row["resident_code"],
        lg_code=row["lg_code"],
        status=CardStatus(row["status"]),
        backend=Backend(row["backend"]),
        applied_on=row["applied_on"],
        issued_on=row["issued_on"],
        expires_on=row["expires_on"],
        auth_cert_serial=row["auth_cert_serial"],
        signing_cert_serial=row["signing_cert_serial"],
        abolished_on=row["abolished_on"],
        abolition_reason=AbolitionReason(reason) if reason else None,
        continued_from=row["continued_from"],
    )


def _row(card: Card) -> dict[str, Any]:
    out: dict[str, Any] = dataclasses.asdict(card)
    for key in ("status", "backend", "abolition_reason"):
        value = out[key]
        out[key] = value.value if value is not None else None
    return out


class SqlCards:
    def __init__(self, conn: sa.Connection, now: Callable[[], datetime]) -> None:
        self._conn = conn
        self._now = now

    def find(self, card_serial: str) -> Card | None:
        row = (
            self._conn.execute(sa.select(cards).where(c.card_serial == card_serial))
            .mappings()
            .first()
        )
        return card_from_row(row) if row else None

    def get(self, card_serial: str) -> Card:
        card = self.find(card_serial)
        if card is None:
            raise NotFoundError("card", card_serial)
        return card

    def for_resident(self, resident_code: str) -> Sequence[Card]:
        rows = self._conn.execute(
            sa.select(cards).where(c.resident_code == resident_code).order_by(c.applied_on)
        ).mappings()
        return [card_from_row(r) for r in rows]

    def add(self, card: Card) -> None:
        self._conn.execute(cards.insert().values(**_row(card), updated_at=self._now().isoformat()))

    def save(self, card: Card) -> None:
        values = _row(card)
        serial = values.pop("card_serial")
        done = self._conn.execute(
            cards.update()
            .where(c.card_serial == serial)
            .values(**values, updated_at=self._now().isoformat())
        )
        if done.rowcount != 1:
            raise NotFoundError("card", serial)


class SqlCardUnitOfWork(SqlRegistryUnitOfWork):
    cards: SqlCards

    def _bind(self, conn: sa.Connection) -> None:
        super()._bind(conn)
        self.cards = SqlCards(conn, self.clock.now)
