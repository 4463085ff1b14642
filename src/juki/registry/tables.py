"""The registry's tables: the municipality, households, resident records and their history,
seals, resident-code allotments, and the registry's side of its hand-off to the CS (the outbox
of typed events, 転出証明書情報 received, the 附票 entries of this 本籍 municipality)."""

from __future__ import annotations

import sqlalchemy as sa

from juki.storage.metadata import Address, BigId, Code, Name, Timestamp, metadata

municipality = sa.Table(
    "municipality",
    metadata,
    sa.Column("lg_code", sa.String(6), primary_key=True),
    sa.Column("prefecture", sa.String(8), nullable=False),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("mayor_title", sa.String(80)),  # 市区町村長の職名, printed on every certificate
    sa.Column("mayor_name", sa.String(80)),  # 市区町村長の氏名
    info={"class": "config"},
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
    info={"class": "personal"},
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
    sa.Column("card_move_out_lg_code", sa.String(6)),  # 転出届の特例: where the info was sent
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
    sa.Column("alias_history", sa.Text),  # 通称履歴: JSON list (juki.registry.alias)
    sa.Column("status", Code, nullable=False),
    sa.Column("removal_reason", Code),
    sa.Column("removed_on", sa.Date),
    sa.Column("support_measure", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("support_starts_on", sa.Date),
    sa.Column("support_ends_on", sa.Date),
    sa.Column("version", sa.Integer, nullable=False),
    info={"class": "personal"},
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
    # 本登録: the supervisor who approved the operator's provisional change (migration 0019).
    sa.Column("approved_by", sa.String(64), nullable=True),
    sa.UniqueConstraint("record_id", "seq"),
    info={"class": "personal"},
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
    info={"class": "personal"},
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
    info={"class": "config"},
)

# 住民票コード (規則1条: drawn at random, ADR 0006). A pool of unused codes: received from the
# national node in batches (`source` "national"), or drawn by a standalone registry for a bulk
# load it has reserved them for (`source` "standalone"). A counter takes a random unreserved
# member; a bulk load reserves its codes (`reserved_by`) and drops them once loaded.
code_pool_batches = sa.Table(
    "code_pool_batches",
    metadata,
    sa.Column("batch_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("source", Code, nullable=False),
    sa.Column("allotted_by", sa.String(64), nullable=False),
    sa.Column("codes", sa.Integer, nullable=False),
    sa.Column("received_at", Timestamp, nullable=False),
    info={"class": "config"},
)

code_pool = sa.Table(
    "code_pool",
    metadata,
    sa.Column("resident_code", sa.String(11), primary_key=True),
    sa.Column(
        "batch_id", BigId, sa.ForeignKey("code_pool_batches.batch_id"), nullable=False, index=True
    ),
    sa.Column("reserved_by", sa.String(36), index=True),
    info={"class": "config"},
)

# Codes changed away from at the resident's request (法30条の4): never handed out again; the
# successor links the person's old 除票 to their current code.
retired_codes = sa.Table(
    "retired_codes",
    metadata,
    sa.Column("resident_code", sa.String(11), primary_key=True),
    sa.Column("successor", sa.String(11), nullable=False, index=True),
    sa.Column(
        "record_id", sa.String(36), sa.ForeignKey("resident_records.record_id"), nullable=False
    ),
    sa.Column("retired_at", Timestamp, nullable=False),
    info={"class": "personal"},
)

# The registry's typed events for its CS: each row is a network message body (its type and
# schema version say which), so the CS forwards exactly what the schema admits.
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("outbox_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("message_id", sa.String(36), nullable=False, unique=True),
    sa.Column("message_type", sa.String(64), nullable=False),
    sa.Column("schema_version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("key", Code, nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("delivered_at", Timestamp),
    info={"class": "identity_info"},
)
# The rows the CS has yet to forward, in order: a partial index, so that finding the next ones
# does not read every row forwarded before them (migration 0033).
sa.Index(
    "ix_outbox_unforwarded",
    outbox.c.outbox_id,
    sqlite_where=outbox.c.delivered_at.is_(None),
    postgresql_where=outbox.c.delivered_at.is_(None),
)

move_out_infos = sa.Table(
    "move_out_infos",
    metadata,
    sa.Column("resident_code", sa.String(11), primary_key=True),
    sa.Column("from_lg_code", sa.String(6), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", Timestamp, nullable=False),
    sa.Column("used_at", Timestamp),
    # 転出取消: the origin withdrew it (`move_out_withdrawn`); a 特例転入 on it is refused
    sa.Column("withdrawn_on", sa.Date),
    info={"class": "identity_info"},
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
    # 国外転出者である旨 (法第17条)
    sa.Column("moved_abroad", sa.Boolean, nullable=False, server_default=sa.false()),
    # 支援措置: 附票の写し refused to third parties at the 本籍 municipality
    sa.Column("support_measure", sa.Boolean, nullable=False, server_default=sa.false()),
    # its period (first and last day) when in force on the change's date: notice v3
    sa.Column("support_starts_on", sa.Date),
    sa.Column("support_ends_on", sa.Date),
    # the country of a 国外転出 (notice v4), passed on in the 附票本人確認情報 (附票連携)
    sa.Column("abroad_country", Address),
    sa.Index(None, "honseki", "koseki_head"),
    info={"class": "fuhyo"},
)

# 支援措置 (事務処理要領 第5-10): its own record (juki.registry.support). The 加害者, the periods
# (the first and each renewal) and the temporary releases are kept as JSON lists on the measure;
# `ends_on` is the last period's end, for reading which measures can still be in force.
support_measures = sa.Table(
    "support_measures",
    metadata,
    sa.Column("measure_id", sa.String(36), primary_key=True),
    sa.Column("kind", Code, nullable=False),
    sa.Column("requested_on", sa.Date, nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("terminated_on", sa.Date),
    sa.Column("termination_reason", sa.Text),
    sa.Column("restrained", sa.Text, nullable=False),
    sa.Column("periods", sa.Text, nullable=False),
    sa.Column("releases", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("recorded_by", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    info={"class": "personal"},
)

support_measure_persons = sa.Table(
    "support_measure_persons",
    metadata,
    sa.Column(
        "measure_id",
        sa.String(36),
        sa.ForeignKey("support_measures.measure_id"),
        primary_key=True,
    ),
    sa.Column(
        "record_id",
        sa.String(36),
        sa.ForeignKey("resident_records.record_id"),
        primary_key=True,
        index=True,
    ),
    info={"class": "personal"},
)

# 訂正の申出: what a card holder says is wrong in their record, in their words, filed through the
# resident portal (the relay checked their card), for the counter (`juki.registry.corrections`):
# accepted — the change entered through review like any other — or rejected with a reason the
# resident sees in the portal.
correction_requests = sa.Table(
    "correction_requests",
    metadata,
    sa.Column("request_id", sa.String(43), primary_key=True),
    sa.Column("filed_at", Timestamp, nullable=False, index=True),
    sa.Column("resident_code", sa.String(11), nullable=False, index=True),
    sa.Column("card_serial", sa.String(64), nullable=False),
    sa.Column("text", sa.String(400), nullable=False),
    sa.Column("status", Code, nullable=False),  # open | accepted | rejected (done: before 0031)
    sa.Column("handled_at", Timestamp),
    sa.Column("handled_by", sa.String(64)),
    sa.Column("decision_reason", sa.String(400)),  # a rejection's reason, shown to the resident
    sa.Column("change_id", sa.String(36)),  # the provisional change an acceptance filed
    info={"class": "personal"},
)
