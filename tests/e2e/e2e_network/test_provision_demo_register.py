"""`juki network init --demo` leaves the shipped register of agencies and permitted tasks at
the national node (and each agency's credential in the network directory), for provision.

Other modules of the package register more at the national node (an agency, a task withdrawn
last year: tests/e2e/e2e_network/test_provision_network.py), before or after this one: what
init shipped is checked, and that it wrote credentials for those agencies and no others."""

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
    credentials = {pem.stem for pem in files.agencies_dir.glob("*.pem")}
    assert credentials == {a.agency_id for a in shipped.agencies}
    for entry in shipped.agencies:
        agency = agencies[entry.agency_id]
        assert (agency.name, agency.kind) == (entry.name, entry.kind)
        pem = (files.agencies_dir / f"{entry.agency_id}.pem").read_bytes()
        assert agency.certificate_sha256 == fingerprint(x509.load_pem_x509_certificate(pem))
    key = attrgetter("ref", "effective_from")
    held = {key(v): v for v in versions}
    assert {key(t): held.get(key(t)) for t in shipped.tasks} == {key(t): t for t in shipped.tasks}
