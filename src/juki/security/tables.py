"""Operators and the operation log."""

from __future__ import annotations

import sqlalchemy as sa

from juki.storage.metadata import BigId, Code, Name, Timestamp, metadata

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
    # why (a case number or stated purpose; empty when none was given) and whether a 個人番号
    # was shown to the operator
    sa.Column("purpose", sa.String(200), nullable=False, server_default=""),
    sa.Column("my_number_shown", sa.Boolean, nullable=False, server_default=sa.false()),
    # the hash chain (`juki.security.chain`): the entry's place, the hash of the one before, its own
    sa.Column("seq", BigId, nullable=False, unique=True),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    info={"class": "audit"},
)

# The chain's newest entry, one row (id 1), written in the same transaction as each entry: on
# PostgreSQL `FOR UPDATE` on it serialises appends, so two transactions never fork the chain
# (on SQLite the writer lock does); and an entry removed from the end shows as a short chain.
oplog_head = sa.Table(
    "oplog_head",
    metadata,
    sa.Column("head_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("seq", BigId, nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    info={"class": "audit"},
)

# Signed checkpoints of chain heads (`juki.nodes.checkpoints`): a node's own (`own`, signed with
# its node key) and its children's (`child`, checked and countersigned here).
oplog_checkpoints = sa.Table(
    "oplog_checkpoints",
    metadata,
    sa.Column("checkpoint_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", Code, nullable=False),
    sa.Column("node_id", sa.String(16), nullable=False),
    sa.Column("seq", BigId, nullable=False),
    sa.Column("entry_hash", sa.String(64), nullable=False),
    sa.Column("signed_at", Timestamp, nullable=False),
    sa.Column("signature", sa.String(200), nullable=False),
    sa.Column("countersigned_by", sa.String(16), nullable=True),
    sa.Column("countersigned_at", Timestamp, nullable=True),
    sa.Column("countersignature", sa.String(200), nullable=True),
    sa.Index(None, "node_id", "seq"),
    info={"class": "audit"},
)

# Closed months sealed by `juki oplog export`: the month's first and last entry, the last hash,
# the archive's digest; `pruned_at` once its rows were removed (seven years on).
oplog_seals = sa.Table(
    "oplog_seals",
    metadata,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("first_seq", BigId, nullable=False),
    sa.Column("last_seq", BigId, nullable=False),
    sa.Column("last_hash", sa.String(64), nullable=False),
    sa.Column("archive_sha256", sa.String(64), nullable=False),
    sa.Column("sealed_at", Timestamp, nullable=False),
    sa.Column("pruned_at", Timestamp, nullable=True),
    info={"class": "audit"},
)

operators = sa.Table(
    "operators",
    metadata,
    sa.Column("operator_id", sa.String(64), primary_key=True),
    sa.Column("display_name", Name, nullable=False),
    sa.Column("role", Code, nullable=False),
    # The command-line/API token (`juki operator token`): its hash, purpose and end; none until
    # one is issued.
    sa.Column("token_sha256", sa.String(64), nullable=True, unique=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    # The token's end: set when it is issued (`Settings.operator_token_days`), and the moment it
    # was revoked, if it was (`juki operator revoke`); either makes it answer 401 with its reason.
    sa.Column("token_expires_at", Timestamp, nullable=False),
    sa.Column("token_revoked_at", Timestamp, nullable=True),
    sa.Column("token_purpose", sa.String(200), nullable=True),
    # active | suspended | withdrawn (`active` is true only for the first).
    sa.Column("status", Code, nullable=False, server_default="active"),
    # The one-time code for enrolling 照合情報 (printed by `juki operator add`), hashed.
    sa.Column("enrolment_sha256", sa.String(64), nullable=True),
    sa.Column("enrolment_expires_at", Timestamp, nullable=True),
    # Failed sign-ins since the last good one; at the limit the operator is locked out.
    sa.Column("failed_logins", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_at", Timestamp, nullable=True),
    info={"class": "security"},
)

# 照合情報: a WebAuthn credential (the biometric stays in the authenticator), bound to the
# operator (照合ID) and the role (操作者ID) they held when it was registered.
operator_credentials = sa.Table(
    "operator_credentials",
    metadata,
    sa.Column("credential_id", sa.String(400), primary_key=True),  # base64url
    sa.Column("operator_id", sa.String(64), nullable=False, index=True),
    sa.Column("role", Code, nullable=False),
    sa.Column("public_key", sa.Text, nullable=False),  # COSE key, base64url
    sa.Column("sign_count", sa.BigInteger, nullable=False),
    sa.Column("registered_at", Timestamp, nullable=False),
    sa.Column("terminal_id", sa.String(64), nullable=False),
    sa.Column("withdrawn_at", Timestamp, nullable=True),
    info={"class": "security"},
)

# 操作識別カード: the card's label and the public key registered when it was issued.
operator_cards = sa.Table(
    "operator_cards",
    metadata,
    sa.Column("card_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("operator_id", sa.String(64), nullable=False, index=True),
    sa.Column("card_label", sa.String(64), nullable=False),
    sa.Column("public_key_pem", sa.Text, nullable=False),
    sa.Column("issued_at", Timestamp, nullable=False),
    sa.Column("issued_by", sa.String(64), nullable=False),
    sa.Column("withdrawn_at", Timestamp, nullable=True),
    info={"class": "security"},
)

# 統合端末: a terminal is known by id and belongs to one municipality.
terminals = sa.Table(
    "terminals",
    metadata,
    sa.Column("terminal_id", sa.String(64), primary_key=True),
    sa.Column("lg_code", sa.String(6), nullable=False),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("registered_at", Timestamp, nullable=False),
    sa.Column("registered_by", sa.String(64), nullable=False),
    info={"class": "security"},
)

# A terminal session (credential + card PIN); the cookie holds its secret, this its hash.
operator_sessions = sa.Table(
    "operator_sessions",
    metadata,
    sa.Column("session_sha256", sa.String(64), primary_key=True),
    sa.Column("operator_id", sa.String(64), nullable=False, index=True),
    sa.Column("role", Code, nullable=False),
    sa.Column("terminal_id", sa.String(64), nullable=False),
    sa.Column("started_at", Timestamp, nullable=False),
    sa.Column("last_seen_at", Timestamp, nullable=False),
    sa.Column("ended_at", Timestamp, nullable=True),
    sa.Column("end_reason", Code, nullable=True),  # logout | idle | withdrawn | …
    info={"class": "security"},
)

# A challenge handed out for one enrolment or one sign-in, used at most once.
operator_challenges = sa.Table(
    "operator_challenges",
    metadata,
    sa.Column("challenge_id", sa.String(64), primary_key=True),
    sa.Column("operator_id", sa.String(64), nullable=False),
    sa.Column("purpose", Code, nullable=False),  # enrol | login
    sa.Column("challenge", sa.String(200), nullable=False),  # base64url
    sa.Column("terminal_id", sa.String(64), nullable=False),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("used_at", Timestamp, nullable=True),
    info={"class": "security"},
)

# 照合ID及び操作者IDの管理簿 (seed 002 第13条(4)): every change to an operator, by whom and why.
operator_ledger = sa.Table(
    "operator_ledger",
    metadata,
    sa.Column("entry_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("operator_id", sa.String(64), nullable=False, index=True),
    sa.Column("event", Code, nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("by_actor", sa.String(64), nullable=False),
    sa.Column("by_role", Code, nullable=False),
    sa.Column("reason", sa.String(400), nullable=False),
    sa.Column("detail", sa.String(400), nullable=False),
    info={"class": "security"},
)

# -- the network (every node kind has these; each uses the ones its role needs) -------------
