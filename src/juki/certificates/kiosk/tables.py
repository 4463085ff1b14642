"""コンビニ交付 at the municipality: its kiosk settings, and the register of kiosk requests."""

from __future__ import annotations

import sqlalchemy as sa

from juki.storage.metadata import Code, Timestamp, metadata

# Which certificates the kiosks offer for this municipality, their fees and service hours, as
# one versioned JSON document per municipality (`kiosk.model.settings_to_json`); changed only
# through `kiosk.services.set_kiosk_settings`, each change in the oplog.
kiosk_settings = sa.Table(
    "kiosk_settings",
    metadata,
    sa.Column("lg_code", sa.String(6), primary_key=True),
    sa.Column("settings", sa.Text, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
    info={"class": "config"},
)

# Every request the relay brought, issued or refused: the request id is unique (a replay is
# refused) and bound to the card serial it came with, so a spoiled page is recorded only for
# the session that asked; `rule` is the precise reason the kiosk was not told. A kiosk_void that
# came before its request leaves a line with outcome `voided` and no kind (nor subject: "").
kiosk_requests = sa.Table(
    "kiosk_requests",
    metadata,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("card_serial", sa.String(64), nullable=False, index=True),
    sa.Column("at", Timestamp, nullable=False, index=True),
    sa.Column("subject_resident_code", sa.String(11), nullable=False, index=True),
    sa.Column("kind", Code),  # None: voided before the request arrived
    sa.Column("outcome", Code, nullable=False),
    sa.Column("code", Code),
    sa.Column("rule", sa.String(64)),
    sa.Column(
        "certificate_id", sa.String(36), sa.ForeignKey("certificates.certificate_id"), index=True
    ),
    info={"class": "personal"},
)
