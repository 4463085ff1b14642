"""A node's identity_info tables as plain rows, to compare two ways of writing them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from juki.nodes.tables import identity_changes, identity_copies


def rows(conn: sa.Connection) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The copies by code, and the history in order without its ids."""
    copies = conn.execute(
        sa.select(identity_copies).order_by(identity_copies.c.resident_code)
    ).all()
    ch = identity_changes.c
    changes = conn.execute(
        sa.select(*(c for c in identity_changes.columns if c.name != "change_id")).order_by(
            ch.change_id
        )
    ).all()
    return [tuple(r) for r in copies], [tuple(r) for r in changes]
