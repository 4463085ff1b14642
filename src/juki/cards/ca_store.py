"""The card CA's ledger in SQL: every certificate issued, its revocation, and the CRL built
from it. Used by the national node (`juki.nodes.cards`) and by a standalone registry's own CA
(`LocalCertifier`); the caller holds the transaction."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from cryptography import x509

from juki.cards.ca import CardAuthority, SigningItems
from juki.cards.model import KeyKind
from juki.cards.ports import CardHolder, CertificationRequest, IssuedCertificates
from juki.cards.tables import card_certificates
from juki.storage.counters import next_counter

c = card_certificates.c
CRL_COUNTER = "card_crl_number"


def issue(
    conn: sa.Connection, ca: CardAuthority, request: CertificationRequest, now: datetime
) -> IssuedCertificates:
    """Both certificates for the card, recorded in the ledger."""
    auth = ca.issue(KeyKind.AUTH, request.card_serial, request.auth_key, now)
    _record(conn, auth, KeyKind.AUTH, request, now)
    signing = None
    if request.signing_key is not None:
        signing = ca.issue(
            KeyKind.SIGNING, request.card_serial, request.signing_key, now, request.signing_items
        )
        _record(conn, signing, KeyKind.SIGNING, request, now)
    return IssuedCertificates(auth, signing)


def _record(
    conn: sa.Connection,
    cert: x509.Certificate,
    kind: KeyKind,
    request: CertificationRequest,
    now: datetime,
) -> None:
    conn.execute(
        card_certificates.insert().values(
            cert_serial=f"{cert.serial_number:x}",
            kind=kind.value,
            card_serial=request.card_serial,
            resident_code=request.resident_code,
            lg_code=request.lg_code,
            issued_at=now.isoformat(),
            not_after=cert.not_valid_after_utc.isoformat(),
        )
    )


def revoke(
    conn: sa.Connection,
    now: datetime,
    reason: str,
    *,
    card_serial: str | None = None,
    resident_code: str | None = None,
    kinds: frozenset[KeyKind] = frozenset(KeyKind),
) -> int:
    """Revoke the live certificates of a card or of a resident, of the kinds given."""
    where = c.revoked_at.is_(None) & c.kind.in_([k.value for k in kinds])
    if card_serial is not None:
        where &= c.card_serial == card_serial
    if resident_code is not None:
        where &= c.resident_code == resident_code
    if card_serial is None and resident_code is None:
        raise ValueError("revoke names a card or a resident")
    done = conn.execute(
        card_certificates.update()
        .where(where)
        .values(revoked_at=now.isoformat(), revocation_reason=reason[:32])
    )
    return int(done.rowcount or 0)


def holder(conn: sa.Connection, card_serial: str, now: datetime) -> CardHolder | None:
    row = conn.execute(
        sa.select(c.resident_code, c.lg_code, c.revoked_at, c.not_after)
        .where((c.card_serial == card_serial) & (c.kind == KeyKind.AUTH.value))
        .order_by(c.issued_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    live = row.revoked_at is None and datetime.fromisoformat(row.not_after) >= now
    return CardHolder(card_serial, row.resident_code, row.lg_code, live, now)


def resident_of_card(conn: sa.Connection, card_serial: str) -> str | None:
    return conn.execute(
        sa.select(c.resident_code).where(c.card_serial == card_serial).limit(1)
    ).scalar_one_or_none()


def crl(conn: sa.Connection, ca: CardAuthority, now: datetime) -> x509.CertificateRevocationList:
    """A CRL of every revoked certificate, numbered by a counter of its own."""
    rows = conn.execute(
        sa.select(c.cert_serial, c.revoked_at).where(c.revoked_at.is_not(None))
    ).all()
    number = next_counter(conn, CRL_COUNTER)
    revoked = [(int(r.cert_serial, 16), datetime.fromisoformat(r.revoked_at)) for r in rows]
    return ca.crl(revoked, now, number)


__all__ = ["SigningItems", "crl", "holder", "issue", "resident_of_card", "revoke"]
