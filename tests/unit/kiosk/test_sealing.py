"""End-to-end sealing (`juki.kiosk.sealing`): opens only with the recipient's key and the same
binding; the municipality's kiosk key is taken only as signed by its root-issued certificate."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from juki.kiosk.sealing import (
    TO_KIOSK,
    TO_MUNICIPALITY,
    KeyStatement,
    SealError,
    b64,
    binding,
    key_statement_data,
    open_sealed,
    raw_public,
    seal,
    unb64,
)
from juki.network import pki

NOW = datetime(2025, 4, 1, tzinfo=UTC)


def test_sealed_opens_only_for_its_recipient_direction_and_binding() -> None:
    recipient, other = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    aad = binding(TO_KIOSK, "r" * 43, "CARD-1", "132250")
    sealed = seal(recipient.public_key(), b"pdf", aad)
    assert open_sealed(recipient, sealed, aad) == b"pdf"
    for key, bound in [
        (other, aad),
        (recipient, binding(TO_MUNICIPALITY, "r" * 43, "CARD-1", "132250")),
        (recipient, binding(TO_KIOSK, "r" * 43, "CARD-2", "132250")),
        (recipient, binding(TO_KIOSK, "s" * 43, "CARD-1", "132250")),
    ]:
        with pytest.raises(SealError):
            open_sealed(key, sealed, bound)
    raw = bytearray(unb64(sealed))
    raw[-1] ^= 1
    with pytest.raises(SealError):
        open_sealed(recipient, b64(bytes(raw)), aad)
    assert seal(recipient.public_key(), b"pdf", aad) != sealed  # a fresh key every time


def test_a_kiosk_key_is_taken_only_as_signed_by_the_municipality_under_the_root() -> None:
    root_key, root = pki.create_root(NOW)
    node_key, node_cert = pki.issue_key_pair(
        root_key, root, node_id="132250", kind="municipality", now=NOW
    )
    other_key, other_cert = pki.issue_key_pair(
        root_key, root, node_id="142051", kind="municipality", now=NOW
    )
    public = raw_public(X25519PrivateKey.generate())
    good = KeyStatement(
        "132250", public, pki.sign(node_key, key_statement_data("132250", public)), node_cert
    )
    assert raw_public(good.verified(root, NOW)) == public
    forged = [
        # signed by another municipality's key, with its own certificate: names 142051
        KeyStatement(
            "132250", public, pki.sign(other_key, key_statement_data("132250", public)), other_cert
        ),
        # another key substituted under the municipality's signature
        KeyStatement("132250", raw_public(X25519PrivateKey.generate()), good.signature, node_cert),
    ]
    _, stranger_root = pki.create_root(NOW)
    for statement in forged:
        with pytest.raises(SealError):
            statement.verified(root, NOW)
    with pytest.raises(SealError):
        good.verified(stranger_root, NOW)
