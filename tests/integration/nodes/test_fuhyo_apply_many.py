"""A run of 附票本人確認情報 applied at once, and a repair snapshot's part, write exactly what
applying each change one by one in order writes: a copy keeps a later change it holds, whatever
order the run brings them in."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from juki.core.clock import JST
from juki.network.fuhyo_link_messages import FuhyoIdentityInfoBody, FuhyoIdentitySnapshot
from juki.nodes.fuhyo_link import (
    apply_fuhyo_identities,
    apply_fuhyo_identity,
    apply_fuhyo_snapshot,
)
from juki.nodes.tables import fuhyo_identity_changes, fuhyo_identity_copies
from juki.storage.engine import make_engine

NOW = datetime(2025, 4, 1, 10, 0, tzinfo=JST)
INAGI, FUJISAWA = "132250", "142051"


@pytest.fixture
def engine(migrated_db_url: str) -> Iterator[sa.Engine]:
    engine = make_engine(migrated_db_url)
    yield engine
    engine.dispose()


def change(rng: random.Random, n: int) -> FuhyoIdentityInfoBody:
    """The n-th change of one of a few people of two 本籍 municipalities, on one of a few days:
    the same person comes again, days tie and go backwards (a late notice of an earlier change)."""
    who = rng.randrange(6)
    abroad = rng.random() < 0.2
    return FuhyoIdentityInfoBody(
        resident_code=f"{who:011d}",
        family_name="附票",
        given_name=f"名{n}",
        family_name_kana="フヒョウ",
        given_name_kana=rng.choice(["タロウ", "ハナコ", "ジロウ"]),
        birth_date=date(1970, 1, 1) + timedelta(days=who),
        sex="female" if who % 2 else "male",
        address=f"東京都稲城市東長沼{n}番地",
        moved_abroad=abroad,
        abroad_country="フランス共和国" if abroad else None,
        status=rng.choice(["active", "removed"]),
        lg_code=FUJISAWA if who % 3 == 0 else INAGI,
        change_reason=rng.choice(["move_in", "move_out", "emigration"]),
        changed_on=date(2025, 4, 1) + timedelta(days=rng.randrange(4)),
    )


def tables(conn: sa.Connection) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The copies by key, and the history in order without its ids."""
    c, h = fuhyo_identity_copies.c, fuhyo_identity_changes.c
    copies = conn.execute(sa.select(fuhyo_identity_copies).order_by(c.lg_code, c.resident_code))
    history = conn.execute(
        sa.select(
            *(col for col in fuhyo_identity_changes.columns if col.name != "change_id")
        ).order_by(h.change_id)
    )
    return [tuple(r) for r in copies], [tuple(r) for r in history]


def clear(conn: sa.Connection) -> None:
    conn.execute(fuhyo_identity_changes.delete())
    conn.execute(fuhyo_identity_copies.delete())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_run_writes_what_one_by_one_writes(engine: sa.Engine, seed: int) -> None:
    rng = random.Random(seed)
    run = [(change(rng, n), f"m-{n:04d}") for n in range(60)]
    codes = [info.resident_code for info, _ in run]
    assert len(set(codes)) < len(codes)  # repeats of a key
    assert any(  # and a later change of a key with an earlier date
        later.changed_on < earlier.changed_on
        for i, (earlier, _) in enumerate(run)
        for later, _ in run[i + 1 :]
        if later.resident_code == earlier.resident_code
    )
    with engine.begin() as conn:
        apply_fuhyo_identities(conn, run[:9], now=NOW)  # copies already held, then the rest
        apply_fuhyo_identities(conn, run[9:], now=NOW)
        at_once = tables(conn)
        clear(conn)
        for info, message_id in run:
            apply_fuhyo_identity(conn, info, message_id=message_id, now=NOW)
        one_by_one = tables(conn)
        conn.rollback()
    assert at_once == one_by_one
    assert len(at_once[1]) == len(run)
    # each copy is the last of its person's latest-dated changes (not merely the last change)
    latest: dict[tuple[str, str], FuhyoIdentityInfoBody] = {}
    for info, _ in run:
        key = (info.lg_code, info.resident_code)
        if key not in latest or latest[key].changed_on <= info.changed_on:
            latest[key] = info
    assert [(r[0], r[1], r[3]) for r in at_once[0]] == [
        (*key, latest[key].given_name) for key in sorted(latest)
    ]


def test_a_snapshot_part_replaces_copies_and_its_last_part_drops_stale_ones(
    engine: sa.Engine,
) -> None:
    """A snapshot's entry replaces the copy even when the copy holds a later change; the last
    part drops the municipality's copies no part carried, and no other municipality's."""
    rng = random.Random(5)
    held = [(change(rng, n), f"m-{n:04d}") for n in range(40)]
    later = date(2025, 5, 1)
    entries = [
        change(rng, 100 + n).model_copy(
            update={"resident_code": f"{n:011d}", "lg_code": INAGI, "changed_on": later}
        )
        for n in (0, 1, 2, 4)
    ]
    entries[1] = entries[1].model_copy(update={"changed_on": date(2025, 3, 1)})  # older
    parts = [entries[:2], entries[2:]]

    def snapshot(i: int) -> FuhyoIdentitySnapshot:
        return FuhyoIdentitySnapshot(
            lg_code=INAGI, snapshot_id="snap-1", part=i + 1, parts=2, entries=parts[i]
        )

    with engine.begin() as conn:
        apply_fuhyo_identities(conn, held, now=NOW)
        inagi_held = {r[1] for r in tables(conn)[0] if r[0] == INAGI}
        assert apply_fuhyo_snapshot(conn, snapshot(0), message_id="s-1", now=NOW) == 0
        removed = apply_fuhyo_snapshot(conn, snapshot(1), message_id="s-2", now=NOW)
        at_once = tables(conn)
        clear(conn)
        apply_fuhyo_identities(conn, held, now=NOW)
        for i, part in enumerate(parts):
            for entry in part:
                apply_fuhyo_identity(
                    conn, entry, message_id=f"s-{i + 1}", now=NOW, snapshot_id="snap-1"
                )
        one_by_one_copies = tables(conn)
        conn.rollback()
    assert removed == 1
    assert removed == len(inagi_held - {e.resident_code for e in entries})
    snapshot_codes = [e.resident_code for e in entries]
    assert [(r[1], r[3], r[-1]) for r in at_once[0] if r[0] == INAGI] == [
        (e.resident_code, e.given_name, "snap-1") for e in entries
    ]
    assert [r for r in at_once[0] if r[0] != INAGI] == [
        r for r in one_by_one_copies[0] if r[0] != INAGI
    ]
    assert [r for r in one_by_one_copies[0] if r[1] in snapshot_codes and r[0] == INAGI] == [
        r for r in at_once[0] if r[0] == INAGI
    ]
    assert at_once[1] == one_by_one_copies[1]  # the history: every change and every entry
