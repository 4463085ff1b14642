"""Rows written on the driver's own executemany (SQLite) or arrays (PostgreSQL) come back exactly
as SQLAlchemy would have written them, in the caller's transaction, seen by statement events."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from juki.storage.bulk import BulkWrite, PerDialect, one_of
from juki.storage.engine import make_engine

people = sa.Table(
    "bulk_people",
    sa.MetaData(),
    sa.Column("lg_code", sa.String(6), primary_key=True),
    sa.Column("code", sa.String(11), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("born", sa.Date, nullable=False),
    sa.Column("moved_on", sa.Date),
    sa.Column("count", sa.Integer),
    sa.Column("abroad", sa.Boolean, nullable=False),
)
COLUMNS = ("lg_code", "code", "name", "born", "moved_on", "count", "abroad")
INSERT = BulkWrite(people, COLUMNS)
UPSERT = BulkWrite(people, COLUMNS, upsert_on=("lg_code", "code"))
# replaces a held row only when its `born` is not later (as 附票連携's copies: changed_on)
NEWER = BulkWrite(people, COLUMNS, upsert_on=("lg_code", "code"), newer_than="born")
BY_CODES = PerDialect(lambda d: sa.select(people.c.code).where(one_of(people.c.code, "k", d)))
BY_NAMES = PerDialect(lambda d: sa.select(people.c.name).where(one_of(people.c.name, "k", d)))
BY_COUNTS = PerDialect(lambda d: sa.select(people.c.count).where(one_of(people.c.count, "k", d)))


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    people.create(engine)
    yield engine
    engine.dispose()


def _all(conn: sa.Connection) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(sa.select(people).order_by(people.c.code))]


def test_inserted_rows_read_back_as_given(engine: sa.Engine) -> None:
    rows = [
        ("132250", "00000000001", "山田　太郎", date(1980, 4, 1), None, None, False),
        (
            "132250",
            "00000000002",
            'O\'Brien "{x,y}" \\ NULL',
            date(2000, 2, 29),
            date(2025, 3, 31),
            7,
            True,
        ),
    ]
    with engine.begin() as conn:
        assert INSERT.write(conn, rows) == 2
        assert _all(conn) == rows


def test_nothing_to_write_runs_no_statement(engine: sa.Engine) -> None:
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    with engine.begin() as conn:
        assert INSERT.write(conn, []) == 0
    assert seen == []


def test_upsert_replaces_held_rows_and_the_last_row_of_a_key_wins(engine: sa.Engine) -> None:
    first = ("132250", "00000000001", "旧", date(1980, 4, 1), None, 1, False)
    with engine.begin() as conn:
        INSERT.write(conn, [first])
        UPSERT.write(
            conn,
            [
                ("132250", "00000000001", "中", date(1980, 4, 1), None, 2, False),
                ("132250", "00000000002", "別", date(1990, 1, 1), None, None, False),
                ("132250", "00000000001", "新", date(1980, 4, 2), date(2025, 4, 1), 3, True),
            ],
        )
        assert _all(conn) == [
            ("132250", "00000000001", "新", date(1980, 4, 2), date(2025, 4, 1), 3, True),
            ("132250", "00000000002", "別", date(1990, 1, 1), None, None, False),
        ]


def test_newer_than_keeps_a_held_row_that_is_later(engine: sa.Engine) -> None:
    """Ties replace; a later row of a key with an earlier date changes nothing, in one write as
    in two."""
    held = [
        ("132250", "00000000001", "later", date(2025, 4, 1), None, 1, False),
        ("132250", "00000000002", "same", date(2025, 4, 1), None, 1, False),
    ]
    with engine.begin() as conn:
        INSERT.write(conn, held)
        NEWER.write(
            conn,
            [
                ("132250", "00000000001", "older", date(2025, 3, 1), None, 2, False),
                ("132250", "00000000002", "tie", date(2025, 4, 1), None, 2, False),
                ("132250", "00000000003", "new", date(2025, 5, 1), None, 1, False),
                ("132250", "00000000003", "late notice", date(2025, 4, 1), None, 2, False),
                ("132250", "00000000002", "tie again", date(2025, 4, 1), None, 3, True),
            ],
        )
        assert [(r[1], r[2]) for r in _all(conn)] == [
            ("00000000001", "later"),
            ("00000000002", "tie again"),
            ("00000000003", "new"),
        ]


def test_newer_than_needs_an_upsert_on_a_date_or_number_never_null() -> None:
    with pytest.raises(ValueError, match="upsert_on"):
        BulkWrite(people, COLUMNS, newer_than="born")
    with pytest.raises(ValueError, match="among the columns"):
        BulkWrite(
            people, ("lg_code", "code", "name"), upsert_on=("lg_code", "code"), newer_than="born"
        )
    for column in ("moved_on", "name"):  # NULL allowed; text (ordered by a collation)
        with pytest.raises(ValueError, match="never NULL"):
            BulkWrite(people, COLUMNS, upsert_on=("lg_code", "code"), newer_than=column)


def test_writes_belong_to_the_callers_transaction(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        with conn.begin() as tx:
            INSERT.write(
                conn, [("132250", "00000000001", "a", date(2000, 1, 1), None, None, False)]
            )
            tx.rollback()
        assert _all(conn) == []


def test_statement_events_see_the_write(engine: sa.Engine) -> None:
    """The simulator's faults (a crash in the middle of a batch, a full disk) hook these."""
    seen: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    with engine.begin() as conn:
        INSERT.write(conn, [("132250", "00000000001", "a", date(2000, 1, 1), None, None, False)])
    assert any(s.startswith("INSERT INTO") for s in seen)


