"""What a record is on a given day: a 住民票, or a 除票 (ADR 0005).

A 転出届 (法24条) is filed before the move, and the registry records it when it is filed: one
change, notified on the filing date, effective on the planned date, that removes the record
as of that date. Until that date the person still lives here, so the record is still their
住民票, showing the 転出予定 (planned destination and date); from the planned date, or as soon
as the new municipality's 転入通知 confirms the arrival (転出確定), it is a 除票.

Nothing is written when the date passes: the record's standing on a day is computed here from
what was recorded, so the history holds exactly what was filed and when, and every read that
depends on the day (certificates, searches) asks this module with the day it reads at.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date
from typing import Final

from juki.registry.model import ChangeReason, RecordStatus, Relationship, ResidentRecord

# The removals that are filed ahead of their date (転出届, 国外転出届).
PLANNED_REMOVALS: Final = frozenset({ChangeReason.MOVE_OUT_PLANNED, ChangeReason.EMIGRATION})


def move_out_pending(record: ResidentRecord, day: date) -> bool:
    """Filed to move out, not yet gone: before the planned date and not yet confirmed."""
    return (
        record.status is RecordStatus.REMOVED
        and record.removal_reason in PLANNED_REMOVALS
        and record.removed_on is not None
        and day < record.removed_on
        and record.move_out_confirmed_on is None
    )


def standing_on(record: ResidentRecord, day: date) -> RecordStatus:
    """住民票 (active) or 除票 (removed) on `day`."""
    return RecordStatus.ACTIVE if move_out_pending(record, day) else record.status


def as_of(record: ResidentRecord, day: date) -> ResidentRecord:
    """The record as a certificate or a search shows it on `day`: a pending move-out is still
    a 住民票 (with its 転出予定 entries), not yet removed; `removal_reason` keeps the removal
    it is pending (転出予定 or 国外転出), which a 転出証明書 needs to tell them apart."""
    if not move_out_pending(record, day):
        return record
    return dataclasses.replace(record, status=RecordStatus.ACTIVE, removed_on=None)


def household_on(day: date, members: Iterable[ResidentRecord]) -> tuple[ResidentRecord, ...]:
    """A household's members on `day`: its active records and those still pending a move-out.

    The 世帯主変更 a 転出届 causes is recorded with it, effective on the planned date; so while a
    householder who leaves alone is still here, the household already has its next householder
    on record. That recorded householder is shown and the leaving one is left off, rather than
    show two 世帯主 (ADR 0005). Order is kept (householder first).
    """
    here = [m for m in members if m.is_active or move_out_pending(m, day)]
    head_stays = any(m.is_active and m.relationship is Relationship.HOUSEHOLDER for m in here)
    return tuple(
        as_of(m, day)
        for m in here
        if m.is_active or not (head_stays and m.relationship is Relationship.HOUSEHOLDER)
    )
