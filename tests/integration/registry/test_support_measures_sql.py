"""The 支援措置 record in SQL, on SQLite and PostgreSQL: every item kept as written (加害者 with
IVS names and an address elsewhere, periods, releases, termination), a save only at the
version read, the services' scenario with its 附票 notices, and the same rows on the fake."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from juki.core.errors import ConcurrentChangeError
from juki.registry.support.commands import (
    RecordSupportMeasure,
    ReleaseSupportMeasure,
    RenewSupportMeasure,
    TerminateSupportMeasure,
)
from juki.registry.support.model import RestrainedParty, SupportKind
from juki.registry.support.services import (
    protection,
    record_support_measure,
    release_support_measure,
    renew_support_measure,
    terminate_support_measure,
)
from support.backends import (
    Backend,
    FakeBackend,
    SqlBackend,
    assert_projection_is_fold,
    outbox_payloads,
    sql_backend,
)
from support.residents import CLERK, SUPERVISOR, TODAY, family, get, seed

AGAINST = (
    RestrainedParty(
        family_name="葛\U000e0102西",
        given_name="剛",
        name_kana="カサイ　ツヨシ",
        birth_date=date(1978, 2, 3),
        address="大阪府大阪市北区梅田1丁目1番1号",
        relation="元夫",
    ),
    RestrainedParty("佐藤", "二郎"),
)


@pytest.fixture
def backend(migrated_db_url: str) -> Iterator[SqlBackend]:
    with sql_backend(migrated_db_url) as sql:
        seed(sql)
        yield sql
        assert_projection_is_fold(sql)


def scenario(backend: Backend) -> list[tuple[str, bool]]:
    """Record, release from today, renew in the last month, terminate: the 附票 flags sent."""
    _, wife, child = family(backend)
    m = record_support_measure(
        backend.uow(),
        SUPERVISOR,
        RecordSupportMeasure(
            SupportKind.STALKING,
            TODAY - timedelta(days=2),
            (wife.record_id, child.record_id),
            AGAINST,
            "警察署の意見",
        ),
    )
    release_support_measure(
        backend.uow(),
        SUPERVISOR,
        ReleaseSupportMeasure(m.measure_id, TODAY, TODAY, "裁判所への提出", TODAY),
    )
    backend.clock.advance(timedelta(days=345))  # 2026-03-12
    renew_support_measure(
        backend.uow(), SUPERVISOR, RenewSupportMeasure(m.measure_id, backend.clock.today())
    )
    terminate_support_measure(
        backend.uow(),
        SUPERVISOR,
        TerminateSupportMeasure(m.measure_id, backend.clock.today(), "本人の申出"),
    )
    assert not protection(backend.uow(), CLERK, wife.record_id).protected
    assert not get(backend, wife.record_id).support_measure
    return [
        (p["resident_code"], p["support_measure"]) for p in outbox_payloads(backend, "fuhyo_notice")
    ]


def test_the_measure_is_kept_as_written(backend: SqlBackend) -> None:
    flags = scenario(backend)
    with backend.uow() as uow:
        [m] = uow.support_measures.for_records(
            [r["record_id"] for r in backend.rows("resident_records")]
        )
    assert m.restrained == AGAINST
    assert m.kind is SupportKind.STALKING and m.requested_on == TODAY - timedelta(days=2)
    assert [(p.starts_on, p.ends_on, p.renewal) for p in m.periods] == [
        (TODAY, date(2026, 3, 31), False),
        (date(2026, 4, 1), date(2027, 3, 31), True),
    ]
    assert [(r.released_from, r.purpose) for r in m.releases] == [(TODAY, "裁判所への提出")]
    assert (m.terminated_on, m.termination_reason, m.version) == (
        date(2026, 3, 12),
        "本人の申出",
        4,
    )
    # 附票 notices for both persons: started; released today; renewed on a day in force
    # (the release long over: the flag comes back); terminated
    assert [flag for _, flag in flags[-8:]] == [True, True, False, False, True, True, False, False]


def test_the_fake_keeps_the_same_rows(backend: SqlBackend) -> None:
    fake = FakeBackend()
    seed(fake)
    assert scenario(backend) == scenario(fake)
    for table in ("support_measures", "support_measure_persons"):
        assert backend.rows(table) == fake.rows(table)


def test_a_save_applies_only_to_the_version_read(backend: SqlBackend) -> None:
    scenario(backend)
    with backend.uow() as uow:
        [row] = backend.rows("support_measures")
        m = uow.support_measures.get(row["measure_id"])
    with backend.uow() as uow:
        uow.support_measures.save(dataclasses.replace(m, version=m.version + 1, note="a"))
        uow.commit()
    with backend.uow() as uow, pytest.raises(ConcurrentChangeError):
        # read at the same version by another transaction, saved after the first
        uow.support_measures.save(dataclasses.replace(m, version=m.version + 1, note="b"))
    with backend.uow() as uow:
        assert uow.support_measures.get(m.measure_id).note == "a"
