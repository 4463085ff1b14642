"""What the node kinds keep beyond the network itself: copies of identity_info (the CS of its
residents, a prefecture of its municipalities', the national node of everyone) and their
changes, my_numbers and allotments issued by the national node, my_number requests of a CS."""

from __future__ import annotations

import sqlalchemy as sa

from juki.storage.metadata import Address, BigId, Code, Name, Timestamp, bytewise, metadata

# A node's copy of identity_info: the CS's of its residents, a prefecture's of its
# municipalities', the national node's of everyone. Keyed by resident code and municipality.
identity_copies = sa.Table(
    "identity_copies",
    metadata,
    sa.Column("lg_code", bytewise(6), nullable=False),
    sa.Column("resident_code", bytewise(11), nullable=False),
    sa.Column("my_number", bytewise(12), index=True),
    sa.Column("family_name", Name, nullable=False),
    sa.Column("given_name", Name, nullable=False),
    sa.Column("family_name_kana", Name, nullable=False),
    sa.Column("given_name_kana", Name, nullable=False),
    sa.Column("name_kana_key", bytewise(400), nullable=False),
    sa.Column("former_surname", Name),  # 旧氏 (identity_info v2)
    sa.Column("former_surname_kana", Name),
    sa.Column("alias_name", Name),  # 通称
    sa.Column("alias_name_kana", Name),
    sa.Column("birth_date", sa.Date, nullable=False),
    sa.Column("sex", Code, nullable=False),
    sa.Column("address", Address, nullable=False),
    sa.Column("status", Code, nullable=False),
    sa.Column("change_reason", Code, nullable=False),
    sa.Column("changed_on", sa.Date, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("snapshot_id", sa.String(36)),
    # The code first: a lookup by code uses the key; by municipality alone, its own index
    # (migration 0032: a key led by lg_code was the slowest index to build at size).
    sa.PrimaryKeyConstraint("resident_code", "lg_code"),
    sa.Index(None, "lg_code"),
    # A lookup by the four items keys on the reading and the birth date (migration 0026).
    sa.Index(None, "name_kana_key", "birth_date"),
    info={"class": "identity_info"},
)

identity_changes = sa.Table(
    "identity_changes",
    metadata,
    sa.Column("change_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("lg_code", bytewise(6), nullable=False),
    sa.Column("resident_code", bytewise(11), nullable=False),
    sa.Column("message_id", sa.String(36), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", Timestamp, nullable=False),
    # The version's reading key and birth date, so a lookup by the four items `as_of` a day
    # finds who had them then (migration 0031).
    sa.Column("name_kana_key", bytewise(400), nullable=False),
    sa.Column("birth_date", sa.Date, nullable=False),
    # A person's history by code, in order (provision as_of), whichever municipality wrote it
    # (migration 0032).
    sa.Index(None, "resident_code", "change_id"),
    sa.Index(None, "name_kana_key", "birth_date"),
    info={"class": "identity_info"},
)

my_numbers = sa.Table(
    "my_numbers",
    metadata,
    sa.Column("my_number", sa.String(12), primary_key=True),
    sa.Column("resident_code", sa.String(11), nullable=False, unique=True),
    sa.Column("lg_code", sa.String(6), nullable=False),
    sa.Column("assigned_at", Timestamp, nullable=False),
    info={"class": "identity_info"},
)

issued_allotments = sa.Table(
    "issued_allotments",
    metadata,
    sa.Column("allotment_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("lg_code", sa.String(6), nullable=False),
    sa.Column("first_body", sa.BigInteger, nullable=False),
    sa.Column("last_body", sa.BigInteger, nullable=False),
    sa.Column("issued_at", Timestamp, nullable=False),
    info={"class": "config"},
)

# Every resident code national allotted (to `lg_code`'s pool) or saw retired: a code here is
# never allotted again. `used_at` once identity_info carried it; `retired_at` once a 住民票コード
# の変更請求 replaced it (ADR 0006).
code_ledger = sa.Table(
    "code_ledger",
    metadata,
    sa.Column("resident_code", sa.String(11), primary_key=True),
    sa.Column("lg_code", sa.String(6), nullable=False),
    sa.Column("allotted_at", Timestamp),
    sa.Column("used_at", Timestamp),
    sa.Column("retired_at", Timestamp),
    sa.Column("successor", sa.String(11)),  # the code that replaced a retired one
    info={"class": "identity_info"},
)

# How many codes of each municipality's pool national has not yet seen used: replenished when
# it falls below the low-water mark.
code_pools = sa.Table(
    "code_pools",
    metadata,
    sa.Column("lg_code", sa.String(6), primary_key=True),
    sa.Column("unused", sa.BigInteger, nullable=False),
    sa.Column("batch", sa.Integer, nullable=False),
    info={"class": "config"},
)

my_number_requests = sa.Table(
    "my_number_requests",
    metadata,
    sa.Column("resident_code", sa.String(11), primary_key=True),
    sa.Column("requested_at", Timestamp, nullable=False),
    sa.Column("assigned_at", Timestamp),
    info={"class": "identity_info"},
)

# -- certificates (住民票の写し, 住民票記載事項証明書, 印鑑登録証明書) ---------------------------


# -- the kiosk relay (証明書交付センター, national) -------------------------------------------
# The relay's only record of a コンビニ交付: when, which store, which municipality answered, what
# kind, how many copies, the fee, and the request id (to void it on a timeout). No card serial,
# no person, no request or certificate content (docs/certificates.md, "The relay").
kiosk_issuances = sa.Table(
    "kiosk_issuances",
    metadata,
    sa.Column("request_id", sa.String(64), primary_key=True),
    sa.Column("at", Timestamp, nullable=False, index=True),
    sa.Column("store_id", sa.String(32), nullable=False, index=True),
    sa.Column("lg_code", sa.String(6), nullable=False),
    sa.Column("kind", Code, nullable=False),
    sa.Column("copies", sa.Integer, nullable=False),
    sa.Column("fee_yen", sa.Integer, nullable=False),
    sa.Column("status", Code, nullable=False),  # issued | abandoned
    info={"class": "audit"},
)

# -- kiosk stores (店舗, national) ---------------------------------------------------------------
# The stores whose kiosks may call the relay: an operator company's store, not tied to any
# municipality, known by the network-root client certificate it was issued (its SHA-256). A
# withdrawn store's certificate is refused even while it is still valid.
kiosk_stores = sa.Table(
    "kiosk_stores",
    metadata,
    sa.Column("store_id", sa.String(32), primary_key=True),
    sa.Column("operator_company", sa.String(100), nullable=False),
    sa.Column("certificate_sha256", sa.String(64), nullable=False),
    sa.Column("status", Code, nullable=False),  # active | withdrawn
    sa.Column("registered_at", Timestamp, nullable=False),
    sa.Column("withdrawn_at", Timestamp),
    info={"class": "audit"},
)

# -- 附票連携 (fuhyo_link, prefecture and national) ------------------------------------------------
# The 附票本人確認情報 each 本籍 municipality sends up (住基法 第30条の41以下): a
# prefecture's copy of its municipalities' 附票, national's of every 附票, keyed by the 本籍
# municipality and resident code; and every change as received, for reading as of a day.
# Never the 本籍 or the 筆頭者.
fuhyo_identity_copies = sa.Table(
    "fuhyo_identity_copies",
    metadata,
    sa.Column("lg_code", sa.String(6), primary_key=True),
    sa.Column("resident_code", sa.String(11), primary_key=True),
    sa.Column("family_name", Name, nullable=False),
    sa.Column("given_name", Name, nullable=False),
    sa.Column("family_name_kana", Name, nullable=False),
    sa.Column("given_name_kana", Name, nullable=False),
    sa.Column("name_kana_key", sa.String(400), nullable=False),
    sa.Column("birth_date", sa.Date, nullable=False),
    sa.Column("sex", Code, nullable=False),
    sa.Column("address", Address, nullable=False),
    sa.Column("moved_abroad", sa.Boolean, nullable=False),
    sa.Column("abroad_country", Address),
    sa.Column("status", Code, nullable=False),
    sa.Column("change_reason", Code, nullable=False),
    sa.Column("changed_on", sa.Date, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("snapshot_id", sa.String(36)),
    sa.Index(None, "resident_code"),
    sa.Index(None, "name_kana_key", "birth_date"),
    info={"class": "identity_info"},
)

fuhyo_identity_changes = sa.Table(
    "fuhyo_identity_changes",
    metadata,
    sa.Column("change_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("lg_code", sa.String(6), nullable=False),
    sa.Column("resident_code", sa.String(11), nullable=False),
    sa.Column("name_kana_key", sa.String(400), nullable=False),
    sa.Column("birth_date", sa.Date, nullable=False),
    sa.Column("changed_on", sa.Date, nullable=False),
    sa.Column("message_id", sa.String(36), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("received_at", Timestamp, nullable=False),
    sa.Index(None, "lg_code", "resident_code"),
    sa.Index(None, "resident_code"),
    sa.Index(None, "name_kana_key", "birth_date"),
    info={"class": "identity_info"},
)

# -- 離脱 as a decision (municipality and prefecture) ---------------------------------------------
# Each disconnection of this node from the network, as the municipality's or prefecture's own
# decision under 住基法 第36条の2 (必要な措置): which body decided (this node's own), who decided
# and why, on what legal basis, who recorded it, and when it ended. Written only by
# `juki.nodes.disconnection`, each start and end in the oplog in the same transaction.
disconnection_decisions = sa.Table(
    "disconnection_decisions",
    metadata,
    sa.Column("decision_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("node_id", sa.String(16), nullable=False),
    sa.Column("body_kind", Code, nullable=False),  # municipality | prefecture
    sa.Column("body_name", sa.String(100), nullable=False),  # the directory's name of the node
    sa.Column("decided_by", sa.String(100), nullable=False),  # the office or official deciding
    sa.Column("legal_basis", sa.String(200), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("recorded_by", sa.String(100), nullable=False),  # the actor, and who typed it
    sa.Column("started_at", Timestamp, nullable=False, index=True),
    sa.Column("ended_at", Timestamp),
    sa.Column("ended_by", sa.String(100)),
    sa.Column("end_note", sa.String(500)),
    info={"class": "audit"},
)
