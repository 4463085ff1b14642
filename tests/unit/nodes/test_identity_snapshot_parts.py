"""Snapshot parts always fit in an envelope, however long the addresses are."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from juki.network import pki
from juki.network.envelope import MAX_ENVELOPE_BYTES, Envelope, uuid7
from juki.network.messages import IdentityInfoBody, IdentitySnapshot, body_of
from juki.nodes.identity import SNAPSHOT_PART_ENTRIES, snapshot_parts

KEY = pki.generate_key()


def entry(n: int, address_chars: int) -> IdentityInfoBody:
    body = f"{n:010d}"
    return IdentityInfoBody(
        resident_code=body + "0",
        my_number=None,
        family_name="齋藤",
        given_name="葛󠄂子",
        family_name_kana="サイトウ",
        given_name_kana="カツコ",
        birth_date=date(1970, 1, 1),
        sex="female",
        address="東" * address_chars,
        status="active",
        lg_code="132250",
        change_reason="relocation",
        changed_on=date(2025, 4, 1),
    )


def envelope_size(chunk: list[IdentityInfoBody]) -> int:
    import random

    env = Envelope(
        message_id=uuid7(datetime(2025, 4, 1, tzinfo=UTC), random.Random(1)),
        message_type="identity_snapshot",
        schema_version=2,
        sender="132250",
        recipient="130001",
        created_at=datetime(2025, 4, 1, tzinfo=UTC).isoformat(),
        seq=1,
        body=body_of(
            IdentitySnapshot(lg_code="132250", snapshot_id="s", part=1, parts=1, entries=chunk)
        ),
    ).signed(KEY)
    return len(env.to_bytes())


def test_no_entries_is_one_empty_part() -> None:
    assert snapshot_parts([]) == [[]]


def test_short_entries_are_cut_by_count() -> None:
    # one-character addresses: with identity_info v2's four name fields (null here) an entry of
    # eight characters already reaches the byte limit before the count
    entries = [entry(n, 1) for n in range(SNAPSHOT_PART_ENTRIES * 2 + 1)]
    parts = snapshot_parts(entries)
    assert [len(p) for p in parts] == [SNAPSHOT_PART_ENTRIES, SNAPSHOT_PART_ENTRIES, 1]


def test_the_longest_addresses_still_fit_in_an_envelope() -> None:
    entries = [entry(n, 400) for n in range(SNAPSHOT_PART_ENTRIES)]  # 400 chars: the schema's max
    parts = snapshot_parts(entries)
    assert len(parts) > 1
    assert [e for p in parts for e in p] == entries
    assert max(envelope_size(p) for p in parts) < MAX_ENVELOPE_BYTES


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=400), max_size=1200))
def test_parts_keep_every_entry_in_order(lengths: list[int]) -> None:
    entries = [entry(n, k) for n, k in enumerate(lengths)]
    parts = snapshot_parts(entries, max_bytes=20_000)
    assert [e for p in parts for e in p] == entries
    assert all(p for p in parts) or entries == []
