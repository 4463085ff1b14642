"""Reads across the ledgers: the operator cards ledger and the summary of a period.

The operator cards ledger is a view over the operator records `juki.security` keeps (the
operators, their 操作識別カード and 照合情報); issuing and taking back a card are the security
package's actions (`juki operator card`, `ledger.withdraw_card`), already in the 照合ID及び
操作者IDの管理簿 and the oplog, so nothing is copied here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from juki.governance.ledgers import rules
from juki.governance.ledgers.model import CardHolding, LedgerSummary
from juki.governance.ledgers.ports import LedgerUnitOfWork
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission


def card_ledger(uow: LedgerUnitOfWork, by: Actor) -> Sequence[CardHolding]:
    """操作識別カード and 照合情報, operator by operator (permission `view_operator_ledger`)."""
    return perform(
        uow,
        by,
        Permission.VIEW_OPERATOR_LEDGER,
        "ledger:operator_cards",
        lambda u: list(u.ledgers.card_holdings()),
        describe=lambda rows: f"{len(rows)} operators",
    )


def ledger_summary(uow: LedgerUnitOfWork, by: Actor, since: date, until: date) -> LedgerSummary:
    """The counts of `store.ledger_summary`, read by an operator (and so in the oplog)."""
    rules.date_range(since, until)

    def run(u: LedgerUnitOfWork) -> LedgerSummary:
        return u.ledgers.summary(since, until)

    return perform(
        uow,
        by,
        Permission.VIEW_LEDGERS,
        "ledger:summary",
        run,
        describe=lambda _: f"{since}..{until}",
    )
