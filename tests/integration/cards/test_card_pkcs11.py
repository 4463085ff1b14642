"""The PKCS#11 back-end on SoftHSM2: a card is two tokens (利用者証明用 and 署名用, each with its
own PIN), keys made on them, certificates stored on them, the signature verified as the relay
will; the 3 and 5 wrong-try locks kept on the token, and the issuer's reset."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from juki.cards.ca import CardAuthority, SigningItems, signing_items_of
from juki.cards.model import KeyKind
from juki.cards.pkcs11_token import Pkcs11CardToken
from juki.cards.rules import CardLocked, WrongPin
from juki.cards.token import CardUnavailable
from juki.cards.verify import CardVerifier, ChallengeBook
from juki.core.clock import JST
from support.softhsm import SO_PIN, new_card

NOW = datetime(2025, 4, 1, 10, 0, tzinfo=JST)
ITEMS = SigningItems("山田\u3000花子", date(1982, 7, 7), "female", "東京都稲城市東長沼1番地")


def test_a_pkcs11_card_signs_counts_wrong_pins_and_is_reset_by_the_issuer(softhsm: str) -> None:
    for kind in KeyKind:
        new_card(f"P11-0001-{kind.value}", "000000")  # blank, from the card printer
    ca = CardAuthority.create(NOW)
    card = Pkcs11CardToken(softhsm, "P11-0001", SO_PIN)
    auth = card.generate_key(KeyKind.AUTH, "1234")
    signing = card.generate_key(KeyKind.SIGNING, "PASS1234")
    card.store_certificate(KeyKind.AUTH, ca.issue(KeyKind.AUTH, "P11-0001", auth, NOW))
    card.store_certificate(
        KeyKind.SIGNING, ca.issue(KeyKind.SIGNING, "P11-0001", signing, NOW, ITEMS)
    )

    # the resident's side needs no SO PIN
    resident = Pkcs11CardToken(softhsm, "P11-0001")
    verifier = CardVerifier(
        ca.certificate, lambda: ca.crl([], NOW, 1), ChallengeBook(lambda: NOW), lambda: NOW
    )
    challenge = verifier.challenges.issue()
    signature = resident.sign_auth("1234", challenge)
    assert verifier.verify(resident.auth_certificate(), challenge, signature) == "P11-0001"
    assert signing_items_of(resident.signing_certificate()) == ITEMS
    with pytest.raises(CardUnavailable):
        resident.reset_pin(KeyKind.AUTH, "1111")  # only the issuer resets

    # 3 wrong PINs lock the auth key, even to the right PIN; a right one before resets the count
    with pytest.raises(WrongPin):
        resident.sign_auth("0000", b"x")
    resident.sign_auth("1234", b"x")
    assert resident.tries_left(KeyKind.AUTH) == 3
    for left in (2, 1):
        with pytest.raises(WrongPin) as err:
            resident.sign_auth("0000", b"x")
        assert err.value.tries_left == left
    with pytest.raises(CardLocked):
        resident.sign_auth("0000", b"x")
    with pytest.raises(CardLocked):
        resident.sign_auth("1234", b"x")

    # 5 wrong passwords lock the signing key; the auth key's lock is its own
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongPin) as err:
            resident.sign("WRONG999", b"x")
        assert err.value.tries_left == left
    with pytest.raises(CardLocked):
        resident.sign("WRONG999", b"x")

    card.reset_pin(KeyKind.AUTH, "4321")  # 暗証番号の初期化 by the 暗証番号管理者
    assert resident.tries_left(KeyKind.AUTH) == 3
    challenge = verifier.challenges.issue()
    signature = resident.sign_auth("4321", challenge)
    assert verifier.verify(resident.auth_certificate(), challenge, signature) == "P11-0001"
    with pytest.raises(CardLocked):
        resident.sign("PASS1234", b"x")

    # 電子証明書の更新: a new auth key replaces the old one on the card
    renewed = card.generate_key(KeyKind.AUTH, "2468")
    assert renewed.public_numbers() != auth.public_numbers()
    card.store_certificate(KeyKind.AUTH, ca.issue(KeyKind.AUTH, "P11-0001", renewed, NOW))
    challenge = verifier.challenges.issue()
    signature = resident.sign_auth("2468", challenge)
    assert verifier.verify(resident.auth_certificate(), challenge, signature) == "P11-0001"
