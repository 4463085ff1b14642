"""The card at the municipality (個人番号カード): its states and the transitions the counter
makes, pure (no I/O).

```
 交付申請 apply ──▶ applied ──issue──▶ issued ◀──resume── suspended
                                        │  ──suspend (一時停止)──▶ │
                                        │ continue_use (継続利用 after a move-in): issued here
                                        │ renew (電子証明書の更新): new certificates, same card
                                        ▼
                                    abolished (廃止: returned, lost, death, moved abroad …)
```

The card's serial is a random identifier with no personal meaning; the municipality keeps the
serial → resident link (`cards` table). The certificates are the national node's card CA's
(`juki.cards.ca`), which revokes them on the events `revocations_for` lists.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Final

from juki.core.errors import DomainRuleError

CONTINUED_USE_DAYS: Final = 90  # 継続利用: within 90 days of the 転入届 (to check, see docs/law.md)


class KeyKind(StrEnum):
    AUTH = "auth"  # 利用者証明用電子証明書: 4-digit PIN
    SIGNING = "signing"  # 署名用電子証明書: 6–16 character password

    @property
    def label_en(self) -> str:
        return "user-authentication PIN" if self is KeyKind.AUTH else "signing password"

    @property
    def label_ja(self) -> str:
        return "利用者証明用暗証番号" if self is KeyKind.AUTH else "署名用暗証番号"


class CardStatus(StrEnum):
    APPLIED = "applied"  # 交付申請
    ISSUED = "issued"  # 交付済み (and 継続利用)
    SUSPENDED = "suspended"  # 一時停止
    ABOLISHED = "abolished"  # 廃止


class AbolitionReason(StrEnum):
    RETURNED = "returned"  # 返納
    LOST = "lost"  # 紛失
    DEATH = "death"  # 死亡
    MOVED_ABROAD = "moved_abroad"  # 国外転出
    REPLACED = "replaced"  # 再交付・更新で新しいカードに
    NO_CONTINUED_USE = "no_continued_use"  # 転入後の継続利用の手続がない


class Backend(StrEnum):
    SOFT = "soft"  # keys in a software token (demo, simulator)
    PKCS11 = "pkcs11"  # keys on a PKCS#11 token (SoftHSM2 in tests; a smart card via OpenSC)


@dataclass(frozen=True, slots=True)
class Card:
    card_serial: str
    resident_code: str
    lg_code: str  # the municipality that holds the card's link now
    status: CardStatus
    backend: Backend
    applied_on: date
    issued_on: date | None = None
    expires_on: date | None = None
    auth_cert_serial: str | None = None
    signing_cert_serial: str | None = None
    abolished_on: date | None = None
    abolition_reason: AbolitionReason | None = None
    continued_from: str | None = None  # the municipality it was used in before a move

    @property
    def live(self) -> bool:
        return self.status in (CardStatus.APPLIED, CardStatus.ISSUED, CardStatus.SUSPENDED)


Transition = Callable[[Card], Card]


def _state(card: Card, *allowed: CardStatus, action_en: str, action_ja: str) -> None:
    if card.status not in allowed:
        raise DomainRuleError(
            "card_serial",
            "card_state",
            f"a card that is {card.status.value} cannot be {action_en}",
            f"このカードは{_STATUS_JA[card.status]}のため{action_ja}できません",
        )


_STATUS_JA: Final = {
    CardStatus.APPLIED: "交付申請中",
    CardStatus.ISSUED: "交付済み",
    CardStatus.SUSPENDED: "一時停止中",
    CardStatus.ABOLISHED: "廃止済み",
}


def apply(
    card_serial: str,
    resident_code: str,
    lg_code: str,
    backend: Backend,
    on: date,
    existing: list[Card],
) -> Card:
    """交付申請: one live card per resident."""
    if any(c.live for c in existing):
        raise DomainRuleError(
            "resident_code",
            "card_exists",
            "the resident already holds a card: abolish it first (再交付)",
            "この方は既にカードをお持ちです。再交付は既存カードの廃止後に行ってください",
        )
    return Card(card_serial, resident_code, lg_code, CardStatus.APPLIED, backend, on)


def issue(
    card: Card, on: date, expires_on: date, auth_serial: str, signing_serial: str | None
) -> Card:
    _state(card, CardStatus.APPLIED, action_en="issued", action_ja="交付")
    return dataclasses.replace(
        card,
        status=CardStatus.ISSUED,
        issued_on=on,
        expires_on=expires_on,
        auth_cert_serial=auth_serial,
        signing_cert_serial=signing_serial,
    )


def suspend(card: Card) -> Card:
    """一時停止 (a lost card reported, for example): its certificates stop working."""
    _state(card, CardStatus.ISSUED, action_en="suspended", action_ja="一時停止")
    return dataclasses.replace(card, status=CardStatus.SUSPENDED)


def resume(card: Card) -> Card:
    _state(card, CardStatus.SUSPENDED, action_en="resumed", action_ja="一時停止の解除")
    return dataclasses.replace(card, status=CardStatus.ISSUED)


def abolish(card: Card, on: date, reason: AbolitionReason) -> Card:
    _state(
        card,
        CardStatus.APPLIED,
        CardStatus.ISSUED,
        CardStatus.SUSPENDED,
        action_en="abolished",
        action_ja="廃止",
    )
    return dataclasses.replace(
        card, status=CardStatus.ABOLISHED, abolished_on=on, abolition_reason=reason
    )


def continue_use(card: Card, new_lg_code: str, moved_in_on: date, on: date) -> Card:
    """継続利用: after a 転入届 the new municipality takes over the card's link, within
    `CONTINUED_USE_DAYS` of the move-in."""
    _state(card, CardStatus.ISSUED, action_en="continued", action_ja="継続利用")
    if card.lg_code == new_lg_code:
        raise DomainRuleError(
            "lg_code",
            "same_municipality",
            "the card is already used in this municipality",
            "このカードは既に当市区町村で利用されています",
        )
    if on > moved_in_on + timedelta(days=CONTINUED_USE_DAYS):
        raise DomainRuleError(
            "moved_in_on",
            "continued_use_late",
            f"continued use is recorded within {CONTINUED_USE_DAYS} days of the move-in",
            f"継続利用の手続は転入届から{CONTINUED_USE_DAYS}日以内に行ってください",
        )
    return dataclasses.replace(card, lg_code=new_lg_code, continued_from=card.lg_code)


def renew(card: Card, expires_on: date, auth_serial: str, signing_serial: str | None) -> Card:
    """電子証明書の更新: new certificates on the same card."""
    _state(card, CardStatus.ISSUED, action_en="renewed", action_ja="電子証明書の更新")
    return dataclasses.replace(
        card,
        expires_on=expires_on,
        auth_cert_serial=auth_serial,
        signing_cert_serial=signing_serial,
    )


# -- revocation: which change of identity_info revokes which certificate ------------------------

SIGNING_ITEMS: Final = frozenset({"name", "address", "birth_date", "sex"})
ENDING_REASONS: Final = frozenset({"death", "emigration", "removal_by_authority"})


def revocations_for(changed_items: frozenset[str], change_reason: str) -> frozenset[KeyKind]:
    """What the card CA revokes when identity_info changes: both certificates when the person
    dies, moves abroad or is removed; the signing certificate (which carries name, birth date,
    sex and address) on any change of those; nothing else."""
    if change_reason in ENDING_REASONS:
        return frozenset(KeyKind)
    if changed_items & SIGNING_ITEMS:
        return frozenset({KeyKind.SIGNING})
    return frozenset()
