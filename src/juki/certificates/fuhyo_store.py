"""The 附票 read for a 戸籍の附票の写し: one family register's entries, and who is protected.

Read inside the issuing transaction, like the 住民票 snapshot (`juki.certificates.store`): on
PostgreSQL the entries are locked FOR SHARE, so no 附票 notice is recorded on this 附票 until the
certificate is. Protection is the latest notice's 支援措置 flag (it travels with the notice,
要領 第5-10) or a measure of this municipality in force on the day (when the person lives, or
lived, here too: `juki.registry.support.store.with_protection_on`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from juki.certificates.fuhyo import FuhyoEntry, FuhyoPerson, FuhyoSnapshot
from juki.core.clock import JST
from juki.core.errors import DomainRuleError
from juki.registry.model import ChangeReason, Municipality, Sex, record_from_row
from juki.registry.standing import as_of
from juki.registry.support.store import with_protection_on
from juki.registry.tables import fuhyo_entries, resident_records


def entry_from_row(row: Mapping[Any, Any]) -> FuhyoEntry:
    return FuhyoEntry(
        entry_id=int(row["entry_id"]),
        resident_code=row["resident_code"],
        family_name=row["family_name"],
        given_name=row["given_name"],
        family_name_kana=row["family_name_kana"],
        given_name_kana=row["given_name_kana"],
        birth_date=row["birth_date"],
        sex=Sex(row["sex"]),
        honseki=row["honseki"],
        koseki_head=row["koseki_head"],
        address=row["address"],
        address_since=row["address_since"],
        status=row["status"],
        change_reason=row["change_reason"],
        changed_on=row["changed_on"],
        moved_abroad=bool(row["moved_abroad"]),
        support_measure=bool(row["support_measure"]),
        abroad_country=row["abroad_country"],
    )


def _local(
    conn: sa.Connection, codes: Sequence[str], read_at: datetime
) -> tuple[set[str], dict[str, str]]:
    """Of these people, who has this municipality's own measure in force on the day, and where
    those who left from here for abroad went (their 除票 here says)."""
    day = read_at.astimezone(JST).date()
    c = resident_records.c
    rows = conn.execute(sa.select(resident_records).where(c.resident_code.in_(codes))).mappings()
    records = with_protection_on(conn, [as_of(record_from_row(r), day) for r in rows], day)
    protected = {r.resident_code for r in records if r.support_measure}
    abroad = {
        r.resident_code: r.move_out_planned_address
        for r in sorted(records, key=lambda r: (r.removed_on or day, r.record_id))
        if r.removal_reason is ChangeReason.EMIGRATION and r.move_out_planned_address
    }
    return protected, abroad


def fuhyo_snapshot(
    conn: sa.Connection,
    resident_code: str,
    municipality: Municipality,
    read_at: datetime,
    *,
    lock: bool = True,
) -> FuhyoSnapshot:
    """The 附票 the person is on now (their latest entry's 本籍 and 筆頭者), everyone on it."""
    f = fuhyo_entries.c
    order = (f.changed_on, f.entry_id)
    latest = conn.execute(
        sa.select(f.honseki, f.koseki_head)
        .where(f.resident_code == resident_code)
        .order_by(*(o.desc() for o in order))
        .limit(1)
    ).first()
    if latest is None:
        raise DomainRuleError(
            "resident_code",
            "no_fuhyo",
            "no 附票 entry of this person is kept here: their 本籍 is elsewhere (ask there)",
            "この方の戸籍の附票はこの市区町村にありません（本籍地の市区町村で請求してください）",
        )
    honseki, koseki_head = latest
    entries = (
        sa.select(fuhyo_entries)
        .where((f.honseki == honseki) & (f.koseki_head == koseki_head))
        .order_by(*order)
    )
    rows = conn.execute(entries.with_for_update(read=True) if lock else entries).mappings().all()
    by_code: dict[str, list[FuhyoEntry]] = {}
    for row in rows:
        by_code.setdefault(row["resident_code"], []).append(entry_from_row(row))
    protected, abroad = _local(conn, sorted(by_code), read_at)
    persons = [
        FuhyoPerson(
            resident_code=code,
            entries=tuple(entries),
            protected=entries[-1].support_measure or code in protected,
            # this municipality's own record first; else the country the notice carried
            abroad_destination=abroad.get(code) or entries[-1].abroad_country,
        )
        for code, entries in by_code.items()
    ]
    # the 筆頭者 first, then by birth: the order of the 戸籍 as far as the 附票 tells it
    persons.sort(key=lambda p: (p.full_name != koseki_head, p.latest.birth_date, p.resident_code))
    subject = next(p for p in persons if p.resident_code == resident_code)
    return FuhyoSnapshot(
        municipality=municipality,
        honseki=honseki,
        koseki_head=koseki_head,
        subject=subject,
        persons=tuple(persons),
        read_at=read_at,
    )
