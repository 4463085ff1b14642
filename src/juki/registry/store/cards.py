"""The registry's one question to the card register: does this resident hold a working card?

The `cards` table belongs to `juki.cards` (a feature above the registry, migration 0017); the
registry may not import it, so it names the two columns it reads here, and the card tests
(`tests/integration/cards`, `tests/integration/nodes/test_card_move_out_withdrawal.py`) run this
query against the migrated table on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

_cards: Final = sa.table("cards", sa.column("resident_code"), sa.column("status"))
WORKING: Final = "issued"  # juki.cards.model.CardStatus.ISSUED


class SqlCardHolders:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def holds_card(self, resident_code: str) -> bool:
        found = self._conn.execute(
            sa.select(sa.literal(1))
            .select_from(_cards)
            .where((_cards.c.resident_code == resident_code) & (_cards.c.status == WORKING))
            .limit(1)
        ).first()
        return found is not None
