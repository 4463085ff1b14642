"""The counter's card actions, each through the action runner (authorised, logged):

| action | permission | who |
| --- | --- | --- |
| `issue_card` (交付申請 + 交付), `renew_card`, `continue_card_use` | `issue_card` | counter clerk |
| `suspend_card`, `resume_card` (一時停止 and its end) | `suspend_card` | counter clerk |
| `abolish_card` (廃止) | `abolish_card` | counter clerk |
| `reset_card_pin` (暗証番号の初期化, unlock) | `reset_card_pin` | 暗証番号管理者 (`pin_manager`) |
| `cards_of` (the counter's view) | `view_card` | clerk, supervisor, 暗証番号管理者 |
| `resident_for_card` (the relay's question) | `resolve_card` | the node itself |

An action that asks the card CA (issue, renew, continue, abolish) runs outside one transaction
(`perform_outside`): no database lock is held while the card makes its keys or the national
node answers. A PIN goes to the token only; no entry, row or message carries it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from juki.cards import model
from juki.cards.ca import SigningItems
from juki.cards.commands import AbolishCard, ContinueCardUse, IssueCard, RenewCard, ResetPin
from juki.cards.model import Card, CardStatus, KeyKind
from juki.cards.ports import CardCertifier, CardUnitOfWork, CertificationRequest
from juki.cards.rules import check_auth_pin, check_pin, check_signing_password, signing_allowed
from juki.cards.token import CardWriter
from juki.core.errors import DomainRuleError, ValidationError
from juki.core.identifiers import ResidentCode
from juki.registry.model import ResidentRecord
from juki.security.actions import perform, perform_outside
from juki.security.actors import Actor
from juki.security.permissions import Permission

SERIAL_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-")


def check_serial(card_serial: str) -> str:
    if not (4 <= len(card_serial) <= 32 and set(card_serial) <= SERIAL_CHARS):
        raise ValidationError(
            "card_serial",
            "card_serial_format",
            "a card serial is 4 to 32 characters of letters, digits and '-'",
            "カードの番号は英数字とハイフン4〜32文字で入力してください",
        )
    return card_serial


def _active_record(uow: CardUnitOfWork, resident_code: str) -> ResidentRecord:
    code = ResidentCode.parse(resident_code).value
    active = [r for r in uow.registry.find_by_resident_code(code) if r.is_active]
    if not active:
        raise DomainRuleError(
            "resident_code",
            "not_a_resident",
            "a card is issued to a current resident of this municipality only",
            "カードは当市区町村に住民登録のある方にのみ交付できます",
        )
    return active[0]


def _items(record: ResidentRecord) -> SigningItems:
    return SigningItems(record.full_name, record.birth_date, record.sex.value, record.address)


def _certify(
    writer: CardWriter,
    certifier: CardCertifier,
    card: Card,
    record: ResidentRecord,
    pin: str,
    password: str | None,
) -> tuple[date, str, str | None]:
    """Keys made on the card, certificates from the CA stored on it: (expiry, serials)."""
    auth_key = writer.generate_key(KeyKind.AUTH, pin)
    signing_key = writer.generate_key(KeyKind.SIGNING, password) if password else None
    issued = certifier.certify(
        CertificationRequest(
            card.card_serial,
            card.resident_code,
            card.lg_code,
            auth_key,
            signing_key,
            _items(record) if signing_key is not None else None,
        )
    )
    writer.store_certificate(KeyKind.AUTH, issued.auth)
    if issued.signing is not None:
        writer.store_certificate(KeyKind.SIGNING, issued.signing)
    signing = f"{issued.signing.serial_number:x}" if issued.signing else None
    expires = issued.auth.not_valid_after_utc.date()
    return expires, f"{issued.auth.serial_number:x}", signing


def _check_secrets(record: ResidentRecord, pin: str, password: str | None, on: date) -> None:
    """The PIN's and password's rules and the signing age, checked once per action."""
    check_auth_pin(pin)
    if password is not None:
        check_signing_password(password)
        signing_allowed(record.birth_date, on)


def issue_card(
    uow: CardUnitOfWork, by: Actor, cmd: IssueCard, writer: CardWriter, certifier: CardCertifier
) -> Card:
    """交付申請 and 交付: keys on the card, certificates from the CA, the link recorded."""
    serial = check_serial(cmd.card_serial)

    def run() -> Card:
        with uow:
            record = _active_record(uow, cmd.resident_code)
            _check_secrets(record, cmd.pin, cmd.signing_password, cmd.on)  # before any write
            mine = uow.cards.find(serial)
            if mine is not None and (
                mine.status is not CardStatus.APPLIED or mine.resident_code != record.resident_code
            ):
                raise DomainRuleError(
                    "card_serial",
                    "serial_used",
                    "this card serial is already registered",
                    "このカード番号は既に登録されています",
                )
            if mine is None:
                others = list(uow.cards.for_resident(record.resident_code))
                card = model.apply(
                    serial, record.resident_code, record.lg_code, cmd.backend, cmd.on, others
                )
                uow.cards.add(card)
            else:
                card = mine  # a visit that failed after 交付申請: finish it
            uow.commit()
        expires, auth, signing = _certify(
            writer, certifier, card, record, cmd.pin, cmd.signing_password
        )
        with uow:
            issued = model.issue(uow.cards.get(serial), cmd.on, expires, auth, signing)
            uow.cards.save(issued)
            uow.commit()
        return issued

    return perform_outside(
        uow,
        by,
        Permission.ISSUE_CARD,
        f"card:{serial}",
        run,
        describe=lambda c: (
            f"issued; signing certificate {'yes' if c.signing_cert_serial else 'no'}"
        ),
    )


def renew_card(
    uow: CardUnitOfWork, by: Actor, cmd: RenewCard, writer: CardWriter, certifier: CardCertifier
) -> Card:
    """電子証明書の更新: the old certificates revoked, new keys and certificates on the card."""

    def run() -> Card:
        with uow:
            card = uow.cards.get(cmd.card_serial)
            record = _active_record(uow, card.resident_code)
            _check_secrets(record, cmd.pin, cmd.signing_password, cmd.on)
            model.renew(card, cmd.on, "-", None)  # the state rule, before anything is made
        certifier.revoke(card.card_serial, card.resident_code, card.lg_code, "superseded")
        expires, auth, signing = _certify(
            writer, certifier, card, record, cmd.pin, cmd.signing_password
        )
        with uow:
            renewed = model.renew(uow.cards.get(cmd.card_serial), expires, auth, signing)
            uow.cards.save(renewed)
            uow.commit()
        return renewed

    return perform_outside(
        uow, by, Permission.ISSUE_CARD, f"card:{cmd.card_serial}", run, describe=lambda c: "renewed"
    )


def continue_card_use(
    uow: CardUnitOfWork, by: Actor, cmd: ContinueCardUse, certifier: CardCertifier
) -> Card:
    """継続利用: a resident who moved in keeps their card; the CA confirms it is theirs and
    still works and routes it here from now on (the relay sends its kiosk requests here), and
    this municipality takes over the link."""
    serial = check_serial(cmd.card_serial)

    def run() -> Card:
        with uow:
            record = _active_record(uow, cmd.resident_code)
            if uow.cards.find(serial) is not None:
                raise DomainRuleError(
                    "card_serial",
                    "serial_used",
                    "this card is already registered here",
                    "このカードは既に当市区町村で登録されています",
                )
        held = certifier.take_over(serial, record.resident_code, record.lg_code)
        if held.resident_code != record.resident_code or not held.live:
            raise DomainRuleError(
                "card_serial",
                "not_continuable",
                "the card is not this resident's working card",
                "このカードはご本人の有効なカードとして確認できません",
            )
        before = Card(
            serial,
            record.resident_code,
            held.lg_code,
            CardStatus.ISSUED,
            cmd.backend,
            cmd.on,
        )
        card = model.continue_use(before, record.lg_code, cmd.moved_in_on, cmd.on)
        with uow:
            uow.cards.add(card)
            uow.commit()
        return card

    return perform_outside(uow, by, Permission.ISSUE_CARD, f"card:{serial}", run)


def _applied(change: model.Transition, card_serial: str) -> Callable[[CardUnitOfWork], Card]:
    def run(u: CardUnitOfWork) -> Card:
        after = change(u.cards.get(card_serial))
        u.cards.save(after)
        return after

    return run


def suspend_card(
    uow: CardUnitOfWork, by: Actor, card_serial: str, certifier: CardCertifier
) -> Card:
    """一時停止: the CA holds the card's certificates (on the CRL, so the relay refuses the
    card before any municipality is asked), then the register says suspended (and
    `resident_for_card` refuses it too) until it is resumed."""
    return _held(uow, by, card_serial, certifier, model.suspend, held=True)


def resume_card(uow: CardUnitOfWork, by: Actor, card_serial: str, certifier: CardCertifier) -> Card:
    """The end of 一時停止: the CA releases the hold first; if the register's change then
    failed, the municipality still refuses the card (the safe side)."""
    return _held(uow, by, card_serial, certifier, model.resume, held=False)


def _held(
    uow: CardUnitOfWork,
    by: Actor,
    card_serial: str,
    certifier: CardCertifier,
    change: model.Transition,
    *,
    held: bool,
) -> Card:
    def run() -> Card:
        with uow:
            card = uow.cards.get(card_serial)
            change(card)  # the state rule, before the CA is asked
        certifier.hold(card.card_serial, card.resident_code, card.lg_code, held=held)
        with uow:
            after = _applied(change, card_serial)(uow)
            uow.commit()
        return after

    return perform_outside(uow, by, Permission.SUSPEND_CARD, f"card:{card_serial}", run)


def abolish_card(
    uow: CardUnitOfWork, by: Actor, cmd: AbolishCard, certifier: CardCertifier
) -> Card:
    """廃止: the CA revokes both certificates first, then the register says abolished."""

    def run() -> Card:
        with uow:
            card = uow.cards.get(cmd.card_serial)
            abolished = model.abolish(card, cmd.on, cmd.reason)
        certifier.revoke(card.card_serial, card.resident_code, card.lg_code, cmd.reason.value)
        with uow:
            uow.cards.save(abolished)
            uow.commit()
        return abolished

    return perform_outside(
        uow,
        by,
        Permission.ABOLISH_CARD,
        f"card:{cmd.card_serial}",
        run,
        describe=lambda c: f"abolished: {cmd.reason.value}",
    )


def reset_card_pin(uow: CardUnitOfWork, by: Actor, cmd: ResetPin, writer: CardWriter) -> Card:
    """暗証番号の初期化 by the 暗証番号管理者: a new PIN and a full counter, on the card."""
    check_pin(cmd.kind, cmd.new_pin)

    def run(u: CardUnitOfWork) -> Card:
        card = u.cards.get(cmd.card_serial)
        if card.status not in (CardStatus.ISSUED, CardStatus.SUSPENDED):
            raise DomainRuleError(
                "card_serial",
                "card_state",
                f"a card that is {card.status.value} has no PIN to reset",
                "このカードの暗証番号は初期化できません",
            )
        writer.reset_pin(cmd.kind, cmd.new_pin)
        return card

    return perform(
        uow,
        by,
        Permission.RESET_CARD_PIN,
        f"card:{cmd.card_serial}",
        run,
        describe=lambda c: f"{cmd.kind.value} PIN reset",
    )


def cards_of(uow: CardUnitOfWork, by: Actor, resident_code: str) -> Sequence[Card]:
    code = ResidentCode.parse(resident_code).value
    return perform(
        uow,
        by,
        Permission.VIEW_CARD,
        f"resident:{code}",
        lambda u: list(u.cards.for_resident(code)),
        describe=lambda cs: f"{len(cs)} cards",
    )


def resident_for_card(uow: CardUnitOfWork, by: Actor, card_serial: str) -> str:
    """The resident code of the holder of a working card held here; refused otherwise (a
    suspended, abolished or unknown card, or a holder no longer a resident here)."""

    def run(u: CardUnitOfWork) -> str:
        card = u.cards.find(card_serial)
        if card is None or card.status is not CardStatus.ISSUED:
            status = card.status.value if card else "unknown"
            raise DomainRuleError(
                "card_serial",
                "card_not_usable",
                f"the card is {status} here",
                "このカードは利用できません。市区町村の窓口にお問い合わせください",
            )
        if not any(r.is_active for r in u.registry.find_by_resident_code(card.resident_code)):
            raise DomainRuleError(
                "card_serial",
                "holder_not_resident",
                "the card's holder is no longer a resident here",
                "このカードの方は当市区町村の住民ではありません",
            )
        return card.resident_code

    return perform(uow, by, Permission.RESOLVE_CARD, f"card:{card_serial}", run)


__all__ = [
    "abolish_card",
    "cards_of",
    "continue_card_use",
    "issue_card",
    "renew_card",
    "reset_card_pin",
    "resident_for_card",
    "resume_card",
    "suspend_card",
]
