"""Moves across the municipality's border: 転入 (with a 転出証明書, the card-based special
case, or from abroad), 転出 (and 国外転出), and 転出確定 when the new municipality's move-in
notice arrives."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Final

from juki.core.era import to_wareki
from juki.core.errors import DomainRuleError, NotFoundError, ValidationError
from juki.core.identifiers import LgCode, ResidentCode
from juki.registry import rules
from juki.registry.alias import AliasHistory, history_from_json
from juki.registry.commands import ConfirmMoveOut, MoveInOrigin, RecordMoveIn, RecordMoveOut
from juki.registry.events import move_in_notice, move_out_certificate_info
from juki.registry.model import ChangeReason, RecordChange, RecordStatus, ResidentRecord
from juki.registry.ports import RegistryUnitOfWork
from juki.registry.services.batch import Batch
from juki.registry.services.checks import (
    active_record,
    distinct_ids,
    record_target,
    require,
    same_household,
    valid_address,
)
from juki.registry.services.placement import abolish_seal_of, new_record, rehead
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission

MOVE_OUT_NOTICE_DAYS: Final = 14  # 転出届は転出予定日の14日前から (運用)


def record_move_in(uow: RegistryUnitOfWork, by: Actor, cmd: RecordMoveIn) -> ResidentRecord:
    """転入 (with 転出証明書 or the card-based special case) and 国外転入."""

    def run(uow: RegistryUnitOfWork) -> ResidentRecord:
        today = uow.clock.today()
        rules.not_in_future("birth_date", cmd.person.birth_date, today)
        rules.event_dates(cmd.moved_on, cmd.notified_on, today, cmd.person.birth_date)
        prefix = uow.municipality.address_prefix
        address = valid_address("address", cmd.address)
        rules.address_in_municipality("address", address, prefix)
        previous = valid_address("previous_address", cmd.previous_address)
        carried: tuple[AliasHistory, str] = ((), "alias_history")  # 通称履歴 and where it came
        if cmd.origin is MoveInOrigin.ABROAD:
            reason = ChangeReason.IMMIGRATION
        else:
            reason = ChangeReason.MOVE_IN
            rules.address_outside_municipality("previous_address", previous, prefix)
            require(cmd.resident_code, "resident_code", "住民票コード")
            if cmd.previous_lg_code is None:
                raise ValidationError(
                    "previous_lg_code",
                    "required",
                    "the previous municipality is required",
                    "転出元の市区町村を指定してください",
                )
            if cmd.origin is MoveInOrigin.CERTIFICATE:
                require(
                    cmd.move_out_certificate_number
                    or (cmd.move_out_certificate and cmd.move_out_certificate.certificate_number),
                    "move_out_certificate_number",
                    "転出証明書の番号",
                )
                check_move_out_certificate(cmd, previous)
                if cmd.move_out_certificate is not None:
                    history = cmd.move_out_certificate.alias_history
                    carried = (history, "move_out_certificate.alias_history")
            else:
                require(cmd.my_number, "my_number", "個人番号（転入届の特例にはカードが必要）")
                carried = (_card_move_out_info(uow, cmd), "alias_history")
        if cmd.move_out_certificate is not None and cmd.origin is not MoveInOrigin.CERTIFICATE:
            raise ValidationError(
                "move_out_certificate",
                "not_for_origin",
                "a move-out certificate goes with a move-in that presents one",
                "転出証明書は転出証明書を添えた転入届でのみ入力できます",
            )
        batch = Batch(uow, by, cmd.moved_on, cmd.notified_on)
        record = new_record(
            batch,
            cmd.person,
            placement=cmd.placement,
            address=address,
            resident_since=cmd.moved_on,
            notified_on=cmd.notified_on,
            previous_address=previous,
            resident_code=cmd.resident_code,
            my_number=cmd.my_number
            or (cmd.move_out_certificate.my_number if cmd.move_out_certificate else None),
            reason=reason,
            alias_history=carried[0],
            alias_history_field=carried[1],
        )
        batch.note = cmd.origin.value
        batch.flush()
        if reason is ChangeReason.MOVE_IN and cmd.previous_lg_code:
            notice = move_in_notice(
                record,
                moved_on=cmd.moved_on,
                notified_on=cmd.notified_on,
                from_lg_code=cmd.previous_lg_code,
            )
            uow.outbox.put(notice, record.resident_code)
        return record

    return perform(uow, by, Permission.RECORD_MOVE_IN, "move_in", run, describe=record_target)


# 転入届の特例 (法24条の2第1項ただし書, 令24条の2): not after 14 days from the arrival, nor
# after 30 days from the planned move-out date; past either, a paper 転出証明書 is needed.
CARD_MOVE_IN_DAYS_AFTER_ARRIVAL: Final = 14
CARD_MOVE_IN_DAYS_AFTER_PLANNED: Final = 30


def card_move_in_in_time(moved_on: date, notified_on: date, planned_on: date | None) -> None:
    """A card-based move-in is refused outside its window; the message says what to do."""
    if notified_on > moved_on + timedelta(days=CARD_MOVE_IN_DAYS_AFTER_ARRIVAL):
        raise DomainRuleError(
            "notified_on",
            "card_move_in_late_after_arrival",
            f"a card-based move-in must be notified within "
            f"{CARD_MOVE_IN_DAYS_AFTER_ARRIVAL} days of the arrival",
            f"転入した日から{CARD_MOVE_IN_DAYS_AFTER_ARRIVAL}日を過ぎているため、転入届の特例は"
            "使えません。転出元で転出証明書の交付を受けてください",
        )
    if planned_on is not None and notified_on > planned_on + timedelta(
        days=CARD_MOVE_IN_DAYS_AFTER_PLANNED
    ):
        raise DomainRuleError(
            "notified_on",
            "card_move_in_late_after_planned",
            f"a card-based move-in must be notified within "
            f"{CARD_MOVE_IN_DAYS_AFTER_PLANNED} days of the planned move-out date",
            f"転出予定日から{CARD_MOVE_IN_DAYS_AFTER_PLANNED}日を過ぎているため、転入届の特例は"
            "使えません。転出元で転出証明書の交付を受けてください",
        )


_CERTIFICATE_ITEMS_JA: Final = {
    "resident_code": "住民票コード",
    "family_name": "氏",
    "given_name": "名",
    "birth_date": "出生の年月日",
    "sex": "男女の別",
    "lg_code": "転出元の市区町村",
    "address": "住所（転出元）",
    "my_number": "個人番号",
}


def check_move_out_certificate(cmd: RecordMoveIn, previous_address: str) -> None:
    """転入届 with a 転出証明書 (法22条2項, 令23条): the certificate's items are the move-in's
    input, and each must agree with the person and the notification, or the move-in is
    refused naming the item."""
    cert = cmd.move_out_certificate
    if cert is None:
        return
    p = cmd.person
    expected: dict[str, tuple[object, object]] = {
        "resident_code": (
            _code("move_out_certificate.resident_code", cert.resident_code),
            _code("resident_code", cmd.resident_code or ""),
        ),
        "family_name": (cert.family_name, p.family_name),
        "given_name": (cert.given_name, p.given_name),
        "birth_date": (cert.birth_date, p.birth_date),
        "sex": (cert.sex, p.sex),
        "lg_code": (cert.lg_code, cmd.previous_lg_code),
        "address": (valid_address("move_out_certificate.address", cert.address), previous_address),
    }
    if cert.my_number and cmd.my_number:
        expected["my_number"] = (cert.my_number, cmd.my_number)
    for item, (on_certificate, notified) in expected.items():
        if on_certificate != notified:
            raise DomainRuleError(
                f"move_out_certificate.{item}",
                "certificate_mismatch",
                f"the move-out certificate's {item} differs from the move-in's",
                f"転出証明書の{_CERTIFICATE_ITEMS_JA[item]}が転入届の内容と一致しません",
            )
    if (
        cmd.move_out_certificate_number
        and cert.certificate_number != cmd.move_out_certificate_number
    ):
        raise DomainRuleError(
            "move_out_certificate.certificate_number",
            "certificate_mismatch",
            "the move-out certificate's number differs from the one given",
            "転出証明書の番号が一致しません",
        )


def _code(field: str, value: str) -> str:
    try:
        return ResidentCode.parse(value).value
    except ValidationError as exc:
        raise ValidationError(field, exc.rule, exc.message_en, exc.message_ja) from exc


def _card_move_out_info(uow: RegistryUnitOfWork, cmd: RecordMoveIn) -> AliasHistory:
    """転入届の特例: the old municipality's 転出証明書情報 must have arrived, for this person,
    and not have been withdrawn (転出取消); the 通称履歴 it carries goes on the new record."""
    code = ResidentCode.parse(cmd.resident_code or "").value
    previous = LgCode.parse(cmd.previous_lg_code or "").value
    info = uow.move_out_infos.take(code, previous)
    if info is None:
        withdrawn = uow.move_out_infos.withdrawn_on(code, previous)
        if withdrawn is not None:
            raise DomainRuleError(
                "resident_code",
                "move_out_withdrawn",
                f"{previous} withdrew this move-out on {withdrawn.isoformat()} (転出取消): "
                "the person is still its resident",
                f"転出元で{to_wareki(withdrawn)}に転出届が取り消されています"
                "（転出取消）。転入届の特例は受け付けられません。転出元に確認してください",
            )
        raise DomainRuleError(
            "resident_code",
            "move_out_info_missing",
            f"no move-out information from {previous} for this resident code has arrived",
            "転出元からの転出証明書情報が届いていません。転出届の状況を確認してください",
        )
    planned = info.get("planned_on")
    card_move_in_in_time(
        cmd.moved_on, cmd.notified_on, date.fromisoformat(planned) if planned else None
    )
    identity = info.get("identity", {})
    if (
        identity.get("birth_date") != cmd.person.birth_date.isoformat()
        or identity.get("my_number") != cmd.my_number
    ):
        raise DomainRuleError(
            "my_number",
            "move_out_info_mismatch",
            "the card holder does not match the move-out information",
            "転出証明書情報とカードの記録が一致しません",
        )
    return history_from_json(info.get("alias_history"))


def record_move_out(uow: RegistryUnitOfWork, by: Actor, cmd: RecordMoveOut) -> list[ResidentRecord]:
    """転出届: the records are removed (転出予定) as of the planned date."""

    def run(uow: RegistryUnitOfWork) -> list[ResidentRecord]:
        ids = distinct_ids("record_ids", cmd.record_ids)
        records = [active_record(uow, rid) for rid in ids]
        household_id = same_household(records)
        today = uow.clock.today()
        rules.not_in_future("notified_on", cmd.notified_on, today)
        if cmd.planned_on > cmd.notified_on + timedelta(days=MOVE_OUT_NOTICE_DAYS):
            raise ValidationError(
                "planned_on",
                "too_far_ahead",
                f"a move-out may be notified at most {MOVE_OUT_NOTICE_DAYS} days ahead",
                f"転出届は転出予定日の{MOVE_OUT_NOTICE_DAYS}日前から受け付けます",
            )
        for r in records:
            rules.not_before("planned_on", cmd.planned_on, r.birth_date, "birth date", "生年月日")
        destination = valid_address("destination_address", cmd.destination_address)
        if not cmd.abroad:
            rules.address_outside_municipality(
                "destination_address", destination, uow.municipality.address_prefix
            )
        reason = ChangeReason.EMIGRATION if cmd.abroad else ChangeReason.MOVE_OUT_PLANNED
        destination_lg = _card_destination(uow, cmd, records)
        batch = Batch(uow, by, cmd.planned_on, cmd.notified_on)
        rehead(batch, household_id, set(ids), cmd.new_householder_id, cmd.relationships)
        out = [
            batch.change(
                r,
                reason,
                status=RecordStatus.REMOVED,
                removal_reason=reason,
                removed_on=cmd.planned_on,
                move_out_planned_address=destination,
                move_out_planned_on=cmd.planned_on,
                card_move_out_lg_code=destination_lg,
            )
            for r in records
        ]
        for r in records:
            abolish_seal_of(uow, r.record_id, cmd.planned_on, reason.label_ja)
        batch.flush()
        if destination_lg is not None:
            for after in out:
                change = RecordChange(reason, cmd.planned_on, cmd.notified_on)
                info = move_out_certificate_info(
                    after, change, destination_address=destination, to_lg_code=destination_lg
                )
                uow.outbox.put(info, after.resident_code)
        return out

    return perform(uow, by, Permission.RECORD_MOVE_OUT, "records:" + ",".join(cmd.record_ids), run)


def _card_destination(
    uow: RegistryUnitOfWork, cmd: RecordMoveOut, records: Sequence[ResidentRecord]
) -> str | None:
    """転出届の特例 needs the destination municipality and every mover's working card (the
    card register: a my_number alone is not a card)."""
    if not cmd.card:
        return None
    if cmd.abroad:
        raise ValidationError(
            "card",
            "not_abroad",
            "a move abroad has no card-based special case",
            "国外転出には転出届の特例は使えません",
        )
    if cmd.destination_lg_code is None:
        raise ValidationError(
            "destination_lg_code",
            "required",
            "the destination municipality is required for a card-based move-out",
            "転出届の特例では転出先の市区町村を指定してください",
        )
    for r in records:
        if not uow.card_holders.holds_card(r.resident_code):
            raise DomainRuleError(
                "record_ids",
                "card_required",
                f"{r.record_id} holds no working card: use a move-out certificate",
                f"{r.full_name}さんは個人番号カードがないため、転出証明書を交付してください",
            )
    return LgCode.parse(cmd.destination_lg_code).value


def confirm_move_out(uow: RegistryUnitOfWork, by: Actor, cmd: ConfirmMoveOut) -> ResidentRecord:
    """転出確定: record where the person arrived, keeping what was planned. The latest wins."""

    def run(uow: RegistryUnitOfWork) -> ResidentRecord:
        code = ResidentCode.parse(cmd.resident_code).value
        candidates = [
            r
            for r in uow.registry.find_by_resident_code(code)
            if r.removal_reason is ChangeReason.MOVE_OUT_PLANNED
        ]
        if not candidates:
            raise NotFoundError("planned move-out", code)
        record = max(candidates, key=lambda r: (r.removed_on or date.min, r.record_id))
        rules.not_in_future("confirmed_on", cmd.confirmed_on, uow.clock.today())
        address = valid_address("confirmed_address", cmd.confirmed_address)
        batch = Batch(uow, by, cmd.confirmed_on, cmd.notified_on)
        after = batch.change(
            record,
            ChangeReason.MOVE_OUT_CONFIRMED,
            move_out_confirmed_address=address,
            move_out_confirmed_on=cmd.confirmed_on,
        )
        batch.flush()
        return after

    return perform(uow, by, Permission.CONFIRM_MOVE_OUT, f"resident_code:{cmd.resident_code}", run)
