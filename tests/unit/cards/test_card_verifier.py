"""The card CA and the relay's verifier, with a software card: what each certificate carries,
and every refusal (revoked, wrong key, replayed or expired challenge, another CA, expired)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from juki.cards.ca import CardAuthority, SigningItems, card_serial_of, kind_of, signing_items_of
from juki.cards.model import KeyKind
from juki.cards.rules import CardLocked, WrongPin
from juki.cards.soft import SoftCardToken
from juki.cards.token import CardUnavailable
from juki.cards.verify import CardRefused, CardVerifier, ChallengeBook
from juki.core.clock import JST, FixedClock

NOW = datetime(2025, 4, 1, 10, 0, tzinfo=JST)
ITEMS = SigningItems("山田　太郎", date(1980, 1, 2), "male", "東京都稲城市東長沼1番地")


class Moving(FixedClock):
    def advance(self, delta: timedelta) -> None:
        self._at += delta


@pytest.fixture(scope="module")
def ca() -> CardAuthority:
    return CardAuthority.create(NOW)


@pytest.fixture(scope="module")
def card(ca: CardAuthority) -> SoftCardToken:
    token = SoftCardToken("CARD-0001")
    auth = token.generate_key(KeyKind.AUTH, "1234")
    signing = token.generate_key(KeyKind.SIGNING, "ABC123")
    token.store_certificate(KeyKind.AUTH, ca.issue(KeyKind.AUTH, "CARD-0001", auth, NOW))
    token.store_certificate(
        KeyKind.SIGNING, ca.issue(KeyKind.SIGNING, "CARD-0001", signing, NOW, ITEMS)
    )
    return token


def _verifier(ca: CardAuthority, revoked: list[int], clock: FixedClock) -> CardVerifier:
    return CardVerifier(
        ca.certificate,
        lambda: ca.crl([(s, NOW) for s in revoked], clock.now(), 1),
        ChallengeBook(clock.now),
        clock.now,
    )


def test_the_auth_certificate_names_the_card_and_no_person(card: SoftCardToken) -> None:
    cert = card.auth_certificate()
    assert kind_of(cert) is KeyKind.AUTH
    assert card_serial_of(cert) == "CARD-0001"
    assert [a.oid for a in cert.subject] == [NameOID.SERIAL_NUMBER]
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    der = cert.public_bytes(Encoding.DER)
    for personal in (ITEMS.name, ITEMS.address, "1980"):
        assert personal.encode("utf-8") not in der


def test_the_signing_certificate_carries_the_four_items(card: SoftCardToken) -> None:
    cert = card.signing_certificate()
    assert kind_of(cert) is KeyKind.SIGNING
    assert signing_items_of(cert) == ITEMS
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == ITEMS.name


def test_a_fresh_signature_names_the_card_once(ca: CardAuthority, card: SoftCardToken) -> None:
    clock = FixedClock(NOW)
    verifier = _verifier(ca, [], clock)
    challenge = verifier.challenges.issue()
    signature = card.sign_auth("1234", challenge)
    assert verifier.verify(card.auth_certificate(), challenge, signature) == "CARD-0001"
    with pytest.raises(CardRefused) as err:
        verifier.verify(card.auth_certificate(), challenge, signature)
    assert err.value.rule == "challenge_replayed"


def test_a_revoked_certificate_is_refused(ca: CardAuthority, card: SoftCardToken) -> None:
    clock = FixedClock(NOW)
    verifier = _verifier(ca, [card.auth_certificate().serial_number], clock)
    challenge = verifier.challenges.issue()
    with pytest.raises(CardRefused) as err:
        verifier.verify(card.auth_certificate(), challenge, card.sign_auth("1234", challenge))
    assert err.value.rule == "certificate_revoked"
    assert "失効" in err.value.message_ja


def test_a_signature_by_another_key_is_refused(ca: CardAuthority, card: SoftCardToken) -> None:
    verifier = _verifier(ca, [], FixedClock(NOW))
    challenge = verifier.challenges.issue()
    other = card.sign("ABC123", challenge)  # the signing key, not the certificate's
    with pytest.raises(CardRefused) as err:
        verifier.verify(card.auth_certificate(), challenge, other)
    assert err.value.rule == "signature_invalid"


def test_a_signing_certificate_or_another_ca_is_refused(
    ca: CardAuthority, card: SoftCardToken
) -> None:
    verifier = _verifier(ca, [], FixedClock(NOW))
    challenge = verifier.challenges.issue()
    with pytest.raises(CardRefused) as err:
        verifier.verify(card.signing_certificate(), challenge, card.sign("ABC123", challenge))
    assert err.value.rule == "not_auth_certificate"
    rogue = CardAuthority.create(NOW, "rogue CA")
    forged = rogue.issue(KeyKind.AUTH, "CARD-0001", card.auth_certificate().public_key(), NOW)  # type: ignore[arg-type]
    challenge = verifier.challenges.issue()
    with pytest.raises(CardRefused) as err:
        verifier.verify(forged, challenge, card.sign_auth("1234", challenge))
    assert err.value.rule == "not_issued_by_card_ca"


def test_an_unknown_or_expired_challenge_and_an_old_crl_are_refused(
    ca: CardAuthority, card: SoftCardToken
) -> None:
    clock = Moving(NOW)
    verifier = _verifier(ca, [], clock)
    with pytest.raises(CardRefused) as err:
        verifier.verify(card.auth_certificate(), b"x" * 32, card.sign_auth("1234", b"x" * 32))
    assert err.value.rule == "challenge_unknown"
    challenge = verifier.challenges.issue()
    clock.advance(timedelta(minutes=3))
    with pytest.raises(CardRefused) as err:
        verifier.verify(card.auth_certificate(), challenge, card.sign_auth("1234", challenge))
    assert err.value.rule == "challenge_expired"
    stale = CardVerifier(
        ca.certificate, lambda: ca.crl([], NOW, 1), ChallengeBook(clock.now), clock.now
    )
    clock.advance(timedelta(days=2))
    challenge = stale.challenges.issue()
    with pytest.raises(CardRefused) as err:
        stale.verify(card.auth_certificate(), challenge, card.sign_auth("1234", challenge))
    assert err.value.rule == "status_unknown"
    clock.advance(timedelta(days=6 * 365))
    fresh = _verifier(ca, [], clock)
    challenge = fresh.challenges.issue()
    with pytest.raises(CardRefused) as err:
        fresh.verify(card.auth_certificate(), challenge, card.sign_auth("1234", challenge))
    assert err.value.rule == "certificate_expired"


def test_the_soft_card_counts_wrong_pins_and_keeps_them_in_its_file(
    tmp_path: Path, ca: CardAuthority
) -> None:
    path = tmp_path / "card.json"
    token = SoftCardToken("CARD-0002", path=path)
    token.generate_key(KeyKind.AUTH, "1234")
    with pytest.raises(CardUnavailable):
        token.auth_certificate()
    for left in (2, 1):
        with pytest.raises(WrongPin) as err:
            token.sign_auth("0000", b"c")
        assert err.value.tries_left == left
    reloaded = SoftCardToken.load(path)  # the counter is the card's, not the process's
    assert reloaded.tries_left(KeyKind.AUTH) == 1
    with pytest.raises(CardLocked):
        reloaded.sign_auth("0000", b"c")
    with pytest.raises(CardLocked):
        SoftCardToken.load(path).sign_auth("1234", b"c")
    assert b"1234" not in path.read_bytes()
    assert path.stat().st_mode & 0o077 == 0
    reloaded.reset_pin(KeyKind.AUTH, "5678")
    assert SoftCardToken.load(path).sign_auth("5678", b"c")
