"""The one SQLAlchemy metadata every feature's tables join, and the column types they share.

Each feature declares its tables next to its store (`juki/<feature>/tables.py`); the Alembic
migrations (`juki/storage/migrations/versions`) create exactly the union of them, and a test
compares the two. Every table says how it is treated in `info["class"]` (see `TABLE_CLASSES`),
so a meta-test can prove which personal data may leave the municipality: only identity_info.
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


def bytewise(length: int) -> sa.types.TypeEngine[str]:
    """A code or search key compared by its bytes: the "C" collation on PostgreSQL, whose index
    builds and lookups skip the locale's rules (migration 0032); SQLite compares bytes anyway."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


# How a table is treated: `personal` tables hold data about residents and never leave the
# municipality except as typed events in the registry's outbox, whose payload is identity_info.
TABLE_CLASSES: Final = frozenset(
    {"config", "personal", "identity_info", "audit", "security", "network", "fuhyo"}
)


def table_class(table: sa.Table) -> str:
    return str(table.info["class"])
