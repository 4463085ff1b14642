"""Migration 0012 on SQLite and PostgreSQL: a record flagged `support_measure` before it becomes a
支援措置 protecting that record, from the day of the upgrade for one year, so nobody loses
protection by the upgrade; unflagged records get none."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import command

from juki.registry.support.model import SupportKind, one_year_from
from juki.registry.tables import resident_records
from juki.storage.engine import make_engine
from juki.storage.migrate import alembic_config, upgrade
from support.backends import SqlBackend
from support.residents import family, seed


def _downgrade(engine: sa.Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_flagged_records_become_measures(db_url: str) -> None:
    engine = make_engine(db_url)
    backend = SqlBackend(engine)
    try:
        upgrade(engine)
        seed(backend)
        _, wife, child = family(backend)
        _downgrade(engine, "0011")
        with engine.begin() as conn:
            conn.execute(
                resident_records.update()
                .where(resident_records.c.record_id == wife.record_id)
                .values(support_measure=True)
            )
        upgrade(engine)
        today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
        with backend.uow() as uow:
            [m] = uow.support_measures.for_records([wife.record_id, child.record_id])
        assert m.protected == (wife.record_id,)
        assert m.kind is SupportKind.OTHER and m.restrained == ()
        assert m.starts_on == today and m.last_day == one_year_from(today) and m.in_force(today)
        assert "未登録" in m.note
    finally:
        backend.dispose()
