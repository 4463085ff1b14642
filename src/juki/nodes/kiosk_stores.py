"""Kiosk stores (店舗) on the national node: which stores' kiosks may call the relay.

A store is an operator company's store (a convenience-store chain's branch), independent of any
municipality. Its credential is a client certificate issued by the network root (kind `store`,
CN the store id), the same kind of credential as a node's or the console's: the national node's
listener is mutual TLS and accepts only root-issued client certificates, so a kiosk must present
one anyway, and the handshake then proves the store holds the key. A bearer token would have
needed a second credential on top of a certificate the kiosk must hold regardless.

A national operator (`MANAGE_KIOSK_STORES`) registers a store with the SHA-256 of its
certificate and may withdraw it; each relay call authenticates the connection's certificate
against this register (`authenticate`): a certificate of another kind, of an unregistered or
withdrawn store, or not the one registered (a re-issued one before it is registered) is refused,
and the refusal is in the national oplog, as every call is.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Final

import sqlalchemy as sa
from cryptography import x509

from juki.core.errors import PermissionDeniedError, RuleViolation
from juki.network import pki
from juki.nodes.registered_peers import PeerRegister, why_refused
from juki.nodes.tables import kiosk_stores
from juki.security.actors import Actor
from juki.security.permissions import Permission, Role, authorize
from juki.web.errors import AuthenticationRequired

if TYPE_CHECKING:
    from juki.nodes.national import NationalNode

STORE_KIND: Final = "store"
STORE_ID: Final = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
ks = kiosk_stores.c


class StoreRefused(AuthenticationRequired):
    """The connection is not a registered, active store's (the kiosk shows: 店舗の登録を確認)."""

    message_en = "this store may not use the kiosk relay"
    message_ja = "この店舗はコンビニ交付を利用できません"

    @property
    def type(self) -> str:
        return "store_not_registered"


def store_actor(store_id: str) -> Actor:
    return Actor(f"store:{store_id}", Role.KIOSK_STORE, store_id)


def issue_store_certificate(
    root_key: pki.PrivateKey, root_cert: x509.Certificate, store_id: str, node: NationalNode
) -> tuple[pki.PrivateKey, x509.Certificate]:
    """The store's key and its root-issued client certificate (whoever holds the root key)."""
    check_store_id(store_id)
    return pki.issue_key_pair(
        root_key, root_cert, node_id=store_id, kind=STORE_KIND, now=node.clock.now()
    )


def check_store_id(store_id: str) -> str:
    if not STORE_ID.fullmatch(store_id):
        raise RuleViolation(
            "store_id",
            "format",
            "store_id must be 1-32 of A-Z, a-z, 0-9, _ and -",
            "店舗IDは英数字・_・- の1〜32文字で指定してください",
        )
    return store_id


def may_manage(node: NationalNode, by: Actor, action: str, target: str) -> None:
    """The one permission check for the register; a refusal is in the oplog (`denied`)."""
    try:
        authorize(by.actor_id, by.role, Permission.MANAGE_KIOSK_STORES)
    except PermissionDeniedError as exc:
        with node.engine.begin() as conn:
            node.log_operation(conn, by, action, target, "denied", str(exc))
        raise


def register_store(
    node: NationalNode, by: Actor, store_id: str, operator_company: str, cert: x509.Certificate
) -> None:
    """Register (or re-register with a new certificate) a store; a national operator's act."""
    may_manage(node, by, "register_kiosk_store", f"store:{store_id[:32]}")
    check_store_id(store_id)
    company = operator_company.strip()
    if not 1 <= len(company) <= 100:
        raise RuleViolation(
            "operator_company",
            "length",
            "operator_company must be 1-100 characters",
            "運営会社名は1〜100文字で指定してください",
        )
    named = pki.check_issued_by(cert, node.root, node.clock.now())
    if (named.node_id, named.kind) != (store_id, STORE_KIND):
        raise RuleViolation(
            "certificate",
            "not_this_store",
            f"the certificate names {named.kind} {named.node_id}, not store {store_id}",
            "証明書がこの店舗のものではありません",
        )
    row = {
        "operator_company": company,
        "certificate_sha256": pki.fingerprint(cert),
        "status": "active",
        "registered_at": node.clock.now().isoformat(),
        "withdrawn_at": None,
    }
    with node.engine.begin() as conn:
        done = conn.execute(kiosk_stores.update().where(ks.store_id == store_id).values(**row))
        if done.rowcount == 0:
            conn.execute(kiosk_stores.insert().values(store_id=store_id, **row))
        node.log_operation(conn, by, "register_kiosk_store", f"store:{store_id}", detail=company)


def withdraw_store(node: NationalNode, by: Actor, store_id: str) -> bool:
    """The store's kiosks may no longer call the relay; False when no such active store."""
    may_manage(node, by, "withdraw_kiosk_store", f"store:{store_id[:32]}")
    with node.engine.begin() as conn:
        done = conn.execute(
            kiosk_stores.update()
            .where((ks.store_id == check_store_id(store_id)) & (ks.status == "active"))
            .values(status="withdrawn", withdrawn_at=node.clock.now().isoformat())
        )
        node.log_operation(
            conn,
            by,
            "withdraw_kiosk_store",
            f"store:{store_id}",
            "ok" if done.rowcount else "rejected",
        )
    return bool(done.rowcount)


def list_stores(node: NationalNode, by: Actor) -> list[dict[str, str | None]]:
    """The register, every store with its status (the reading is logged)."""
    may_manage(node, by, "list_kiosk_stores", "kiosk_stores")
    with node.engine.begin() as conn:
        rows = conn.execute(sa.select(kiosk_stores).order_by(ks.store_id)).all()
        node.log_operation(conn, by, "list_kiosk_stores", "kiosk_stores", detail=str(len(rows)))
    return [
        {
            "store_id": r.store_id,
            "operator_company": r.operator_company,
            "status": r.status,
            "certificate_sha256": r.certificate_sha256,
            "registered_at": str(r.registered_at),
            "withdrawn_at": None if r.withdrawn_at is None else str(r.withdrawn_at),
        }
        for r in rows
    ]


def authenticate(node: NationalNode, der: bytes | None, action: str) -> Actor:
    """The store the connection's client certificate names, if registered and active, with
    the relay permission; a refusal is logged (who tried, and why) and raised."""
    why, store_id = why_refused(node, der, STORES)
    actor = store_actor(store_id or "-")
    if why is None:
        authorize(actor.actor_id, actor.role, Permission.USE_KIOSK_RELAY)
        return actor
    with node.engine.begin() as conn:
        node.log_operation(conn, actor, action, f"store:{store_id or '-'}", "rejected", why)
    raise StoreRefused(why, f"this store may not use the kiosk relay: {why}")


STORES: Final = PeerRegister(
    kiosk_stores, "store_id", STORE_KIND, "store", "a store", "store not registered"
)
