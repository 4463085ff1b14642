"""The hop registry the transparency report reads is held to the code (issue 14, point 4):
each network message may travel from the sender's kind to the receiver's (`network.authority`),
each sealed field exists, each kept table exists, the relay keeps no content, each hop's code
exists, and the protection stated is what the transport, the signature and the seal use."""

from __future__ import annotations

import importlib

import pytest

from juki.kiosk import sealing
from juki.network import pki
from juki.network.authority import AUTHORITY
from juki.network.kiosk_messages import KioskRelayAnswer, KioskRelayRequest
from juki.nodes.tables import kiosk_issuances
from juki.nodes.transparency.hops import (
    HOPS,
    PARTY_KIND,
    Channel,
    Hop,
    Party,
    Service,
    channel_ja,
    hops_of,
    seal_ja,
    signature_ja,
    tls_floor,
)
from juki.nodes.transparency.model import fields_of, hop_row
from juki.storage.metadata import metadata, table_class


def _name(hop: Hop) -> str:
    return f"{hop.service.value}#{hop.step}"


@pytest.mark.parametrize("hop", HOPS, ids=_name)
def test_each_message_may_travel_that_hop(hop: Hop) -> None:
    sender, receiver = PARTY_KIND[hop.source], PARTY_KIND[hop.target]
    for carried in hop.carries:
        if not carried.is_message:
            assert hop.channel is Channel.CLIENT_MTLS  # an API body: a client to a node
            assert None in (sender, receiver)
            continue
        if hop.channel is Channel.SAME_DATABASE:
            assert sender == receiver  # the registry's outbox, read by its own CS
            continue
        rule = AUTHORITY[carried.name]
        assert sender in rule.senders and receiver in rule.receivers, carried.name


@pytest.mark.parametrize("hop", HOPS, ids=_name)
def test_sealed_fields_kept_tables_and_code_exist(hop: Hop) -> None:
    for carried in hop.carries:
        assert set(carried.sealed) <= set(carried.model.model_fields), carried.name
    for kept in hop.kept:
        assert (kept.table is None) != (kept.memory_ja is None)
        if kept.table is not None:
            assert kept.table in metadata.tables
        else:
            assert kept.limit is not None and kept.source
    try:
        importlib.import_module(hop.code)
    except ModuleNotFoundError:
        module, _, attr = hop.code.rpartition(".")
        assert hasattr(importlib.import_module(module), attr), hop.code


def test_the_kiosk_path_goes_round_and_is_sealed_end_to_end() -> None:
    path = hops_of(Service.KIOSK)
    assert [h.source for h in path] == [Party.KIOSK, Party.RELAY, Party.CERTIFICATE_SERVER,
                                        Party.RELAY]  # fmt: skip
    assert [h.target for h in path] == [*[h.source for h in path][1:], Party.KIOSK]
    for hop in path:
        sealed = {f for c in hop.carries for f in c.sealed}
        assert sealed in ({"sealed_request"}, {"sealed_answer"})
        assert hop.sealed_for_ja
        row = hop_row(hop)
        assert row.seal_ja is not None and "HPKE" in row.seal_ja
    # the relay hops between nodes are signed envelopes; the kiosk's are API bodies
    assert [h.signed for h in path] == [False, True, True, False]


def test_the_relay_keeps_no_content() -> None:
    relay_tables = {
        k.table for h in HOPS if h.target is Party.RELAY for k in h.kept if k.table is not None
    }
    assert "kiosk_issuances" in relay_tables
    columns = {c.name for c in kiosk_issuances.columns}
    passing = set(fields_of(KioskRelayRequest)) | set(fields_of(KioskRelayAnswer))
    # of all the relay sees, it keeps only the routing and the receipt
    assert columns & passing == {"request_id", "store_id", "lg_code", "kind", "copies", "fee_yen"}
    assert table_class(kiosk_issuances) == "audit"


def test_the_protection_stated_is_the_one_the_code_uses() -> None:
    assert isinstance(pki.generate_key().curve, pki.CURVE)
    assert pki.CURVE.name in signature_ja() and pki.SIGNATURE_HASH.name in signature_ja()
    assert tls_floor() in channel_ja(Channel.NODE_MTLS)
    assert tls_floor() in channel_ja(Channel.CLIENT_MTLS)
    assert "TLS" not in channel_ja(Channel.SAME_DATABASE)
    for part in (sealing.KEM, sealing.KDF, sealing.AEAD):
        assert str(part).rsplit(".", 1)[-1] in seal_ja()
    key = sealing.X25519PrivateKey.generate()  # the suite the statement names seals and opens
    info = sealing.binding("request", "r" * 43, "S1", "132250")
    assert sealing.open_sealed(key, sealing.seal(key.public_key(), b"x", info), info) == b"x"


def test_every_service_has_its_hops_in_order() -> None:
    for service in Service:
        steps = [h.step for h in hops_of(service)]
        assert steps == list(range(1, len(steps) + 1)), service
