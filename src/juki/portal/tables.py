"""The portal's one table, kept at the card holder's municipality: the requests to correct
(訂正の申出) a record that residents file through the portal, for the counter to handle."""

from __future__ import annotations

import sqlalchemy as sa

from juki.storage.metadata import Code, Timestamp, metadata

# 訂正の申出: what a card holder says is wrong in their record, in their words, filed through the
# portal (the relay checked their card). The counter handles it as any 申出 and marks it done.
correction_requests = sa.Table(
    "correction_requests",
    metadata,
    sa.Column("request_id", sa.String(43), primary_key=True),
    sa.Column("filed_at", Timestamp, nullable=False, index=True),
    sa.Column("resident_code", sa.String(11), nullable=False, index=True),
    sa.Column("card_serial", sa.String(64), nullable=False),
    sa.Column("text", sa.String(400), nullable=False),
    sa.Column("status", Code, nullable=False),  # open | accepted | rejected (done: before 0033)
    sa.Column("handled_at", Timestamp),
    sa.Column("handled_by", sa.String(64)),
    sa.Column("decision_reason", sa.String(400)),  # a rejection's reason, shown to the resident
    sa.Column("change_id", sa.String(36)),  # the provisional change an acceptance filed
    info={"class": "personal"},
)
