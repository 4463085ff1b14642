"""The kiosk machine (マルチコピー機): the screens' steps, server-side, for each customer.

A customer's `Visit` is kept here, keyed by the hash of an unguessable cookie, and goes
start → card → municipality → PIN → take back the card → certificate → options → copies →
confirm (with the fee) → pay → print → reminders → receipt → start. Each step calls the
screenless `KioskSession` (which binds the request id to the card serial end to end and opens
no page that does not match both). What a visit holds — the card, the session, the answer,
the coins — is erased when the customer returns to the start screen, and by `sweep` when the
visit has been left idle past its deadline (the server's clock): the issuance is aborted
(`KioskSession.abandon`), the coins are returned, and nothing is charged (seed 003 (8)ウ).
The PIN is an argument of one call and is kept nowhere.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from cryptography import x509

from juki.cards.token import CardToken
from juki.certificates.kiosk.model import MAX_KIOSK_COPIES
from juki.certificates.kiosk.offer import KioskOffer, OfferStatus
from juki.core.clock import Clock
from juki.core.errors import DomainRuleError, ValidationError
from juki.kiosk.coinbox import Payment, PaymentShort, Till
from juki.kiosk.devices import CardReader, PrintSink
from juki.kiosk.ports import HopTimeout, RelayPort
from juki.kiosk.session import (
    CardLockedAtKiosk,
    KioskResult,
    KioskSession,
    WrongPinAtKiosk,
)

IDLE_TIMEOUT: Final = timedelta(minutes=2)
EXPIRED_KEPT: Final = timedelta(minutes=10)


class Screen(StrEnum):
    START = "start"
    CARD = "card"
    MUNICIPALITY = "municipality"
    PIN = "pin"
    TAKE_CARD = "take_card"
    KIND = "kind"
    OPTIONS = "options"
    COPIES = "copies"
    CONFIRM = "confirm"
    PAY = "pay"
    REMINDER = "reminder"
    RECEIPT = "receipt"
    STOPPED = "stopped"


KINDS_JA: Final = {
    "residence": "住民票の写し",
    "record_items": "住民票記載事項証明書",
    "seal": "印鑑登録証明書",
}
ITEMS_JA: Final = {
    "householder": "世帯主の氏名・続柄",
    "honseki": "本籍・筆頭者",
    "my_number": "個人番号（マイナンバー）",
}
MEMBERS_JA: Final = {"self": "本人のみ", "household": "世帯全員"}
LOCKED_JA: Final = "暗証番号がロックされています。市区町村の窓口へお越しください"
CANCELLED_JA: Final = "取り消しました。料金はかかりません"
TIMED_OUT_JA: Final = "一定時間操作がなかったため中止しました。料金はかかりません"


@dataclass(frozen=True, slots=True)
class Municipality:
    lg_code: str
    name: str
    prefecture: str


@dataclass(frozen=True, slots=True)
class ReceiptShown:
    kind_ja: str
    copies_printed: int
    spoiled: int
    fee_yen: int
    paid_yen: int
    change_yen: int


class OutOfOrder(DomainRuleError):
    def __init__(self) -> None:
        super().__init__(
            "screen", "out_of_order", "not this screen's step", "操作の順序が正しくありません"
        )


@dataclass(eq=False)
class Visit:
    """One customer at the machine; everything here is erased at the end."""

    deadline: datetime
    screen: Screen = Screen.START
    card: CardToken | None = None
    session: KioskSession | None = None
    lg_code: str | None = None
    offer: KioskOffer | None = None  # what the municipality offers now (advice for the screens)
    kind: str | None = None
    members: str = "self"
    items: tuple[str, ...] = ()
    copies: int = 1
    result: KioskResult | None = None
    payment: Payment | None = None
    notice: str | None = None  # one line for the current screen (tries left, payment short)
    stop: str | None = None  # the stopped screen's message
    stop_hours: str = ""  # with it, the municipality's service hours when it is closed
    refunded_yen: int = 0
    receipt: ReceiptShown | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def erase(self) -> None:
        self.card = self.session = self.lg_code = self.kind = self.offer = None
        self.result = self.payment = self.receipt = None
        self.items, self.members, self.copies = (), "self", 1
        self.notice = None

    @property
    def erased(self) -> bool:
        held = (self.card, self.session, self.lg_code, self.offer, self.kind, self.result)
        return all(v is None for v in held) and self.payment is None and not self.items


@dataclass
class KioskMachine:
    relay: RelayPort
    root: x509.Certificate
    store_id: str
    clock: Clock
    reader: CardReader
    printer: PrintSink
    municipalities: Sequence[Municipality]
    till: Till = field(default_factory=Till)
    idle: timedelta = IDLE_TIMEOUT
    visits: dict[str, Visit] = field(default_factory=dict)
    expired: dict[str, tuple[datetime, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- the book of visits -----------------------------------------------------------------

    def visit(self, key: str) -> Visit | None:
        self.sweep()
        with self._lock:
            return self.visits.get(key)

    def open_visit(self, key: str) -> Visit:
        with self._lock:
            visit = self.visits.get(key)
            if visit is None:
                visit = self.visits[key] = Visit(self.clock.now() + self.idle)
            return visit

    def timed_out(self, key: str) -> int | None:
        """The coins returned when this key's visit timed out (once), or None."""
        with self._lock:
            gone = self.expired.pop(key, None)
        return None if gone is None else gone[1]

    def close(self, key: str) -> None:
        """Back to the start screen: the visit and everything in it are erased."""
        with self._lock:
            visit = self.visits.pop(key, None)
        if visit is not None:
            with visit.lock:
                self._give_up(visit)
                visit.erase()

    def sweep(self) -> int:
        """Abort and erase every visit left idle past its deadline; returns how many."""
        now = self.clock.now()
        with self._lock:
            late = [(k, v) for k, v in self.visits.items() if v.deadline < now]
            for key, _ in late:
                del self.visits[key]
            for key, (at, _) in list(self.expired.items()):
                if at + EXPIRED_KEPT < now:
                    del self.expired[key]
        for key, visit in late:
            with visit.lock:
                back = self._give_up(visit)
                visit.erase()
            with self._lock:
                self.expired[key] = (now, back)
        return len(late)

    # -- one step ------------------------------------------------------------------------------

    def act(self, key: str, screens: Sequence[Screen], step: Callable[[Visit], None]) -> Visit:
        """Run `step` on the visit if it is at one of `screens`; a refusal stops the visit on
        a screen that says why (and refunds), a bad entry stays on the screen with a notice."""
        visit = self.open_visit(key)
        with visit.lock:
            if visit.screen not in screens:
                raise OutOfOrder()
            visit.notice = None
            visit.deadline = self.clock.now() + self.idle
            try:
                step(visit)
            except (WrongPinAtKiosk, PaymentShort, ValidationError) as exc:
                visit.notice = exc.message_ja
            except CardLockedAtKiosk:
                self._stopped(visit, LOCKED_JA)
            except DomainRuleError as exc:  # KioskStop, a relay's or municipality's refusal
                self._stopped(visit, exc.message_ja)
            except HopTimeout:
                self._stopped(visit, TIMED_OUT_JA)
        return visit

    def _stopped(self, visit: Visit, message: str, hours_ja: str = "") -> None:
        visit.refunded_yen = self._give_up(visit)
        visit.erase()
        visit.stop = message
        visit.stop_hours = hours_ja
        visit.screen = Screen.STOPPED

    def _give_up(self, visit: Visit) -> int:
        """Abort what is under way: the issuance voided, the coins back, the card returned."""
        if visit.session is not None and not visit.session.erased:
            visit.session.abandon()
        visit.session = None
        visit.card = None
        return visit.payment.refund() if visit.payment is not None else 0

    # -- the steps (each called through `act`) ----------------------------------------------

    def begin(self, visit: Visit) -> None:
        visit.screen = Screen.CARD

    def place_card(self, visit: Visit, serial: str) -> None:
        visit.card = self.reader.take(serial)
        visit.screen = Screen.MUNICIPALITY

    def choose_municipality(self, visit: Visit, lg_code: str) -> None:
        if lg_code not in {m.lg_code for m in self.municipalities}:
            raise ValidationError(
                "lg_code", "unknown", "not a municipality here", "市区町村を選んでください"
            )
        visit.lg_code = lg_code
        visit.session = KioskSession.start(
            self.relay, self.root, store_id=self.store_id, clock=self.clock
        )
        offer = visit.session.offer(lg_code)
        if not (offer.serviceable and any(k in KINDS_JA for k, _fee in offer.fees)):
            # said before the PIN: outside its hours, 休止中, or no connection; nothing charged
            status = OfferStatus.NOT_OFFERED if offer.serviceable else offer.status
            self._stopped(visit, status.message_ja, offer.hours_ja)
            return
        visit.offer = offer
        visit.screen = Screen.PIN

    def enter_pin(self, visit: Visit, pin: str) -> None:
        assert visit.session is not None and visit.card is not None
        visit.session.authenticate(visit.card, pin)
        visit.card = None  # the card goes back to the customer now
        visit.screen = Screen.TAKE_CARD

    def card_taken(self, visit: Visit) -> None:
        visit.screen = Screen.KIND

    def choose_kind(self, visit: Visit, kind: str) -> None:
        if kind not in KINDS_JA:
            raise ValidationError(
                "kind", "unknown", "not a kiosk certificate", "証明書を選んでください"
            )
        if visit.offer is not None and visit.offer.fee(kind) is None:
            raise ValidationError(
                "kind",
                "not_offered",
                "the municipality does not offer this certificate at a kiosk",
                "この証明書はこの市区町村では交付していません。表示されている証明書から選んでください",
            )
        visit.kind = kind
        visit.members, visit.items = "self", ()
        visit.screen = Screen.COPIES if kind == "seal" else Screen.OPTIONS

    def choose_options(self, visit: Visit, members: str, items: Sequence[str]) -> None:
        if members not in MEMBERS_JA or not set(items) <= set(ITEMS_JA):
            raise ValidationError(
                "options", "unknown", "not an option offered", "選択内容が正しくありません"
            )
        visit.members, visit.items = members, tuple(sorted(set(items)))
        visit.screen = Screen.COPIES

    def choose_copies(self, visit: Visit, copies: int) -> None:
        """The request goes to the municipality now; its answer tells the fee to confirm."""
        if not 1 <= copies <= MAX_KIOSK_COPIES:
            raise ValidationError(
                "copies", "range", "1 to 10 copies", f"部数は1〜{MAX_KIOSK_COPIES}部です"
            )
        session = visit.session
        assert session is not None and visit.lg_code is not None and visit.kind is not None
        visit.copies = copies
        session.choose(
            visit.lg_code, visit.kind, members=visit.members, items=visit.items, copies=copies
        )
        result = session.request()
        if result.outcome != "issued" or result.pdf is None:
            session.finish()
            self._stopped(visit, result.message_ja or "交付できませんでした。料金はかかりません")
            return
        visit.result = result
        visit.payment = Payment(result.fee_yen)
        visit.screen = Screen.CONFIRM

    def confirm(self, visit: Visit) -> None:
        visit.screen = Screen.PAY

    def insert_coin(self, visit: Visit, coin: int) -> None:
        assert visit.payment is not None
        visit.payment.insert(coin)

    def pay_and_print(self, visit: Visit) -> None:
        """Paid in full: each copy printed (a jam voids it as 書損), the fee of the copies
        printed charged, the rest given back as change; the session ends."""
        payment, session, result = visit.payment, visit.session, visit.result
        assert payment is not None and session is not None and result is not None
        assert result.pdf is not None
        payment.check_enough()
        paid = payment.total
        spoiled = 0
        for number in result.issue_numbers:
            if not self.printer.print_copy(result.pdf, number):
                session.spoiled(number)
                spoiled += 1
        receipt = session.finish()
        change = payment.settle(receipt.fee_yen)
        self.till.take(receipt.fee_yen)
        kind_ja = KINDS_JA.get(visit.kind or "", "")
        visit.erase()
        visit.receipt = ReceiptShown(
            kind_ja, len(result.issue_numbers) - spoiled, spoiled, receipt.fee_yen, paid, change
        )
        visit.screen = Screen.REMINDER

    def reminded(self, visit: Visit) -> None:
        visit.screen = Screen.RECEIPT

    def cancel(self, visit: Visit) -> None:
        self._stopped(visit, CANCELLED_JA)
