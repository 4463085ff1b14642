"""The kiosk's coin box (simulated): what a customer puts in, what is charged, what comes back.

Pure: no device, no I/O. A `Payment` belongs to one session; the `Till` is the store's (the
takings, never a customer's identity). A payment short of the fee is refused (nothing printed);
a payment that is given up returns every coin; a settled payment charges what was printed (a
spoiled copy, 書損, is not charged) and gives the rest back as change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from juki.core.errors import DomainRuleError, ValidationError

# the coins and the note a multi-copy machine takes (1円・5円 are not accepted)
DENOMINATIONS: Final = (10, 50, 100, 500, 1000)
MAX_INSERTED_YEN: Final = 20_000  # a session never needs more; more is someone's mistake


class PaymentShort(DomainRuleError):
    def __init__(self, short: int) -> None:
        super().__init__(
            "payment",
            "payment_short",
            f"{short} yen short of the fee",
            f"料金が{short}円不足しています。硬貨を追加してください",
        )
        self.short = short


@dataclass
class Payment:
    fee_yen: int
    inserted: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.inserted)

    @property
    def short(self) -> int:
        return max(0, self.fee_yen - self.total)

    def insert(self, coin: int) -> None:
        if coin not in DENOMINATIONS:
            raise ValidationError(
                "coin", "denomination", f"{coin} yen is not accepted", "この硬貨は使えません"
            )
        if self.total + coin > MAX_INSERTED_YEN:
            raise ValidationError(
                "coin",
                "too_much",
                f"more than {MAX_INSERTED_YEN} yen",
                f"投入できるのは{MAX_INSERTED_YEN}円までです",
            )
        self.inserted.append(coin)

    def check_enough(self) -> None:
        """Before printing: a payment short of the fee is refused."""
        if self.short:
            raise PaymentShort(self.short)

    def settle(self, charged_yen: int) -> int:
        """The change: everything put in beyond what is charged (a spoiled copy is not)."""
        if not 0 <= charged_yen <= self.total:
            raise ValueError(f"cannot charge {charged_yen} of {self.total}")
        change = self.total - charged_yen
        self.inserted = []
        return change

    def refund(self) -> int:
        """Given up (cancel, timeout, abort): every coin back, nothing charged."""
        back = self.total
        self.inserted = []
        return back


@dataclass
class Till:
    """The store's takings from this kiosk (the sum charged and the number of sales)."""

    takings_yen: int = 0
    sales: int = 0

    def take(self, charged_yen: int) -> None:
        if charged_yen > 0:
            self.takings_yen += charged_yen
            self.sales += 1
