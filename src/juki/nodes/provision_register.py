"""The register of agencies and permitted tasks on the national node: its credentials.

An agency's credential is a client certificate issued by the network root (kind `agency`, CN
its agency id), as a kiosk store's is (`nodes.kiosk_stores`): the national node's listener is
mutual TLS and takes only root-issued client certificates, so a provision request (issue 13,
point 2) will be authenticated by the handshake and then by the fingerprint registered here.
The register itself (and every rule about it) is `juki.provision`; this module only issues
the certificate, and loads the register file the repository ships for the demo network.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Final

from cryptography import x509

from juki.core.errors import RuleViolation
from juki.core.files import write_private
from juki.network import pki
from juki.provision import services
from juki.provision.commands import AddAgency, LoadTasks
from juki.provision.model import Agency, AgencyKind
from juki.provision.register_file import parse_register
from juki.provision.store import SqlProvisionUnitOfWork
from juki.security.actors import Actor

if TYPE_CHECKING:
    from juki.nodes.national import NationalNode
    from juki.nodes.node import Node

AGENCY_KIND: Final = "agency"


def shipped_register() -> str:
    """The register file in the repository (`juki/provision/data/register.json`)."""
    return resources.files("juki.provision").joinpath("data/register.json").read_text("utf-8")


def uow_of(node: Node) -> SqlProvisionUnitOfWork:
    return SqlProvisionUnitOfWork(node.engine, clock=node.clock)


@dataclass(frozen=True, slots=True)
class IssuedAgency:
    agency: Agency
    key_file: Path
    cert_file: Path


def add_agency(
    node: NationalNode, by: Actor, agency_id: str, name: str, kind: AgencyKind, out: Path
) -> IssuedAgency:
    """Register the agency with a key and root-signed client certificate issued once the
    service has checked the permission and the request (each call logged), then write the key
    and certificate to `out` (the key owner-only)."""
    root_key = node.root_key
    if root_key is None:
        raise LookupError("the national node holds no root key")
    key_file, cert_file = out / f"{agency_id[:32]}.key", out / f"{agency_id[:32]}.pem"
    if key_file.exists():
        raise FileExistsError(key_file)
    issued: list[tuple[pki.PrivateKey, x509.Certificate]] = []

    def issue(checked_id: str) -> str:
        issued.append(
            pki.issue_key_pair(
                root_key, node.root, node_id=checked_id, kind=AGENCY_KIND, now=node.clock.now()
            )
        )
        return pki.fingerprint(issued[0][1])

    agency = services.add_agency(uow_of(node), by, AddAgency(agency_id, name, kind, ""), issue)
    key, cert = issued[0]
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_private(key_file, pki.key_to_pem(key))
    cert_file.write_bytes(pki.cert_to_pem(cert))
    return IssuedAgency(agency, key_file, cert_file)


def register_certificate(
    node: Node, by: Actor, agency_id: str, name: str, kind: AgencyKind, pem: bytes
) -> Agency:
    """At a prefecture (which holds no root key): register an agency with the certificate the
    national node issued it, once it is shown to be root-issued, of kind `agency`, for this
    agency id."""
    try:
        cert = pki.cert_from_pem(pem)
        named = pki.check_issued_by(cert, node.root, node.clock.now())
    except ValueError:
        raise RuleViolation(
            "certificate",
            "not_root_issued",
            "not a certificate issued by the network root",
            "ネットワークのルートが発行した証明書ではありません",
        ) from None
    if (named.kind, named.node_id) != (AGENCY_KIND, agency_id):
        raise RuleViolation(
            "certificate",
            "not_this_agency",
            f"the certificate names {named.kind[:20]} {named.node_id[:32]}, not agency {agency_id}",
            "証明書がこの機関のものではありません",
        )
    cmd = AddAgency(agency_id, name, kind, pki.fingerprint(cert))
    return services.add_agency(uow_of(node), by, cmd)


def load_shipped_register(node: Node, by: Actor, out: Path) -> services.LoadResult:
    """The demo network's register: every agency of the shipped file with its credential in
    `out` (issued at the national node; registered from there at a prefecture), then its
    tasks."""
    from juki.nodes.national import NationalNode

    register = parse_register(shipped_register())
    for entry in register.agencies:
        if isinstance(node, NationalNode):
            add_agency(node, by, entry.agency_id, entry.name, entry.kind, out)
        else:
            pem = (out / f"{entry.agency_id}.pem").read_bytes()
            register_certificate(node, by, entry.agency_id, entry.name, entry.kind, pem)
    return services.load_tasks(uow_of(node), by, LoadTasks(register.tasks))
