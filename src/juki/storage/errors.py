"""What a database error means, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

_UNIQUE_VIOLATION = "23505"  # PostgreSQL's unique_violation


def is_unique_violation(exc: sa.exc.IntegrityError) -> bool:
    """A unique constraint or index refused the row (not a foreign key or a NOT NULL): when the
    code checked first, another transaction inserted the same thing in between."""
    if getattr(exc.orig, "sqlstate", None) == _UNIQUE_VIOLATION:
        return True
    return str(exc.orig).startswith("UNIQUE constraint failed")
