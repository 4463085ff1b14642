"""Certificates (住民票の写し, 住民票記載事項証明書, 印鑑登録証明書): issued certificates, the
register (交付履歴), fees, and the home municipality's register of wide-area requests."""

from __future__ import annotations

import sqlalchemy as sa

from juki.storage.metadata import BigId, Code, Timestamp, metadata

# One row per issued certificate: what was signed (the printed content, as canonical JSON) and
# its state. The public verification page reads it by id and digest, never by person.
certificates = sa.Table(
    "certificates",
    metadata,
    sa.Column("certificate_id", sa.String(36), primary_key=True),
    sa.Column("lg_code", sa.String(6), nullable=False),
    sa.Column("record_lg_code", sa.String(6), nullable=False),
    sa.Column("kind", Code, nullable=False),
    sa.Column("channel", Code, nullable=False),
    sa.Column("subject_resident_code", sa.String(11), nullable=False, index=True),
    sa.Column("subject_record_id", sa.String(36)),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("content_digest", sa.String(64), nullable=False, unique=True),
    sa.Column("issue_numbers", sa.Text, nullable=False),
    sa.Column("copies", sa.Integer, nullable=False),
    sa.Column("fee_yen", sa.Integer, nullable=False),
    sa.Column("issued_at", Timestamp, nullable=False),
    sa.Column("issued_on", sa.Date, nullable=False, index=True),
    sa.Column("operator_id", sa.String(64), nullable=False),
    sa.Column("terminal_id", sa.String(64), nullable=False),
    sa.Column("status", Code, nullable=False),
    sa.Column("printed_at", Timestamp),
    sa.Column("pdf_sha256", sa.String(64)),
    sa.Column("signer_sha256", sa.String(64)),
    sa.Column("voided_at", Timestamp),
    sa.Column("voided_by", sa.String(64)),
    sa.Column("void_reason", sa.String(400)),
    # 広域交付: the id of the request the home municipality (record_lg_code) answered.
    sa.Column("source_request_id", sa.String(36)),
    info={"class": "personal"},
)

