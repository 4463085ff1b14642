"""The registry database, as SQLAlchemy Core tables.

Migrations (`juki/storage/migrations/versions`) create exactly these; a test compares the two.
Every table is classified in `TABLE_CLASSES` so a meta-test can prove which personal data may
leave the municipality (only identity_info, via the outbox).
"""

from __future__ import annotations

from typing import Final

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

# SQLite's INTEGER PRIMARY KEY is its rowid; PostgreSQL gets a 64-bit identity.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Name = sa.String(200)
Address = sa.String(400)
Code = sa.String(32)
Timestamp = sa.String(40)  # ISO 8601 with offset: exact and ordered the same on every backend

municipality = sa.Table(
    "municipality",
    metadata,
    sa.Column("lg_code", sa.String(6), primary_key=True),
    sa.Column("prefecture", sa.String(8), nullable=False),
    sa.Column("name", sa.String(40), nullable=False),
)

households = sa.Table(
    "households",
    metadata,
    sa.Column("household_id", sa.String(36), primary_key=True),
    sa.Column("lg_code", sa.String(6), nullable=False),
    sa.Column("address", Address, nullable=False),
    sa.Column("formed_on", sa.Date, nullable=False),
    sa.Column("status", Code, nullable=False),
    sa.Column("dissolved_on", sa.Date),
)

