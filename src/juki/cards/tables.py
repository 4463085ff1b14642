"""The cards' tables: the municipality's card register (the serial → resident link) and the
national card CA's ledger of issued certificates (what its revocation list is built from).

Neither holds a PIN, a key or a certificate's private half: those live in the card."""

from __future__ import annotations

import sqlalchemy as sa

from juki.storage.metadata import Code, Timestamp, metadata

# At the municipality: one row per card it holds the link of (issued here, or continued here
# after a move-in). The serial is random; this table alone says whose card it is.
cards = sa.Table(
    "cards",
    metadata,
    sa.Column("card_serial", sa.String(32), primary_key=True),
    sa.Column("resident_code", sa.String(11), nullable=False, index=True),
    sa.Column("lg_code", sa.String(6), nullable=False),
    sa.Column("status", Code, nullable=False),
    sa.Column("backend", Code, nullable=False),
    sa.Column("applied_on", sa.Date, nullable=False),
    sa.Column("issued_on", sa.Date),
    sa.Column("expires_on", sa.Date),
    sa.Column("auth_cert_serial", sa.String(64)),
    sa.Column("signing_cert_serial", sa.String(64)),
    sa.Column("abolished_on", sa.Date),
    sa.Column("abolition_reason", Code),
    sa.Column("continued_from", sa.String(6)),
    sa.Column("updated_at", Timestamp, nullable=False),
    info={"class": "personal"},
)

# At the national node: every certificate the card CA issued, and its revocation.
card_certificates = sa.Table(
    "card_certificates",
    metadata,
    sa.Column("cert_serial", sa.String(64), primary_key=True),  # hex
    sa.Column("kind", Code, nullable=False),
    sa.Column("card_serial", sa.String(32), nullable=False, index=True),
    sa.Column("resident_code", sa.String(11), nullable=False, index=True),
    sa.Column("lg_code", sa.String(6), nullable=False),
    sa.Column("issued_at", Timestamp, nullable=False),
    sa.Column("not_after", Timestamp, nullable=False),
    sa.Column("revoked_at", Timestamp),
    sa.Column("revocation_reason", Code),
    sa.Column("held_at", Timestamp),  # 一時停止: on the CRL as certificateHold until resumed
    info={"class": "identity_info"},
)