def test_one_of_finds_the_listed_keys_whatever_their_number(engine: sa.Engine) -> None:
    rows = [("132250", f"{i:011d}", "a", date(2000, 1, 1), None, None, False) for i in range(600)]
    with engine.begin() as conn:
        INSERT.write(conn, rows)
        for wanted in ([], ["00000000003"], [f"{i:011d}" for i in range(0, 1200, 2)]):
            found = set(conn.execute(BY_CODES(conn), {"k": wanted}).scalars())
            assert found == {c for c in wanted if int(c) < 600}


def test_one_of_matches_integers_and_any_text_exactly(engine: sa.Engine) -> None:
    """SQLite passes the list as one JSON array: numbers stay numbers, text stays as written."""
    odd = ['O\'Brien "{x,y}" \\ NULL', "山田　太郎", "１２", "12", "", "a\u3099", "\u304c"]
    rows = [("132250", f"{i:011d}", n, date(2000, 1, 1), None, i, False) for i, n in enumerate(odd)]
    with engine.begin() as conn:
        INSERT.write(conn, rows)
        assert set(conn.execute(BY_NAMES(conn), {"k": [*odd[:3], "nope"]}).scalars()) == set(
            odd[:3]
        )
        assert set(conn.execute(BY_NAMES(conn), {"k": ["12"]}).scalars()) == {"12"}
        assert set(conn.execute(BY_COUNTS(conn), {"k": [0, 3, 99]}).scalars()) == {0, 3}


def test_columns_must_exist_and_keys_be_written() -> None:
    with pytest.raises(ValueError, match="no column nickname"):
        BulkWrite(people, ("code", "nickname"))
    with pytest.raises(ValueError, match="key columns"):
        BulkWrite(people, ("code", "name"), upsert_on=("lg_code", "code"))


names = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=60
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 30),
            names,
            st.dates(date(1900, 1, 1), date(2100, 1, 1)),
            st.none() | st.dates(),
            st.none() | st.integers(-(2**31), 2**31 - 1),
            st.booleans(),
        ),
        max_size=40,
    )
)
def test_any_text_dates_and_nulls_survive_an_upsert(engine: sa.Engine, drawn: list[Any]) -> None:
    rows = [
        ("132250", f"{k:011d}", name, born, moved, n, b) for k, name, born, moved, n, b in drawn
    ]
    with engine.begin() as conn:
        conn.execute(people.delete())
        UPSERT.write(conn, rows)
        expected = {r[1]: r for r in rows}  # the last row of each key
        assert _all(conn) == [expected[k] for k in sorted(expected)]


days = st.dates(date(2025, 4, 1), date(2025, 4, 4))  # few days: ties and late notices


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.tuples(st.integers(0, 4), days), max_size=5, unique_by=lambda t: t[0]),
    st.lists(st.tuples(st.integers(0, 4), days), max_size=30),
)
def test_newer_than_in_one_write_is_the_rows_applied_one_by_one(
    engine: sa.Engine, held: list[tuple[int, date]], drawn: list[tuple[int, date]]
) -> None:
    """The fold PostgreSQL needs leaves what each row written alone leaves (and what the rule
    says: a row replaces the one held unless that one is later)."""
    before = [("132250", f"{k:011d}", "held", d, None, None, False) for k, d in held]
    rows = [("132250", f"{k:011d}", f"r{i}", d, None, i, False) for i, (k, d) in enumerate(drawn)]
    expected = {r[1]: r for r in before}
    for row in rows:
        if row[1] not in expected or expected[row[1]][3] <= row[3]:
            expected[row[1]] = row
    with engine.begin() as conn:
        conn.execute(people.delete())
        INSERT.write(conn, before)
        NEWER.write(conn, rows)
        at_once = _all(conn)
        conn.execute(people.delete())
        INSERT.write(conn, before)
        for row in rows:
            NEWER.write(conn, [row])
        one_by_one = _all(conn)
    assert at_once == one_by_one == [expected[k] for k in sorted(expected)]