resident_records = sa.Table(
    "resident_records",
    metadata,
    sa.Column("record_id", sa.String(36), primary_key=True),
    sa.Column("lg_code", sa.String(6), nullable=False),
    sa.Column("resident_code", sa.String(11), nullable=False, index=True),
    sa.Column("my_number", sa.String(12), index=True),
    sa.Column("family_name", Name, nullable=False),
    sa.Column("given_name", Name, nullable=False),
    sa.Column("family_name_kana", Name, nullable=False),
    sa.Column("given_name_kana", Name, nullable=False),
    sa.Column("name_kana_key", sa.String(400), nullable=False, index=True),
    sa.Column("former_surname", Name),
    sa.Column("former_surname_kana", Name),
    sa.Column("birth_date", sa.Date, nullable=False, index=True),
    sa.Column("sex", Code, nullable=False),
    sa.Column(
        "household_id",
        sa.String(36),
        sa.ForeignKey("households.household_id"),
        nullable=False,
        index=True,
    ),
    sa.Column("relationship", Code, nullable=False),
    sa.Column("honseki", Address),
    sa.Column("koseki_head", Name),
    sa.Column("resident_since", sa.Date, nullable=False),
    sa.Column("address", Address, nullable=False),
    sa.Column("address_since", sa.Date, nullable=False),
    sa.Column("notified_on", sa.Date),
    sa.Column("previous_address", Address),
    sa.Column("move_out_planned_address", Address),
    sa.Column("move_out_planned_on", sa.Date),
    sa.Column("move_out_confirmed_address", Address),
    sa.Column("move_out_confirmed_on", sa.Date),
    sa.Column("electoral_registered", sa.Boolean, nullable=False),
    sa.Column("nhi_insured_since", sa.Date),
    sa.Column("late_elderly_insured_since", sa.Date),
    sa.Column("ltc_insured_since", sa.Date),
    sa.Column("national_pension_category", Code),
    sa.Column("national_pension_since", sa.Date),
    sa.Column("child_allowance_since", sa.Date),
    sa.Column("is_foreign", sa.Boolean, nullable=False),
    sa.Column("nationality", Name),
    sa.Column("foreign_category", Code),
    sa.Column("residence_status", Name),
    sa.Column("period_of_stay", Name),
    sa.Column("stay_expiry", sa.Date),
    sa.Column("residence_card_number", sa.String(12)),
    sa.Column("alias_name", Name),
    sa.Column("alias_name_kana", Name),
    sa.Column("status", Code, nullable=False),
    sa.Column("removal_reason", Code),
    sa.Column("removed_on", sa.Date),
    sa.Column("support_measure", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("version", sa.Integer, nullable=False),
)

# One active record per resident code in a municipality; removed records (除票) may repeat it.
sa.Index(
    "uq_resident_records_active_code",
    resident_records.c.resident_code,
    unique=True,
    sqlite_where=resident_records.c.status == "active",
    postgresql_where=resident_records.c.status == "active",
)

record_changes = sa.Table(
    "record_changes",
    metadata,
    sa.Column("change_id", BigId, primary_key=True, autoincrement=True),
    sa.Column(
        "record_id", sa.String(36), sa.ForeignKey("resident_records.record_id"), nullable=False
    ),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("reason", Code, nullable=False),
    sa.Column("effective_on", sa.Date, nullable=False),
    sa.Column("notified_on", sa.Date, nullable=False),
    sa.Column("fields", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("actor_id", sa.String(64), nullable=False),
    sa.Column("recorded_at", Timestamp, nullable=False),
    sa.UniqueConstraint("record_id", "seq"),
)

seal_registrations = sa.Table(
    "seal_registrations",
    metadata,
    sa.Column("registration_number", sa.String(16), primary_key=True),
    sa.Column(
        "record_id",
        sa.String(36),
        sa.ForeignKey("resident_records.record_id"),
        nullable=False,
        index=True,
    ),
    sa.Column("image_png", sa.LargeBinary, nullable=False),
    sa.Column("image_sha256", sa.String(64), nullable=False),
    sa.Column("registered_on", sa.Date, nullable=False),
    sa.Column("status", Code, nullable=False),
    sa.Column("abolished_on", sa.Date),
    sa.Column("abolish_reason", sa.String(200)),
)

# One live seal per person (印鑑登録は一人一個).
sa.Index(
    "uq_seal_registrations_live",
    seal_registrations.c.record_id,
    unique=True,
    sqlite_where=seal_registrations.c.status == "live",
    postgresql_where=seal_registrations.c.status == "live",
)

code_allotments = sa.Table(
    "code_allotments",
    metadata,
    sa.Column("allotment_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", Code, nullable=False),
    sa.Column("first_body", sa.BigInteger, nullable=False),
    sa.Column("last_body", sa.BigInteger, nullable=False),
    sa.Column("next_body", sa.BigInteger, nullable=False),
    sa.Column("allotted_by", sa.String(64), nullable=False),
)

counters = sa.Table(
    "counters",
    metadata,
    sa.Column("name", Code, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("outbox_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.String(36), nullable=False, unique=True),
    sa.Column("message_type", sa.String(64), nullable=False),
    sa.Column("key", Code, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("delivered_at", Timestamp),
)

oplog = sa.Table(
    "oplog",
    metadata,
    sa.Column("entry_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("actor_id", sa.String(64), nullable=False),
    sa.Column("role", Code, nullable=False),
    sa.Column("terminal_id", sa.String(64), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(400), nullable=False),
    sa.Column("outcome", Code, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
)

operators = sa.Table(
    "operators",
    metadata,
    sa.Column("operator_id", sa.String(64), primary_key=True),
    sa.Column("display_name", Name, nullable=False),
    sa.Column("role", Code, nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
)

# -- the network (every node kind has these; each uses the ones its role needs) -------------

net_links = sa.Table(
    "net_links",
    metadata,
    sa.Column("peer", sa.String(16), primary_key=True),
    sa.Column("next_send_seq", sa.BigInteger, nullable=False),
    sa.Column("last_recv_seq", sa.BigInteger, nullable=False),
)

net_outbox = sa.Table(
    "net_outbox",
    metadata,
    sa.Column("outbox_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.String(36), nullable=False, unique=True),
    sa.Column("peer", sa.String(16), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("message_type", sa.String(64), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("status", Code, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", Timestamp, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("delivered_at", Timestamp),
    sa.Column("outcome", Code),
    sa.UniqueConstraint("peer", "seq"),
    sa.Index(None, "status", "peer", "seq"),
)

net_inbox = sa.Table(
    "net_inbox",
    metadata,
    sa.Column("message_id", sa.String(36), primary_key=True),
    sa.Column("sender", sa.String(16), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("message_type", sa.String(64), nullable=False),
    sa.Column("received_at", Timestamp, nullable=False),
    sa.Column("outcome", Code, nullable=False),
)

net_dead_letters = sa.Table(
    "net_dead_letters",
    metadata,
    sa.Column("dead_letter_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("direction", Code, nullable=False),
    sa.Column("message_id", sa.String(36), nullable=False),
    sa.Column("peer", sa.String(16), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("message_type", sa.String(64), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("reason", Code, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("replayed_at", Timestamp),
)

net_refusals = sa.Table(
    "net_refusals",
    metadata,
    sa.Column("refusal_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("claimed_sender", sa.String(64), nullable=False),
    sa.Column("claimed_message_id", sa.String(64), nullable=False),
    sa.Column("reason", Code, nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
)

net_state = sa.Table(
    "net_state",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# A node's copy of identity_info: the CS's of its residents, a prefecture's of its
# municipalities', the national node's of everyone. Keyed by municipality and resident code.
identity_copies = sa.Table(
    "identity_copies",
    metadata,
    sa.Column("lg_code", sa.String(6), primary_key=True),
    sa.Column("resident_code", sa.String(11), primary_key=True),
    sa.Column("my_number", sa.String(12), index=True),
    sa.Column("family_name", Name, nullable=False),
    sa.Column("given_name", Name, nullable=False),
    sa.Column("family_name_kana", Name, nullable=False),
    sa.Column("given_name_kana", Name, nullable=False),
    sa.Column("name_kana_key", sa.String(400), nullable=False, index=True),
    sa.Column("birth_date", sa.Date, nullable=False),
    sa.Column("sex", Code, nullable=False),
    sa.Column("address", Address, nullable=False),
    sa.Column("status", Code, nullable=False),
    sa.Column("change_reason", Code, nullable=False),
    sa.Column("changed_on", sa.Date, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("snapshot_id", sa.String(36)),
    sa.Index(None, "resident_code"),
)

identity_changes = sa.Table(
    "identity_changes",
    metadata,
    sa.Column("change_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("lg_code", sa.String(6), nullable=False),
    sa.Column("resident_code", sa.String(11), nullable=False),
    sa.Column("message_id", sa.String(36), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", Timestamp, nullable=False),
    sa.Index(None, "lg_code", "resident_code"),
)

my_numbers = sa.Table(
    "my_numbers",
    metadata,
    sa.Column("my_number", sa.String(12), primary_key=True),
    sa.Column("resident_code", sa.String(11), nullable=False, unique=True),
    sa.Column("lg_code", sa.String(6), nullable=False),
    sa.Column("assigned_at", Timestamp, nullable=False),
)

issued_allotments = sa.Table(
    "issued_allotments",
    metadata,
    sa.Column("allotment_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("lg_code", sa.String(6), nullable=False),
    sa.Column("first_body", sa.BigInteger, nullable=False),
    sa.Column("last_body", sa.BigInteger, nullable=False),
    sa.Column("issued_at", Timestamp, nullable=False),
)

fuhyo_entries = sa.Table(
    "fuhyo_entries",
    metadata,
    sa.Column("entry_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.String(36), nullable=False, unique=True),
    sa.Column("honseki", Address, nullable=False),
    sa.Column("koseki_head", Name, nullable=False),
    sa.Column("resident_code", sa.String(11), nullable=False, index=True),
    sa.Column("family_name", Name, nullable=False),
    sa.Column("given_name", Name, nullable=False),
    sa.Column("family_name_kana", Name, nullable=False),
    sa.Column("given_name_kana", Name, nullable=False),
    sa.Column("birth_date", sa.Date, nullable=False),
    sa.Column("sex", Code, nullable=False),
    sa.Column("address", Address, nullable=False),
    sa.Column("address_since", sa.Date, nullable=False),
    sa.Column("status", Code, nullable=False),
    sa.Column("change_reason", Code, nullable=False),
    sa.Column("changed_on", sa.Date, nullable=False),
    sa.Column("from_lg_code", sa.String(6), nullable=False),
    sa.Column("received_at", Timestamp, nullable=False),
    sa.Index(None, "honseki", "koseki_head"),
)

move_out_infos = sa.Table(
    "move_out_infos",
    metadata,
    sa.Column("resident_code", sa.String(11), primary_key=True),
    sa.Column("from_lg_code", sa.String(6), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", Timestamp, nullable=False),
    sa.Column("used_at", Timestamp),
)

my_number_requests = sa.Table(
    "my_number_requests",
    metadata,
    sa.Column("resident_code", sa.String(11), primary_key=True),
    sa.Column("requested_at", Timestamp, nullable=False),
    sa.Column("assigned_at", Timestamp),
)

# -- certificates (住民票の写し, 住民票記載事項証明書, 印鑑登録証明書) ---------------------------

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
)

# How each table is treated: `personal` tables hold data about residents and never leave the
# municipality except through `outbox`, whose payload is identity_info only.
TABLE_CLASSES: Final = {
    "municipality": "config",
    "households": "personal",
    "resident_records": "personal",
    "record_changes": "personal",
    "seal_registrations": "personal",
    "code_allotments": "config",
    "counters": "config",
    "outbox": "identity_info",
    "oplog": "audit",
    "operators": "security",
    "net_links": "network",
    "net_outbox": "network",
    "net_inbox": "network",
    "net_dead_letters": "network",
    "net_refusals": "network",
    "net_state": "network",
    "identity_copies": "identity_info",
    "identity_changes": "identity_info",
    "my_numbers": "identity_info",
    "issued_allotments": "config",
    "fuhyo_entries": "fuhyo",
    "move_out_infos": "identity_info",
    "my_number_requests": "identity_info",
    "certificates": "personal",
    "certificate_register": "personal",
    "certificate_fees": "config",
    "wide_area_requests": "personal",
}