# 交付履歴: every issuance, spoiled copy (書損) and voiding, in order, for staff and auditors.
certificate_register = sa.Table(
    "certificate_register",
    metadata,
    sa.Column("entry_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False, index=True),
    sa.Column("event", Code, nullable=False),
    sa.Column(
        "certificate_id",
        sa.String(36),
        sa.ForeignKey("certificates.certificate_id"),
        nullable=False,
        index=True,
    ),
    sa.Column("lg_code", sa.String(6), nullable=False),
    sa.Column("terminal_id", sa.String(64), nullable=False),
    sa.Column("operator_id", sa.String(64), nullable=False),
    sa.Column("subject_resident_code", sa.String(11), nullable=False, index=True),
    sa.Column("kind", Code, nullable=False),
    sa.Column("items", sa.String(200), nullable=False),
    sa.Column("members", sa.Integer, nullable=False),
    sa.Column("copies", sa.Integer, nullable=False),
    sa.Column("issue_numbers", sa.Text, nullable=False),
    sa.Column("fee_yen", sa.Integer, nullable=False),
    sa.Column("requester", Code, nullable=False),
    sa.Column("override_by", sa.String(64)),
    sa.Column("override_reason", sa.String(400)),
    sa.Column("disposal", sa.String(400)),
    sa.Column("source_lg_code", sa.String(6)),  # 広域交付: who supplied the content
    info={"class": "personal"},
)

# 手数料: per municipality and kind, per copy; a kind without a row costs the default.
certificate_fees = sa.Table(
    "certificate_fees",
    metadata,
    sa.Column("lg_code", sa.String(6), primary_key=True),
    sa.Column("kind", Code, primary_key=True),
    sa.Column("fee_yen", sa.Integer, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
    info={"class": "config"},
)

# 広域交付の照会記録: at the home municipality, every wide-area request another municipality's CS
# made for one of its residents, answered or refused, so a resident (and an auditor) can see
# where their certificate content went.
wide_area_requests = sa.Table(
    "wide_area_requests",
    metadata,
    sa.Column("request_id", sa.String(36), primary_key=True),
    sa.Column("at", Timestamp, nullable=False, index=True),
    sa.Column("requesting_lg_code", sa.String(6), nullable=False),
    sa.Column("requested_by", sa.String(64), nullable=False),
    sa.Column("subject_resident_code", sa.String(11), nullable=False, index=True),
    sa.Column("members", sa.String(600), nullable=False),
    sa.Column("items", sa.String(200), nullable=False),
    sa.Column("outcome", Code, nullable=False),
    sa.Column("persons", sa.Integer, nullable=False),
    sa.Column("rule", sa.String(64)),
    info={"class": "personal"},
)

# 第三者請求 (法12条の3): the 申出 a third party made for a certificate — requester, purpose, the
# paragraph it stands on and the document shown — kept with the certificate it obtained, so the
# register tells who obtained whose certificate for what.
third_party_requests = sa.Table(
    "third_party_requests",
    metadata,
    sa.Column(
        "certificate_id",
        sa.String(36),
        sa.ForeignKey("certificates.certificate_id"),
        primary_key=True,
    ),
    sa.Column("at", Timestamp, nullable=False, index=True),
    sa.Column("subject_resident_code", sa.String(11), nullable=False, index=True),
    sa.Column("basis", Code, nullable=False),
    sa.Column("purpose", sa.String(400), nullable=False),
    sa.Column("requester_name", sa.String(160), nullable=False),
    sa.Column("requester_address", sa.String(320), nullable=False),
    sa.Column("corporation", sa.Boolean, nullable=False),
    sa.Column("person_in_charge", sa.String(160)),
    sa.Column("qualification", Code),
    sa.Column("registration_number", sa.String(80)),
    sa.Column("client_name", sa.String(160)),
    sa.Column("id_document", Code, nullable=False),
    sa.Column("id_document_number", sa.String(80), nullable=False),
    info={"class": "personal"},
)

# 本人通知: the residents who registered to be told when a third party obtains their
# certificate; a withdrawal ends a registration (the row stays), and at most one is live.
self_notice_registrations = sa.Table(
    "self_notice_registrations",
    metadata,
    sa.Column("registration_id", sa.String(36), primary_key=True),
    sa.Column("resident_code", sa.String(11), nullable=False, index=True),
    sa.Column("registered_at", Timestamp, nullable=False),
    sa.Column("registered_by", sa.String(64), nullable=False),
    sa.Column("withdrawn_at", Timestamp),
    sa.Column("withdrawn_by", sa.String(64)),
    info={"class": "personal"},
)
sa.Index(
    "uq_self_notice_registrations_live",
    self_notice_registrations.c.resident_code,
    unique=True,
    sqlite_where=self_notice_registrations.c.withdrawn_at.is_(None),
    postgresql_where=self_notice_registrations.c.withdrawn_at.is_(None),
)

# 本人通知 to send: one per registered person on a certificate a third party obtained; the
# clerk prints them for the post and marks them sent.
self_notices = sa.Table(
    "self_notices",
    metadata,
    sa.Column("notice_id", sa.String(36), primary_key=True),
    sa.Column(
        "registration_id",
        sa.String(36),
        sa.ForeignKey("self_notice_registrations.registration_id"),
        nullable=False,
    ),
    sa.Column(
        "certificate_id",
        sa.String(36),
        sa.ForeignKey("certificates.certificate_id"),
        nullable=False,
        index=True,
    ),
    sa.Column("resident_code", sa.String(11), nullable=False, index=True),
    sa.Column("issued_on", sa.Date, nullable=False),
    sa.Column("kind", Code, nullable=False),
    sa.Column("copies", sa.Integer, nullable=False),
    sa.Column("basis", Code, nullable=False),
    sa.Column("requester_name", sa.String(200), nullable=False),
    sa.Column("recipient_name", sa.String(200), nullable=False),
    sa.Column("recipient_address", sa.String(400), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("sent_at", Timestamp, index=True),
    sa.Column("sent_by", sa.String(64)),
    info={"class": "personal"},
)
