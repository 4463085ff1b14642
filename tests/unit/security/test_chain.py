"""The oplog's hash chain as pure functions: any entry changed, removed or inserted is found,
and named."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from juki.core.clock import JST
from juki.core.ports import OpLogEntry
from juki.security.chain import GENESIS, HASHED, Anchor, entry_fields, first_break, link

START = datetime(2025, 4, 1, 9, 0, tzinfo=JST)


def chain(n: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    prev = GENESIS
    for i in range(n):
        entry = OpLogEntry(
            at=START + timedelta(minutes=i),
            actor_id=f"clerk{i % 3}",
            role="counter_clerk",
            terminal_id="T1",
            action="view_record",
            target=f"r{i}",
            outcome="ok",
            detail="",
            purpose="case-1" if i % 2 else "",
            my_number_shown=i % 4 == 0,
        )
        rows.append(link(entry_fields(entry), i + 1, prev))
        prev = rows[-1]["entry_hash"]
    return rows


def head(rows: list[dict[str, Any]]) -> tuple[int, str]:
    return rows[-1]["seq"], rows[-1]["entry_hash"]


def test_an_untouched_chain_holds() -> None:
    rows = chain(6)
    assert first_break(rows, Anchor(), head(rows)) is None


CHANGEABLE = [f for f in HASHED if f not in ("seq", "prev_hash")] + ["entry_hash"]


@given(st.integers(0, 7), st.sampled_from(CHANGEABLE))
def test_any_field_of_any_entry_changed_is_named(index: int, name: str) -> None:
    rows = chain(8)
    original = head(rows)
    value = rows[index][name]
    rows[index][name] = (not value) if isinstance(value, bool) else f"{value}x"
    found = first_break(rows, Anchor(), original)
    assert found is not None
    assert (found.problem, found.seq) == ("changed", index + 1)


@given(st.integers(0, 7))
def test_any_entry_removed_is_named(index: int) -> None:
    rows = chain(8)
    original = head(rows)
    del rows[index]
    found = first_break(rows, Anchor(), original)
    assert found is not None
    assert found.seq == index + 1
    assert found.problem == ("truncated" if index == 7 else "removed")


@given(st.integers(0, 8), st.booleans())
def test_any_entry_inserted_is_named(index: int, renumber: bool) -> None:
    """An entry put in with a hash of its own: at the end, or in the middle with the later
    entries renumbered (whose hashes then fail) or numbered like one already there."""
    rows = chain(8)
    original = head(rows)
    prev = rows[index - 1]["entry_hash"] if index else GENESIS
    fields = {k: rows[0][k] for k in HASHED if k not in ("seq", "prev_hash")}
    forged = link(fields | {"detail": "forged"}, index + 1, prev)
    if renumber:
        for row in rows[index:]:
            row["seq"] += 1
        rows.insert(index, forged)
    else:
        rows.insert(index + 1, forged)  # beside the entry it claims the number of
    found = first_break(rows, Anchor(), original)
    assert found is not None
    assert found.seq <= index + 2


def test_a_chain_rebuilt_end_to_end_holds_by_itself() -> None:
    """Why checkpoints exist: recomputing every hash after a change leaves no trace inside."""
    rows = chain(5)
    rows[2]["detail"] = "rewritten"
    rebuilt: list[dict[str, Any]] = []
    for r in rows:
        fields = {k: r[k] for k in HASHED if k not in ("seq", "prev_hash")}
        prev = rebuilt[-1]["entry_hash"] if rebuilt else GENESIS
        rebuilt.append(link(fields, r["seq"], prev))
    assert first_break(rebuilt, Anchor(), head(rebuilt)) is None
    assert rebuilt[2]["entry_hash"] != chain(5)[2]["entry_hash"]


def test_a_pruned_chain_starts_at_its_anchor() -> None:
    rows = chain(6)
    kept = rows[3:]
    anchor = Anchor(3, rows[2]["entry_hash"])
    assert first_break(kept, anchor, head(rows)) is None
    found = first_break(kept, Anchor(), head(rows))
    assert found is not None and found.problem == "removed"
