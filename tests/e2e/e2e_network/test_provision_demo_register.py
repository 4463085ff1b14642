"""`juki network init --demo` leaves the shipped register of agencies and permitted tasks at
the national node (and each agency's credential in the network directory), for provision."""

from __future__ import annotations

from operator import attrgetter

from cryptography import x509

from juki.network.pki import fingerprint
from juki.nodes.config import NodeConfig
from juki.nodes.provision_register import shipped_register
from juki.provision.register_file import parse_register
from juki.provision.store import SqlProvisionUnitOfWork
from juki.storage.engine import make_engine
from support.small_network import SmallNetwork


def test_the_demo_national_node_holds_the_shipped_register(small_network: SmallNetwork) -> None:
    files = small_network.files
    shipped = parse_register(shipped_register())
    engine = make_engine(NodeConfig.load(files.node_file("national")).db)
    try:
        with SqlProvisionUnitOfWork(engine) as uow:
            agencies = {a.agency_id: a for a in uow.provision.agencies()}
            versions = uow.provision.versions()
    finally:
        engine.dispose()
    assert set(agencies) == {a.agency_id for a in shipped.agencies}
    for agency_id, agency in agencies.items():
        pem = (files.agencies_dir / f"{agency_id}.pem").read_bytes()
        assert agency.certificate_sha256 == fingerprint(x509.load_pem_x509_certificate(pem))
    key = attrgetter("ref", "effective_from")
    assert sorted(versions, key=key) == sorted(shipped.tasks, key=key)
