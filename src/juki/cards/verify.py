"""What the kiosk relay calls to know which card is at the kiosk: `CardVerifier.verify`.

Given the card's 利用者証明用電子証明書, a challenge the relay handed out (`ChallengeBook`) and
the card's signature over it, the verifier answers the card's serial, or refuses with the rule
that failed (`CardRefused`), in this order:

1. the challenge is one this book issued, not expired, and not used before (single use);
2. the certificate was issued by the card CA and is an authentication certificate;
3. it is within its validity period;
4. it is not revoked, by a CRL signed by the card CA and not past its next update;
5. the signature over the challenge verifies with the certificate's key.

Challenges live in memory only (the relay keeps nothing) and expire after `CHALLENGE_TTL`.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from juki.cards.ca import card_serial_of, kind_of
from juki.cards.model import KeyKind
from juki.cards.token import verify_signature
from juki.core.errors import DomainRuleError

CHALLENGE_TTL: Final = timedelta(seconds=120)
CHALLENGE_BYTES: Final = 32


class CardRefused(DomainRuleError):
    """The card at the kiosk is not accepted; `rule` says why."""

    def __init__(self, rule: str, message_en: str, message_ja: str) -> None:
        super().__init__("card", rule, message_en, message_ja)


class ChallengeBook:
    """Fresh single-use challenges, in memory, each valid for `ttl`."""

    def __init__(self, now: Callable[[], datetime], ttl: timedelta = CHALLENGE_TTL) -> None:
        self._now = now
        self._ttl = ttl
        self._open: dict[bytes, datetime] = {}
        self._used: dict[bytes, datetime] = {}  # kept until expiry, to name a replay
        self._lock = threading.Lock()

    def issue(self) -> bytes:
        challenge = secrets.token_bytes(CHALLENGE_BYTES)
        with self._lock:
            self._purge()
            self._open[challenge] = self._now() + self._ttl
        return challenge

    def consume(self, challenge: bytes) -> None:
        with self._lock:
            expires = self._open.pop(challenge, None)
            now = self._now()
            if expires is None:
                replayed = challenge in self._used
                self._purge()
                if replayed:
                    raise CardRefused(
                        "challenge_replayed",
                        "the challenge was used before",
                        "認証をやり直してください（同じ認証要求は使えません）",
                    )
                raise CardRefused(
                    "challenge_unknown",
                    "the challenge was not issued here",
                    "認証をやり直してください",
                )
            self._used[challenge] = expires
            if now > expires:
                raise CardRefused(
                    "challenge_expired",
                    "the challenge expired",
                    "時間切れです。最初からやり直してください",
                )

    def _purge(self) -> None:
        now = self._now()
        for book in (self._open, self._used):
            for c in [c for c, exp in book.items() if exp < now]:
                del book[c]

    def __len__(self) -> int:
        return len(self._open)


class CardVerifier:
    """Checks a card's answer to a challenge against the card CA and its revocation list."""

    def __init__(
        self,
        ca_certificate: x509.Certificate,
        crl: Callable[[], x509.CertificateRevocationList],
        challenges: ChallengeBook,
        now: Callable[[], datetime],
    ) -> None:
        self._ca = ca_certificate
        self._crl = crl
        self.challenges = challenges
        self._now = now

    def verify(self, certificate: x509.Certificate, challenge: bytes, signature: bytes) -> str:
        """The card serial named by `certificate`, once every check passed."""
        self.challenges.consume(challenge)
        self._issued_here(certificate)
        now = self._now()
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise CardRefused(
                "certificate_expired",
                "the certificate is outside its validity period",
                "電子証明書の有効期限が切れています。市区町村の窓口で更新してください",
            )
        self._not_revoked(certificate, now)
        if not verify_signature(certificate.public_key(), challenge, signature):
            raise CardRefused(
                "signature_invalid",
                "the signature was not made by the certificate's key",
                "カードを確認できませんでした",
            )
        return card_serial_of(certificate)

    def _issued_here(self, certificate: x509.Certificate) -> None:
        try:
            certificate.verify_directly_issued_by(self._ca)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise CardRefused(
                "not_issued_by_card_ca",
                f"the certificate was not issued by the card CA: {type(exc).__name__}",
                "このカードの電子証明書は確認できません",
            ) from exc
        if kind_of(certificate) is not KeyKind.AUTH:
            raise CardRefused(
                "not_auth_certificate",
                "not a user-authentication certificate",
                "利用者証明用電子証明書ではありません",
            )

    def _not_revoked(self, certificate: x509.Certificate, now: datetime) -> None:
        crl = self._crl()
        fresh = crl.next_update_utc is not None and now <= crl.next_update_utc
        if not (crl.is_signature_valid(self._ca.public_key()) and fresh):  # type: ignore[arg-type]
            raise CardRefused(
                "status_unknown",
                "no valid revocation list: the certificate's status is unknown",
                "電子証明書の状態を確認できません。時間をおいて再度お試しください",
            )
        entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
        if entry is not None and _held(entry):
            raise CardRefused(
                "card_suspended",
                "the card is suspended (一時停止)",
                "このカードは一時停止中です。市区町村の窓口にお問い合わせください",
            )
        if entry is not None:
            raise CardRefused(
                "certificate_revoked",
                "the certificate is revoked",
                "この電子証明書は失効しています。市区町村の窓口にお問い合わせください",
            )


def _held(entry: x509.RevokedCertificate) -> bool:
    """On the list as certificateHold (一時停止), not revoked for good."""
    try:
        reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        return False
    return reason is x509.ReasonFlags.certificate_hold
