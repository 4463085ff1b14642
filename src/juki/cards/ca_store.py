"""The card CA's ledger in SQL: every certificate issued, its revocation or hold (一時停止),
the municipality it routes to, and the CRL built from it. Used by the national node
(`juki.nodes.cards`) and by a standalone registry's own CA (`LocalCertifier`); the caller holds
the transaction.

Every change of what the CRL lists (a revocation, a hold, a release) bumps one counter
(`STATUS_COUNTER`) in the same transaction, so a cached CRL is known to be current by reading
one row (`status_version`), and a revocation is seen by the next verification."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from cryptography import x509

from juki.cards.ca import CardAuthority, SigningItems
from juki.cards.model import KeyKind
from juki.cards.ports import CardHolder, CertificationRequest, IssuedCertificates
from juki.cards.tables import card_certificates
from juki.storage.counters import counters, next_counter

c = card_certificates.c
CRL_COUNTER = "card_crl_number"
STATUS_COUNTER = "card_status_version"


def status_version(conn: sa.Connection) -> int:
    """How many times what the CRL lists has changed (0 before the first change)."""
    value = conn.execute(
        sa.select(counters.c.value).where(counters.c.name == STATUS_COUNTER)
    ).scalar_one_or_none()
    return int(value or 0)


def _changed(conn: sa.Connection, rows: int) -> int:
    if rows:
        next_counter(conn, STATUS_COUNTER)
    return rows


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
    return _changed(conn, int(done.rowcount or 0))


def hold(conn: sa.Connection, now: datetime, card_serial: str, *, held: bool) -> int:
    """一時停止 (held) or its end: the card's unrevoked certificates on or off the CRL."""
    live = (c.card_serial == card_serial) & c.revoked_at.is_(None)
    where = live & (c.held_at.is_(None) if held else c.held_at.is_not(None))
    done = conn.execute(
        card_certificates.update().where(where).values(held_at=now.isoformat() if held else None)
    )
    return _changed(conn, int(done.rowcount or 0))


def move(conn: sa.Connection, card_serial: str, lg_code: str) -> int:
    """継続利用: the card's certificates route to `lg_code` (the relay's `holder`)."""
    done = conn.execute(
        card_certificates.update()
        .where((c.card_serial == card_serial) & (c.lg_code != lg_code))
        .values(lg_code=lg_code)
    )
    return int(done.rowcount or 0)


def holder(conn: sa.Connection, card_serial: str, now: datetime) -> CardHolder | None:
    row = conn.execute(
        sa.select(c.resident_code, c.lg_code, c.revoked_at, c.held_at, c.not_after)
        .where((c.card_serial == card_serial) & (c.kind == KeyKind.AUTH.value))
        .order_by(c.issued_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    live = row.revoked_at is None and datetime.fromisoformat(row.not_after) >= now
    return CardHolder(
        card_serial, row.resident_code, row.lg_code, live, now, row.held_at is not None
    )


def resident_of_card(conn: sa.Connection, card_serial: str) -> str | None:
    return conn.execute(
        sa.select(c.resident_code).where(c.card_serial == card_serial).limit(1)
    ).scalar_one_or_none()


def crl(conn: sa.Connection, ca: CardAuthority, now: datetime) -> x509.CertificateRevocationList:
    """A CRL of every revoked or held certificate, numbered by a counter of its own."""
    rows = conn.execute(
        sa.select(c.cert_serial, c.revoked_at, c.held_at).where(
            c.revoked_at.is_not(None) | c.held_at.is_not(None)
        )
    ).all()
    number = next_counter(conn, CRL_COUNTER)
    revoked = [
        (int(r.cert_serial, 16), datetime.fromisoformat(r.revoked_at)) for r in rows if r.revoked_at
    ]
    held = [
        (int(r.cert_serial, 16), datetime.fromisoformat(r.held_at))
        for r in rows
        if not r.revoked_at
    ]
    return ca.crl(revoked, now, number, held)


__all__ = [
    "SigningItems",
    "crl",
    "hold",
    "holder",
    "issue",
    "move",
    "resident_of_card",
    "revoke",
    "status_version",
]
