"""The municipality a registry belongs to, and the resident-code allotments it draws from."""

from __future__ import annotations

import sqlalchemy as sa

from juki.core.errors import DomainRuleError, NotFoundError
from juki.registry.model import Municipality
from juki.registry.store.records import RESIDENT_CODE
from juki.registry.tables import code_allotments, municipality


def load_municipality(conn: sa.Connection) -> Municipality:
    row = conn.execute(sa.select(municipality)).mappings().first()
    if row is None:
        raise NotFoundError("municipality", "(not initialised: run `juki seed` or `juki db init`)")
    return Municipality(
        lg_code=row["lg_code"],
        prefecture=row["prefecture"],
        name=row["name"],
        mayor_title=row["mayor_title"],
        mayor_name=row["mayor_name"],
    )


def save_municipality(conn: sa.Connection, m: Municipality) -> None:
    existing = conn.execute(sa.select(municipality.c.lg_code)).scalars().all()
    if existing and existing != [m.lg_code]:
        raise DomainRuleError(
            "municipality",
            "already_initialised",
            f"this database belongs to municipality {existing[0]}",
            f"このデータベースは団体コード{existing[0]}の市区町村のものです",
        )
    if not existing:
        conn.execute(
            municipality.insert().values(
                lg_code=m.lg_code,
                prefecture=m.prefecture,
                name=m.name,
                mayor_title=m.mayor_title,
                mayor_name=m.mayor_name,
            )
        )


def save_mayor(conn: sa.Connection, title: str | None, name: str | None) -> None:
    """市区町村長の職名と氏名: what every certificate issued from now on prints."""
    conn.execute(municipality.update().values(mayor_title=title, mayor_name=name))


def add_allotment(conn: sa.Connection, first_body: int, last_body: int, allotted_by: str) -> None:
    conn.execute(
        code_allotments.insert().values(
            kind=RESIDENT_CODE,
            first_body=first_body,
            last_body=last_body,
            next_body=first_body,
            allotted_by=allotted_by,
        )
    )
