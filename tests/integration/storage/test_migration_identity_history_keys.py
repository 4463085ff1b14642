"""Migration 0031 on SQLite and PostgreSQL: the versions already in `identity_changes` get the
reading key and birth date of their bodies, as `apply_identity` writes them for new ones, so an
`as_of` lookup by the four items finds people whose history predates the upgrade."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from alembic import command

from juki.core.clock import JST
from juki.core.identifiers import ResidentCode
from juki.network.messages import IdentityInfoBody
from juki.nodes.identity import apply_identity
from juki.nodes.tables import identity_changes
from juki.storage.engine import make_engine
from juki.storage.migrate import alembic_config, upgrade


def _downgrade(engine: sa.Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def _person(n: int, kana: str) -> IdentityInfoBody:
    return IdentityInfoBody.model_validate(
        {
            "resident_code": ResidentCode.complete(f"{10**9 + n:010d}").value,
            "my_number": None,
            "family_name": "山田",
            "given_name": "花子",
            "family_name_kana": kana,
            "given_name_kana": "ハナコ",
            "birth_date": date(1990, 1, 1 + n),
            "sex": "female",
            "address": "東京都稲城市東長沼２１１１番地",
            "status": "active",
            "lg_code": "132250",
            "change_reason": "birth",
            "changed_on": date(1990, 1, 1 + n),
        }
    )


def test_existing_versions_get_their_reading_and_birth_date(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        upgrade(engine)
        now = datetime(2026, 4, 1, tzinfo=JST)
        with engine.begin() as conn:
            for n, kana in enumerate(["ヤマダ", "やまだ", "ﾔﾏﾀﾞ"]):
                apply_identity(conn, _person(n, kana), message_id=f"m{n}", now=now)
            written = conn.execute(
                sa.select(identity_changes.c.name_kana_key, identity_changes.c.birth_date).order_by(
                    identity_changes.c.change_id
                )
            ).all()
        _downgrade(engine, "0030")
        upgrade(engine)
        with engine.connect() as conn:
            filled = conn.execute(
                sa.select(identity_changes.c.name_kana_key, identity_changes.c.birth_date).order_by(
                    identity_changes.c.change_id
                )
            ).all()
        assert filled == written
        assert {key for key, _ in filled} == {written[0][0]}  # one reading, however written
        assert [born for _, born in filled] == [date(1990, 1, 1 + n) for n in range(3)]
    finally:
        engine.dispose()
