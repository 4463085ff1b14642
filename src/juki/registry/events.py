"""The registry's events for its CS, typed by the network's own message schemas.

A life event that changes identity_info, moves a person in, changes what the 本籍
municipality's 附票 records, or files a card-based move-out hands its CS one of these, in the
change's transaction (the outbox). Each is the body of the network message the CS sends, so
its name and schema are written once (`juki.network.messages`), and the CS dispatches them by
type (`juki.nodes.municipality.MunicipalityNode.forwarders`).
"""

from __future__ import annotations

from datetime import date
from typing import Final

from juki.network.messages import (
    AliasEntryBody,
    FuhyoNotice,
    IdentityInfoChanged,
    MoveInNotice,
    MoveOutCertificateInfo,
    MoveOutWithdrawn,
    ResidentCodeChanged,
)
from juki.registry.identity_info import identity_info_of
from juki.registry.model import ChangeReason, RecordChange, ResidentRecord

RegistryEvent = (
    IdentityInfoChanged
    | MoveInNotice
    | FuhyoNotice
    | MoveOutCertificateInfo
    | ResidentCodeChanged
    | MoveOutWithdrawn
)
EVENT_TYPES: Final = (
    IdentityInfoChanged,
    MoveInNotice,
    FuhyoNotice,
    MoveOutCertificateInfo,
    ResidentCodeChanged,
    MoveOutWithdrawn,
)

_FUHYO_ITEMS: Final = (
    "address",
    "family_name",
    "given_name",
    "status",
    "honseki",
    "support_measure",
    "support_starts_on",
    "support_ends_on",
)


def identity_info_changed(record: ResidentRecord, change: RecordChange) -> IdentityInfoChanged:
    return IdentityInfoChanged(identity=identity_info_of(record, change))


def fuhyo_due(before: ResidentRecord | None, after: ResidentRecord, change: RecordChange) -> bool:
    """附票記載事項通知 (法第19条): address or name changes go to the 本籍 municipality."""
    if after.is_foreign or not after.honseki or not after.koseki_head:
        return False
    if change.reason in (ChangeReason.MOVE_OUT_PLANNED, ChangeReason.MOVE_OUT_CONFIRMED):
        return False  # only the new municipality notifies, with the new address (法第19条第1項)
    if before is None:
        return True
    return any(getattr(before, k) != getattr(after, k) for k in _FUHYO_ITEMS)


def fuhyo_notice(record: ResidentRecord, change: RecordChange) -> FuhyoNotice:
    if not record.honseki or not record.koseki_head:
        raise ValueError("a 附票 notice needs the 本籍 and the 筆頭者")
    return FuhyoNotice(
        resident_code=record.resident_code,
        family_name=record.family_name,
        given_name=record.given_name,
        family_name_kana=record.family_name_kana,
        given_name_kana=record.given_name_kana,
        birth_date=record.birth_date,
        sex=record.sex.value,
        honseki=record.honseki,
        koseki_head=record.koseki_head,
        address=record.address,
        address_since=record.address_since,
        status=record.status.value,
        change_reason=change.reason.value,
        changed_on=change.effective_on,
        from_lg_code=record.lg_code,
        moved_abroad=change.reason is ChangeReason.EMIGRATION,
        abroad_country=(
            record.move_out_planned_address if change.reason is ChangeReason.EMIGRATION else None
        ),
        support_measure=record.support_measure,
        support_starts_on=record.support_starts_on if record.support_measure else None,
        support_ends_on=record.support_ends_on if record.support_measure else None,
    )


def move_in_notice(
    record: ResidentRecord, *, moved_on: date, notified_on: date, from_lg_code: str
) -> MoveInNotice:
    """転入通知: tells the municipality the person moved out of where they arrived, with the
    four items it checks against its own record before confirming the move-out."""
    if not record.previous_address:
        raise ValueError("a move-in notice needs the address the person moved from")
    return MoveInNotice(
        resident_code=record.resident_code,
        family_name=record.family_name,
        given_name=record.given_name,
        birth_date=record.birth_date,
        sex=record.sex.value,
        previous_address=record.previous_address,
        new_address=record.address,
        moved_on=moved_on,
        notified_on=notified_on,
        from_lg_code=from_lg_code,
        to_lg_code=record.lg_code,
    )


def move_out_certificate_info(
    record: ResidentRecord, change: RecordChange, *, destination_address: str, to_lg_code: str
) -> MoveOutCertificateInfo:
    """転出証明書情報, sent ahead of a card-based move-in (転入届の特例)."""
    return MoveOutCertificateInfo(
        identity=identity_info_of(record, change),
        destination_address=destination_address,
        planned_on=change.effective_on,
        from_lg_code=record.lg_code,
        to_lg_code=to_lg_code,
        alias_history=[AliasEntryBody.model_validate(e.to_json()) for e in record.alias_history],
    )


def move_out_withdrawn(
    before: ResidentRecord, after: ResidentRecord, change: RecordChange
) -> MoveOutWithdrawn | None:
    """A 転出取消 (or 異動取消) that undoes a card-based move-out not yet confirmed tells the
    destination the 転出証明書情報 was sent to; any other undoing tells nobody."""
    destination = before.card_move_out_lg_code
    if (
        destination is None
        or after.card_move_out_lg_code is not None
        or before.move_out_planned_on is None
        or before.move_out_confirmed_on is not None
    ):
        return None
    reason = (
        "change_cancelled"
        if change.reason is ChangeReason.CHANGE_CANCELLED
        else "move_out_withdrawn"
    )
    return MoveOutWithdrawn(
        resident_code=before.resident_code,
        planned_on=before.move_out_planned_on,
        withdrawn_on=change.effective_on,
        reason=reason,
        from_lg_code=before.lg_code,
        to_lg_code=destination,
    )
