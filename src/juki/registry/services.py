"""Life events as application services.

Each public function takes a unit of work, the actor (`by`) and a command; it authorises, changes
the registry, writes the oplog entry and, when identity_info changed, an outbox message — all in
one transaction (see `juki.security.actions.perform`). Records are never overwritten: every change
is appended to the record's history and the stored row is the fold of that history.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any, Final

from juki.core.errors import DomainRuleError, NotFoundError, ValidationError
from juki.core.identifiers import LgCode, MyNumber, ResidentCode
from juki.core.text import validate_kana, validate_name
from juki.registry import rules
from juki.registry.commands import (
    AbolishSeal,
    AssignMyNumber,
    ChangeHouseholder,
    ChangeName,
    ConfirmMoveOut,
    CorrectByAuthority,
    EnterByAuthority,
    JoinHousehold,
    MergeHouseholds,
    MoveInOrigin,
    PersonalItems,
    Placement,
    RecordBirth,
    RecordDeath,
    RecordMoveIn,
    RecordMoveOut,
    RecordRelocation,
    RegisterSeal,
    RemoveByAuthority,
    SplitHousehold,
)
from juki.registry.identity_info import identity_info_of, touches_identity_info
from juki.registry.model import (
    ChangeReason,
    Household,
    HouseholdStatus,
    RecordChange,
    RecordedChange,
    RecordStatus,
    Relationship,
    ResidentRecord,
    decode_fields,
    initial_fields,
)
from juki.registry.ports import SearchQuery, UnitOfWork
from juki.registry.seal import SealRegistration, SealStatus, validate_seal_image
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission

# What the registry hands its CS (the outbox is their whole interface; see juki.nodes.cs).
IDENTITY_INFO_CHANGED: Final = "identity_info_changed"
MOVE_IN_NOTICE: Final = "move_in_notice"
FUHYO_NOTICE: Final = "fuhyo_notice"
MOVE_OUT_CERTIFICATE_INFO: Final = "move_out_certificate_info"
MAX_ADDRESS_LEN: Final = 200
MOVE_OUT_NOTICE_DAYS: Final = 14  # 転出届は転出予定日の14日前から (運用)
MAX_RELATED_RECORDS: Final = 50


# -- the batch: every change of one action, checked together, written together ---------------


class _Batch:
    """Collects one action's changes so household rules are checked on the final state."""

    def __init__(self, uow: UnitOfWork, by: Actor, effective_on: date, notified_on: date) -> None:
        self.uow = uow
        self.by = by
        self.effective_on = effective_on
        self.notified_on = notified_on
        self.before: dict[str, ResidentRecord | None] = {}
        self.after: dict[str, ResidentRecord] = {}
        self.reason: dict[str, ChangeReason] = {}
        self.new_households: list[Household] = []
        self.touched_households: set[str] = set()
        self.note = ""

    def add(self, record: ResidentRecord, reason: ChangeReason) -> ResidentRecord:
        self.before[record.record_id] = None
        self.after[record.record_id] = record
        self.reason[record.record_id] = reason
        self.touched_households.add(record.household_id)
        return record

    def change(self, record: ResidentRecord, reason: ChangeReason, **fields: Any) -> ResidentRecord:
        current = self.after.get(record.record_id, record)
        if record.record_id not in self.before:
            self.before[record.record_id] = record
            self.reason[record.record_id] = reason
        after = dataclasses.replace(current, **fields)
        self.after[record.record_id] = after
        self.touched_households.update({record.household_id, after.household_id})
        return after

    def household(self, address: str) -> Household:
        household = Household(
            household_id=self.uow.ids.new_id(),
            lg_code=self.uow.municipality.lg_code,
            address=address,
            formed_on=self.effective_on,
        )
        self.new_households.append(household)
        return household

    def _final_members(self, household_id: str) -> dict[str, ResidentRecord]:
        members = {r.record_id: r for r in self.uow.registry.members(household_id)}
        for rid, after in self.after.items():
            if after.household_id == household_id and after.is_active:
                members[rid] = after
            else:
                members.pop(rid, None)
        return members

    def _current_identity(self, record: ResidentRecord) -> bool:
        """A removed record speaks for the person only while they have no active record here
        (someone who moved out and back keeps their resident code)."""
        if record.is_active:
            return True
        return not any(
            other.is_active and other.record_id != record.record_id
            for other in self.uow.registry.find_by_resident_code(record.resident_code)
        )

    def flush(self) -> list[ResidentRecord]:
        registry = self.uow.registry
        new_ids = {h.household_id for h in self.new_households}
        for household in self.new_households:
            registry.add_household(household)
        for household_id in sorted(self.touched_households):
            members = self._final_members(household_id)
            household = registry.get_household(household_id)
            if members:
                if household.status is HouseholdStatus.DISSOLVED:
                    raise DomainRuleError(
                        "household_id",
                        "dissolved_household",
                        f"household {household_id} is dissolved",
                        "消滅した世帯には入れません",
                    )
                rules.household_consistent(members.values())
            elif household.status is HouseholdStatus.ACTIVE and household_id not in new_ids:
                registry.save_household(
                    dataclasses.replace(
                        household,
                        status=HouseholdStatus.DISSOLVED,
                        dissolved_on=self.effective_on,
                    )
                )
        written: list[ResidentRecord] = []
        for rid, after in self.after.items():
            before = self.before[rid]
            reason = self.reason[rid]
            if before is None:
                change = RecordChange(
                    reason, self.effective_on, self.notified_on, initial_fields(after), self.note
                )
                registry.add_record(after, change, self.by.actor_id)
            else:
                fields = {
                    f.name: getattr(after, f.name)
                    for f in dataclasses.fields(after)
                    if getattr(after, f.name) != getattr(before, f.name)
                }
                if not fields:
                    continue
                change = RecordChange(
                    reason, self.effective_on, self.notified_on, fields, self.note
                )
                registry.append_change(after, change, self.by.actor_id)
            if touches_identity_info(before, change) and self._current_identity(after):
                info = identity_info_of(after, change)
                self.uow.outbox.put(IDENTITY_INFO_CHANGED, after.resident_code, info.to_payload())
            if _fuhyo_due(before, after, change):
                self.uow.outbox.put(
                    FUHYO_NOTICE, after.resident_code, _fuhyo_payload(after, change)
                )
            written.append(after)
        return written


_FUHYO_ITEMS: Final = ("address", "family_name", "given_name", "status", "honseki")


def _fuhyo_due(before: ResidentRecord | None, after: ResidentRecord, change: RecordChange) -> bool:
    """附票記載事項通知 (法第19条): address or name changes go to the 本籍 municipality."""
    if after.is_foreign or not after.honseki or not after.koseki_head:
        return False
    if change.reason is ChangeReason.MOVE_OUT_CONFIRMED:
        return False  # the new municipality notifies the new address
    if before is None:
        return True
    return any(getattr(before, k) != getattr(after, k) for k in _FUHYO_ITEMS)


def _fuhyo_payload(record: ResidentRecord, change: RecordChange) -> dict[str, Any]:
    return {
        "resident_code": record.resident_code,
        "family_name": record.family_name,
        "given_name": record.given_name,
        "family_name_kana": record.family_name_kana,
        "given_name_kana": record.given_name_kana,
        "birth_date": record.birth_date.isoformat(),
        "sex": record.sex.value,
        "honseki": record.honseki,
        "koseki_head": record.koseki_head,
        "address": record.address,
        "address_since": record.address_since.isoformat(),
        "status": record.status.value,
        "change_reason": change.reason.value,
        "changed_on": change.effective_on.isoformat(),
        "from_lg_code": record.lg_code,
    }


# -- validation of the items a person brings --------------------------------------------------


def _opt_name(field: str, value: str | None) -> str | None:
    return validate_name(field, value) if value else None


def _opt_kana(field: str, value: str | None) -> str | None:
    return validate_kana(field, value) if value else None


def _address(field: str, value: str) -> str:
    return validate_name(field, value, max_len=MAX_ADDRESS_LEN)


def _person_fields(person: PersonalItems, today: date) -> dict[str, Any]:
    rules.not_in_future("birth_date", person.birth_date, today)
    foreign = person.foreign
    rules.foreign_items(
        is_foreign=foreign is not None,
        nationality=foreign.nationality if foreign else None,
        foreign_category=foreign.category if foreign else None,
        honseki=person.honseki,
    )
    if bool(person.former_surname) != bool(person.former_surname_kana):
        raise ValidationError(
            "former_surname_kana",
            "pair_required",
            "a former surname needs its reading, and a reading its surname",
            "旧氏と旧氏の振り仮名は両方記載してください",
        )
    fields: dict[str, Any] = {
        "family_name": validate_name("family_name", person.family_name),
        "given_name": validate_name("given_name", person.given_name),
        "family_name_kana": validate_kana("family_name_kana", person.family_name_kana),
        "given_name_kana": validate_kana("given_name_kana", person.given_name_kana),
        "birth_date": person.birth_date,
        "sex": person.sex,
        "honseki": _opt_name("honseki", person.honseki),
        "koseki_head": _opt_name("koseki_head", person.koseki_head),
        "former_surname": _opt_name("former_surname", person.former_surname),
        "former_surname_kana": _opt_kana("former_surname_kana", person.former_surname_kana),
        "is_foreign": foreign is not None,
    }
    if foreign is not None:
        fields.update(
            nationality=validate_name("nationality", foreign.nationality),
            foreign_category=foreign.category,
            residence_status=_opt_name("residence_status", foreign.residence_status),
            period_of_stay=_opt_name("period_of_stay", foreign.period_of_stay),
            stay_expiry=foreign.stay_expiry,
            residence_card_number=_residence_card(foreign.residence_card_number),
            alias_name=_opt_name("alias_name", foreign.alias_name),
            alias_name_kana=_opt_kana("alias_name_kana", foreign.alias_name_kana),
        )
    return fields


def _residence_card(value: str | None) -> str | None:
    """在留カード番号: two letters, eight digits, two letters (e.g. AB12345678CD)."""
    if not value:
        return None
    v = value.strip().upper()
    ok = (
        len(v) == 12
        and v[:2].isascii()
        and v[:2].isalpha()
        and v[2:10].isascii()
        and v[2:10].isdigit()
        and v[10:].isascii()
        and v[10:].isalpha()
    )
    if not ok:
        raise ValidationError(
            "residence_card_number",
            "format",
            "a residence-card number is 2 letters, 8 digits, 2 letters (AB12345678CD)",
            "在留カード等の番号は英字2桁・数字8桁・英字2桁です（例: AB12345678CD）",
        )
    return v


def _record_or_404(uow: UnitOfWork, record_id: str) -> ResidentRecord:
    return uow.registry.get(record_id)


def _active(uow: UnitOfWork, record_id: str) -> ResidentRecord:
    record = _record_or_404(uow, record_id)
    if not record.is_active:
        raise DomainRuleError(
            "record_id",
            "removed_record",
            f"record {record_id} is removed (除票); no further events on it",
            "消除された住民票（除票）には異動を記録できません",
        )
    return record


def _active_household(uow: UnitOfWork, household_id: str) -> Household:
    household = uow.registry.get_household(household_id)
    if household.status is not HouseholdStatus.ACTIVE:
        raise DomainRuleError(
            "household_id",
            "dissolved_household",
            f"household {household_id} is dissolved",
            "消滅した世帯です",
        )
    return household


def _ids(field: str, ids: Sequence[str]) -> tuple[str, ...]:
    if not ids:
        raise ValidationError(
            field, "required", "at least one record is required", "対象者を選択してください"
        )
    if len(ids) > MAX_RELATED_RECORDS or len(set(ids)) != len(ids):
        raise ValidationError(
            field, "distinct", "record ids must be distinct (at most 50)", "対象者が重複しています"
        )
    return tuple(ids)


def _same_household(records: Iterable[ResidentRecord]) -> str:
    households = {r.household_id for r in records}
    if len(households) != 1:
        raise DomainRuleError(
            "record_ids",
            "same_household",
            "all records of one notification must belong to one household",
            "同一の届出の対象者は同じ世帯に属していなければなりません",
        )
    return households.pop()


def _relationship_for(
    relationships: Mapping[str, Relationship], record: ResidentRecord
) -> Relationship:
    try:
        return relationships[record.record_id]
    except KeyError:
        raise ValidationError(
            "relationships",
            "required",
            f"the relationship of {record.record_id} ({record.full_name}) is required",
            f"{record.full_name}さんの続柄を指定してください",
        ) from None


def _rehead(
    batch: _Batch,
    household_id: str,
    leaving: set[str],
    new_head_id: str | None,
    relationships: Mapping[str, Relationship],
    field: str = "new_householder_id",
) -> None:
    """When the householder leaves, the remaining members need a householder (世帯主変更)."""
    members = batch.uow.registry.members(household_id)
    remaining = [m for m in members if m.record_id not in leaving]
    head_leaves = any(
        m.relationship is Relationship.HOUSEHOLDER for m in members if m.record_id in leaving
    )
    if not remaining or not head_leaves:
        if new_head_id is not None:
            raise ValidationError(
                field,
                "not_needed",
                "the householder stays, so no new householder is needed",
                "世帯主は変わらないため、新しい世帯主の指定は不要です",
            )
        return
    if new_head_id is None:
        if len(remaining) > 1:
            raise ValidationError(
                field,
                "required",
                "the householder leaves: name the new householder of the remaining members",
                "世帯主が抜けるため、残る世帯の新しい世帯主を指定してください",
            )
        new_head_id = remaining[0].record_id
    heads = [m for m in remaining if m.record_id == new_head_id]
    if not heads:
        raise DomainRuleError(
            field,
            "not_a_remaining_member",
            f"{new_head_id} is not a remaining member of household {household_id}",
            "新しい世帯主は残る世帯員から選んでください",
        )
    for m in remaining:
        rel = (
            Relationship.HOUSEHOLDER
            if m.record_id == new_head_id
            else _relationship_for(relationships, m)
        )
        batch.change(m, ChangeReason.HOUSEHOLD_CHANGE, relationship=rel)


def _place(batch: _Batch, placement: Placement, address: str) -> tuple[str, Relationship]:
    if isinstance(placement, JoinHousehold):
        household = _active_household(batch.uow, placement.household_id)
        if household.address != address:
            raise DomainRuleError(
                "placement.household_id",
                "address_mismatch",
                "a person can only join a household at the same address",
                "異なる住所の世帯には加入できません",
            )
        if placement.relationship is Relationship.HOUSEHOLDER:
            raise DomainRuleError(
                "placement.relationship",
                "one_householder",
                "the household already has a householder; use a change of householder",
                "既存の世帯には世帯主がいます。世帯主変更届で変更してください",
            )
        return household.household_id, placement.relationship
    return batch.household(address).household_id, Relationship.HOUSEHOLDER


def _abolish_seal_of(uow: UnitOfWork, record_id: str, on: date, reason: str) -> None:
    """死亡・転出・消除で印鑑登録は職権で廃止される."""
    seal = uow.seals.live_for(record_id)
    if seal is not None:
        uow.seals.save(
            dataclasses.replace(
                seal, status=SealStatus.ABOLISHED, abolished_on=on, abolish_reason=reason
            )
        )


def _unused_resident_code(uow: UnitOfWork, code: str | None) -> str:
    if code is None:
        return uow.registry.allot_resident_code()
    parsed = ResidentCode.parse(code).value
    if any(r.is_active for r in uow.registry.find_by_resident_code(parsed)):
        raise DomainRuleError(
            "resident_code",
            "already_resident",
            f"resident code {parsed} already belongs to an active record here",
            "この住民票コードの住民票は既に当市区町村にあります",
        )
    return parsed


def _unused_my_number(
    uow: UnitOfWork, number: str | None, record_id: str | None = None
) -> str | None:
    if number is None:
        return None
    parsed = MyNumber.parse(number).value
    if any(
        r.is_active and r.record_id != record_id for r in uow.registry.find_by_my_number(parsed)
    ):
        raise DomainRuleError(
            "my_number",
            "duplicate",
            "this my_number belongs to another active record",
            "この個人番号は他の住民の個人番号です",
        )
    return parsed


def _new_record(
    batch: _Batch,
    person: PersonalItems,
    *,
    placement: Placement | tuple[str, Relationship],
    address: str,
    resident_since: date,
    notified_on: date | None,
    previous_address: str | None,
    resident_code: str | None,
    my_number: str | None,
    reason: ChangeReason,
) -> ResidentRecord:
    uow = batch.uow
    fields = _person_fields(person, uow.clock.today())
    if isinstance(placement, tuple):
        household_id, relationship = placement
    else:
        household_id, relationship = _place(batch, placement, address)
    record = ResidentRecord(
        record_id=uow.ids.new_id(),
        lg_code=uow.municipality.lg_code,
        resident_code=_unused_resident_code(uow, resident_code),
        my_number=_unused_my_number(uow, my_number),
        household_id=household_id,
        relationship=relationship,
        resident_since=resident_since,
        address=address,
        address_since=resident_since,
        notified_on=notified_on,
        previous_address=previous_address,
        **fields,
    )
    return batch.add(record, reason)


# -- life events ----------------------------------------------------------------------------


def record_birth(uow: UnitOfWork, by: Actor, cmd: RecordBirth) -> ResidentRecord:
    def run(uow: UnitOfWork) -> ResidentRecord:
        today = uow.clock.today()
        rules.not_in_future("birth_date", cmd.person.birth_date, today)
        rules.event_dates(cmd.person.birth_date, cmd.notified_on, today, cmd.person.birth_date)
        household = _active_household(uow, cmd.household_id)
        if cmd.relationship is Relationship.HOUSEHOLDER and uow.registry.members(
            household.household_id
        ):
            raise DomainRuleError(
                "relationship",
                "one_householder",
                "a newborn cannot be householder of a household that has one",
                "出生子を既存世帯の世帯主とすることはできません",
            )
        batch = _Batch(uow, by, cmd.person.birth_date, cmd.notified_on)
        record = _new_record(
            batch,
            cmd.person,
            placement=(household.household_id, cmd.relationship),
            address=household.address,
            resident_since=cmd.person.birth_date,
            notified_on=cmd.notified_on,
            previous_address=None,
            resident_code=None,
            my_number=None,
            reason=ChangeReason.BIRTH,
        )
        batch.flush()
        return record

    return perform(
        uow, by, Permission.RECORD_BIRTH, f"household:{cmd.household_id}", run, describe=_rid
    )


def record_death(uow: UnitOfWork, by: Actor, cmd: RecordDeath) -> ResidentRecord:
    def run(uow: UnitOfWork) -> ResidentRecord:
        record = _active(uow, cmd.record_id)
        rules.event_dates(cmd.died_on, cmd.notified_on, uow.clock.today(), record.birth_date)
        batch = _Batch(uow, by, cmd.died_on, cmd.notified_on)
        _rehead(
            batch,
            record.household_id,
            {record.record_id},
            cmd.new_householder_id,
            cmd.relationships,
        )
        after = batch.change(
            record,
            ChangeReason.DEATH,
            status=RecordStatus.REMOVED,
            removal_reason=ChangeReason.DEATH,
            removed_on=cmd.died_on,
        )
        _abolish_seal_of(uow, record.record_id, cmd.died_on, "死亡")
        batch.flush()
        return after

    return perform(uow, by, Permission.RECORD_DEATH, f"record:{cmd.record_id}", run)


def record_move_in(uow: UnitOfWork, by: Actor, cmd: RecordMoveIn) -> ResidentRecord:
    """転入 (with 転出証明書 or the card-based special case) and 国外転入."""

    def run(uow: UnitOfWork) -> ResidentRecord:
        today = uow.clock.today()
        rules.not_in_future("birth_date", cmd.person.birth_date, today)
        rules.event_dates(cmd.moved_on, cmd.notified_on, today, cmd.person.birth_date)
        prefix = uow.municipality.address_prefix
        address = _address("address", cmd.address)
        rules.address_in_municipality("address", address, prefix)
        previous = _address("previous_address", cmd.previous_address)
        if cmd.origin is MoveInOrigin.ABROAD:
            reason = ChangeReason.IMMIGRATION
        else:
            reason = ChangeReason.MOVE_IN
            rules.address_outside_municipality("previous_address", previous, prefix)
            _require(cmd.resident_code, "resident_code", "住民票コード")
            if cmd.previous_lg_code is None:
                raise ValidationError(
                    "previous_lg_code",
                    "required",
                    "the previous municipality is required",
                    "転出元の市区町村を指定してください",
                )
            if cmd.origin is MoveInOrigin.CERTIFICATE:
                _require(
                    cmd.move_out_certificate_number,
                    "move_out_certificate_number",
                    "転出証明書の番号",
                )
            else:
                _require(cmd.my_number, "my_number", "個人番号（転入届の特例にはカードが必要）")
                _card_move_out_info(uow, cmd)
        batch = _Batch(uow, by, cmd.moved_on, cmd.notified_on)
        record = _new_record(
            batch,
            cmd.person,
            placement=cmd.placement,
            address=address,
            resident_since=cmd.moved_on,
            notified_on=cmd.notified_on,
            previous_address=previous,
            resident_code=cmd.resident_code,
            my_number=cmd.my_number,
            reason=reason,
        )
        batch.note = cmd.origin.value
        batch.flush()
        if reason is ChangeReason.MOVE_IN and cmd.previous_lg_code:
            uow.outbox.put(
                MOVE_IN_NOTICE,
                record.resident_code,
                {
                    "resident_code": record.resident_code,
                    "new_address": record.address,
                    "moved_on": cmd.moved_on.isoformat(),
                    "notified_on": cmd.notified_on.isoformat(),
                    "from_lg_code": cmd.previous_lg_code,
                    "to_lg_code": uow.municipality.lg_code,
                },
            )
        return record

    return perform(uow, by, Permission.RECORD_MOVE_IN, "move_in", run, describe=_rid)


def _card_move_out_info(uow: UnitOfWork, cmd: RecordMoveIn) -> None:
    """転入届の特例: the old municipality's 転出証明書情報 must have arrived, for this person."""
    code = ResidentCode.parse(cmd.resident_code or "").value
    previous = LgCode.parse(cmd.previous_lg_code or "").value
    info = uow.move_out_infos.take(code, previous)
    if info is None:
        raise DomainRuleError(
            "resident_code",
            "move_out_info_missing",
            f"no move-out information from {previous} for this resident code has arrived",
            "転出元からの転出証明書情報が届いていません。転出届の状況を確認してください",
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


def _require(value: object | None, field: str, what_ja: str) -> None:
    if not value:
        raise ValidationError(field, "required", f"{field} is required", f"{what_ja}が必要です")


def record_move_out(uow: UnitOfWork, by: Actor, cmd: RecordMoveOut) -> list[ResidentRecord]:
    """転出届: the records are removed (転出予定) as of the planned date."""

    def run(uow: UnitOfWork) -> list[ResidentRecord]:
        ids = _ids("record_ids", cmd.record_ids)
        records = [_active(uow, rid) for rid in ids]
        household_id = _same_household(records)
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
        destination = _address("destination_address", cmd.destination_address)
        if not cmd.abroad:
            rules.address_outside_municipality(
                "destination_address", destination, uow.municipality.address_prefix
            )
        reason = ChangeReason.EMIGRATION if cmd.abroad else ChangeReason.MOVE_OUT_PLANNED
        destination_lg = _card_destination(cmd, records)
        batch = _Batch(uow, by, cmd.planned_on, cmd.notified_on)
        _rehead(batch, household_id, set(ids), cmd.new_householder_id, cmd.relationships)
        out = [
            batch.change(
                r,
                reason,
                status=RecordStatus.REMOVED,
                removal_reason=reason,
                removed_on=cmd.planned_on,
                move_out_planned_address=destination,
                move_out_planned_on=cmd.planned_on,
            )
            for r in records
        ]
        for r in records:
            _abolish_seal_of(uow, r.record_id, cmd.planned_on, reason.label_ja)
        batch.flush()
        if destination_lg is not None:
            for after in out:
                change = RecordChange(reason, cmd.planned_on, cmd.notified_on)
                uow.outbox.put(
                    MOVE_OUT_CERTIFICATE_INFO,
                    after.resident_code,
                    {
                        "identity": identity_info_of(after, change).to_payload(),
                        "destination_address": destination,
                        "planned_on": cmd.planned_on.isoformat(),
                        "from_lg_code": uow.municipality.lg_code,
                        "to_lg_code": destination_lg,
                    },
                )
        return out

    return perform(uow, by, Permission.RECORD_MOVE_OUT, "records:" + ",".join(cmd.record_ids), run)


def _card_destination(cmd: RecordMoveOut, records: Sequence[ResidentRecord]) -> str | None:
    """転出届の特例 needs the destination municipality and every mover's my_number."""
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
        if r.my_number is None:
            raise DomainRuleError(
                "record_ids",
                "card_required",
                f"{r.record_id} has no my_number, so no card: use a move-out certificate",
                f"{r.full_name}さんは個人番号カードがないため、転出証明書を交付してください",
            )
    return LgCode.parse(cmd.destination_lg_code).value


def confirm_move_out(uow: UnitOfWork, by: Actor, cmd: ConfirmMoveOut) -> ResidentRecord:
    """転出確定: record where the person arrived, keeping what was planned. The latest wins."""

    def run(uow: UnitOfWork) -> ResidentRecord:
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
        address = _address("confirmed_address", cmd.confirmed_address)
        batch = _Batch(uow, by, cmd.confirmed_on, cmd.notified_on)
        after = batch.change(
            record,
            ChangeReason.MOVE_OUT_CONFIRMED,
            move_out_confirmed_address=address,
            move_out_confirmed_on=cmd.confirmed_on,
        )
        batch.flush()
        return after

    return perform(uow, by, Permission.CONFIRM_MOVE_OUT, f"resident_code:{cmd.resident_code}", run)


def record_relocation(uow: UnitOfWork, by: Actor, cmd: RecordRelocation) -> list[ResidentRecord]:
    """転居 within the municipality, of a whole household or of some of its members."""

    def run(uow: UnitOfWork) -> list[ResidentRecord]:
        ids = _ids("record_ids", cmd.record_ids)
        records = [_active(uow, rid) for rid in ids]
        household_id = _same_household(records)
        for r in records:
            rules.event_dates(cmd.moved_on, cmd.notified_on, uow.clock.today(), r.birth_date)
        address = _address("new_address", cmd.new_address)
        rules.address_in_municipality("new_address", address, uow.municipality.address_prefix)
        household = _active_household(uow, household_id)
        if address == household.address:
            raise DomainRuleError(
                "new_address",
                "same_address",
                "the new address is the current one",
                "現住所と同じ住所です",
            )
        members = uow.registry.members(household_id)
        whole = {m.record_id for m in members} == set(ids)
        batch = _Batch(uow, by, cmd.moved_on, cmd.notified_on)
        if whole and cmd.new_householder_id is None and cmd.join_household_id is None:
            uow.registry.save_household(dataclasses.replace(household, address=address))
            out = [
                batch.change(
                    r, ChangeReason.RELOCATION, address=address, address_since=cmd.moved_on
                )
                for r in records
            ]
            batch.flush()
            return out
        if (cmd.new_householder_id is None) == (cmd.join_household_id is None):
            raise ValidationError(
                "new_householder_id",
                "placement_required",
                "moving part of a household: give either new_householder_id or join_household_id",
                "世帯の一部の転居では、新しい世帯主か加入する世帯のどちらかを指定してください",
            )
        if not whole:
            _rehead(
                batch,
                household_id,
                set(ids),
                cmd.remaining_householder_id,
                cmd.relationships,
                field="remaining_householder_id",
            )
        if cmd.join_household_id is not None:
            target = _active_household(uow, cmd.join_household_id)
            if target.address != address:
                raise DomainRuleError(
                    "join_household_id",
                    "address_mismatch",
                    "the household to join is not at the new address",
                    "加入する世帯の住所が転居先と異なります",
                )
            new_household_id = target.household_id
        else:
            if cmd.new_householder_id not in ids:
                raise DomainRuleError(
                    "new_householder_id",
                    "not_a_mover",
                    "the new householder must be one of the members moving",
                    "新しい世帯主は転居する方から選んでください",
                )
            new_household_id = batch.household(address).household_id
        out = []
        for r in records:
            rel = (
                Relationship.HOUSEHOLDER
                if r.record_id == cmd.new_householder_id
                else _relationship_for(cmd.relationships, r)
            )
            out.append(
                batch.change(
                    r,
                    ChangeReason.RELOCATION,
                    address=address,
                    address_since=cmd.moved_on,
                    household_id=new_household_id,
                    relationship=rel,
                )
            )
        batch.flush()
        return out

    return perform(
        uow, by, Permission.RECORD_RELOCATION, "records:" + ",".join(cmd.record_ids), run
    )


def split_household(uow: UnitOfWork, by: Actor, cmd: SplitHousehold) -> list[ResidentRecord]:
    """世帯分離: some members form a new household at the same address."""

    def run(uow: UnitOfWork) -> list[ResidentRecord]:
        ids = _ids("record_ids", cmd.record_ids)
        records = [_active(uow, rid) for rid in ids]
        household_id = _same_household(records)
        household = _active_household(uow, household_id)
        for r in records:
            rules.event_dates(cmd.effective_on, cmd.notified_on, uow.clock.today(), r.birth_date)
        if {m.record_id for m in uow.registry.members(household_id)} == set(ids):
            raise DomainRuleError(
                "record_ids",
                "whole_household",
                "splitting off every member leaves nothing to split from",
                "世帯全員を分離することはできません",
            )
        if cmd.new_householder_id not in ids:
            raise DomainRuleError(
                "new_householder_id",
                "not_a_leaver",
                "the new householder must be one of the members splitting off",
                "新しい世帯主は分離する方から選んでください",
            )
        batch = _Batch(uow, by, cmd.effective_on, cmd.notified_on)
        _rehead(
            batch,
            household_id,
            set(ids),
            cmd.remaining_householder_id,
            cmd.relationships,
            field="remaining_householder_id",
        )
        new = batch.household(household.address)
        out = [
            batch.change(
                r,
                ChangeReason.HOUSEHOLD_CHANGE,
                household_id=new.household_id,
                relationship=Relationship.HOUSEHOLDER
                if r.record_id == cmd.new_householder_id
                else _relationship_for(cmd.relationships, r),
            )
            for r in records
        ]
        batch.flush()
        return out

    return perform(uow, by, Permission.CHANGE_HOUSEHOLD, f"household:{_first(cmd.record_ids)}", run)


def merge_households(uow: UnitOfWork, by: Actor, cmd: MergeHouseholds) -> list[ResidentRecord]:
    """世帯合併: every member of one household joins another at the same address."""

    def run(uow: UnitOfWork) -> list[ResidentRecord]:
        if cmd.from_household_id == cmd.into_household_id:
            raise ValidationError(
                "into_household_id",
                "same_household",
                "a household cannot merge into itself",
                "同じ世帯どうしは合併できません",
            )
        source = _active_household(uow, cmd.from_household_id)
        target = _active_household(uow, cmd.into_household_id)
        if source.address != target.address:
            raise DomainRuleError(
                "into_household_id",
                "address_mismatch",
                "households can merge only at the same address (otherwise it is a relocation)",
                "住所の異なる世帯は合併できません（転居届となります）",
            )
        members = uow.registry.members(source.household_id)
        batch = _Batch(uow, by, cmd.effective_on, cmd.notified_on)
        out = []
        for m in members:
            rules.event_dates(cmd.effective_on, cmd.notified_on, uow.clock.today(), m.birth_date)
            out.append(
                batch.change(
                    m,
                    ChangeReason.HOUSEHOLD_CHANGE,
                    household_id=target.household_id,
                    relationship=_relationship_for(cmd.relationships, m),
                )
            )
        batch.flush()
        return out

    return perform(uow, by, Permission.CHANGE_HOUSEHOLD, f"household:{cmd.from_household_id}", run)


def change_householder(uow: UnitOfWork, by: Actor, cmd: ChangeHouseholder) -> list[ResidentRecord]:
    """世帯主変更: every member's relationship is restated against the new householder."""

    def run(uow: UnitOfWork) -> list[ResidentRecord]:
        _active_household(uow, cmd.household_id)
        members = uow.registry.members(cmd.household_id)
        if cmd.new_householder_id not in {m.record_id for m in members}:
            raise DomainRuleError(
                "new_householder_id",
                "not_a_member",
                "the new householder must be a member of the household",
                "新しい世帯主は世帯員から選んでください",
            )
        batch = _Batch(uow, by, cmd.effective_on, cmd.notified_on)
        for m in members:
            rules.event_dates(cmd.effective_on, cmd.notified_on, uow.clock.today(), m.birth_date)
            rel = (
                Relationship.HOUSEHOLDER
                if m.record_id == cmd.new_householder_id
                else _relationship_for(cmd.relationships, m)
            )
            batch.change(m, ChangeReason.HOUSEHOLD_CHANGE, relationship=rel)
        return batch.flush()

    return perform(uow, by, Permission.CHANGE_HOUSEHOLD, f"household:{cmd.household_id}", run)


def change_name(uow: UnitOfWork, by: Actor, cmd: ChangeName) -> ResidentRecord:
    def run(uow: UnitOfWork) -> ResidentRecord:
        record = _active(uow, cmd.record_id)
        rules.event_dates(cmd.effective_on, cmd.notified_on, uow.clock.today(), record.birth_date)
        fields: dict[str, Any] = {
            "family_name": validate_name("family_name", cmd.family_name),
            "given_name": validate_name("given_name", cmd.given_name),
            "family_name_kana": validate_kana("family_name_kana", cmd.family_name_kana),
            "given_name_kana": validate_kana("given_name_kana", cmd.given_name_kana),
        }
        if cmd.former_surname is not None:
            fields["former_surname"] = validate_name("former_surname", cmd.former_surname)
            fields["former_surname_kana"] = validate_kana(
                "former_surname_kana", cmd.former_surname_kana or ""
            )
        if all(getattr(record, k) == v for k, v in fields.items()):
            raise DomainRuleError(
                "family_name",
                "no_change",
                "the new name is the current name",
                "現在の氏名と同じです",
            )
        batch = _Batch(uow, by, cmd.effective_on, cmd.notified_on)
        after = batch.change(record, ChangeReason.NAME_CHANGE, **fields)
        batch.flush()
        return after

    return perform(uow, by, Permission.CHANGE_NAME, f"record:{cmd.record_id}", run)


def enter_by_authority(uow: UnitOfWork, by: Actor, cmd: EnterByAuthority) -> ResidentRecord:
    """職権記載."""

    def run(uow: UnitOfWork) -> ResidentRecord:
        today = uow.clock.today()
        rules.not_in_future("birth_date", cmd.person.birth_date, today)
        rules.event_dates(cmd.resident_since, today, today, cmd.person.birth_date)
        address = _address("address", cmd.address)
        rules.address_in_municipality("address", address, uow.municipality.address_prefix)
        _require(cmd.note.strip(), "note", "職権記載の理由")
        batch = _Batch(uow, by, cmd.resident_since, today)
        batch.note = cmd.note.strip()[:500]
        record = _new_record(
            batch,
            cmd.person,
            placement=cmd.placement,
            address=address,
            resident_since=cmd.resident_since,
            notified_on=None,
            previous_address=None,
            resident_code=cmd.resident_code,
            my_number=cmd.my_number,
            reason=ChangeReason.ENTRY_BY_AUTHORITY,
        )
        batch.flush()
        return record

    return perform(uow, by, Permission.ENTER_BY_AUTHORITY, "entry_by_authority", run, describe=_rid)


# Items changed only through their own events: identity, lifecycle and household membership.
NOT_CORRECTABLE: Final = frozenset(
    {
        "record_id",
        "lg_code",
        "resident_code",
        "my_number",
        "status",
        "removal_reason",
        "removed_on",
        "household_id",
        "relationship",
    }
)
_NAME_FIELDS: Final = frozenset(
    {
        "family_name",
        "given_name",
        "former_surname",
        "honseki",
        "koseki_head",
        "nationality",
        "alias_name",
        "residence_status",
        "period_of_stay",
        "national_pension_category",
    }
)
_KANA_FIELDS: Final = frozenset(
    {"family_name_kana", "given_name_kana", "former_surname_kana", "alias_name_kana"}
)
_ADDRESS_FIELDS: Final = frozenset(
    {"address", "previous_address", "move_out_planned_address", "move_out_confirmed_address"}
)


def correct_by_authority(uow: UnitOfWork, by: Actor, cmd: CorrectByAuthority) -> ResidentRecord:
    """職権修正: set record items that were recorded wrongly; removed records included."""

    def run(uow: UnitOfWork) -> ResidentRecord:
        record = _record_or_404(uow, cmd.record_id)
        today = uow.clock.today()
        rules.not_in_future("effective_on", cmd.effective_on, today)
        _require(cmd.note.strip(), "note", "職権修正の理由")
        if not cmd.fields:
            raise ValidationError(
                "fields", "required", "nothing to correct", "修正する項目を指定してください"
            )
        fixed = sorted(set(cmd.fields) & NOT_CORRECTABLE)
        unknown = sorted(set(cmd.fields) - set(initial_fields(record)))
        if unknown or fixed:
            bad = (unknown or fixed)[0]
            raise ValidationError(
                f"fields.{bad}",
                "unknown_field" if unknown else "not_correctable",
                f"{bad} cannot be corrected here",
                f"項目「{bad}」は職権修正できません",
            )
        try:
            values = decode_fields(cmd.fields)
        except (ValueError, TypeError) as exc:
            raise ValidationError(
                "fields", "type", f"a value has the wrong type: {exc}", "値の形式が正しくありません"
            ) from exc
        for name, value in values.items():
            if value is None:
                continue
            if name in _NAME_FIELDS:
                values[name] = validate_name(f"fields.{name}", value)
            elif name in _KANA_FIELDS:
                values[name] = validate_kana(f"fields.{name}", value)
            elif name in _ADDRESS_FIELDS:
                values[name] = _address(f"fields.{name}", value)
            elif isinstance(value, date):
                rules.not_in_future(
                    f"fields.{name}", value, today
                ) if name != "stay_expiry" else None
        after_candidate = dataclasses.replace(record, **values)
        rules.foreign_items(
            is_foreign=after_candidate.is_foreign,
            nationality=after_candidate.nationality,
            foreign_category=after_candidate.foreign_category,
            honseki=after_candidate.honseki,
        )
        if after_candidate == record:
            raise DomainRuleError(
                "fields", "no_change", "the values are the current ones", "現在の記載と同じです"
            )
        batch = _Batch(uow, by, cmd.effective_on, today)
        batch.note = cmd.note.strip()[:500]
        after = batch.change(record, ChangeReason.CORRECTION_BY_AUTHORITY, **values)
        batch.flush()
        return after

    return perform(uow, by, Permission.CORRECT_BY_AUTHORITY, f"record:{cmd.record_id}", run)


def remove_by_authority(uow: UnitOfWork, by: Actor, cmd: RemoveByAuthority) -> ResidentRecord:
    """職権消除."""

    def run(uow: UnitOfWork) -> ResidentRecord:
        record = _active(uow, cmd.record_id)
        today = uow.clock.today()
        rules.event_dates(cmd.removed_on, today, today, record.birth_date)
        _require(cmd.note.strip(), "note", "職権消除の理由")
        batch = _Batch(uow, by, cmd.removed_on, today)
        batch.note = cmd.note.strip()[:500]
        _rehead(
            batch,
            record.household_id,
            {record.record_id},
            cmd.new_householder_id,
            cmd.relationships,
        )
        after = batch.change(
            record,
            ChangeReason.REMOVAL_BY_AUTHORITY,
            status=RecordStatus.REMOVED,
            removal_reason=ChangeReason.REMOVAL_BY_AUTHORITY,
            removed_on=cmd.removed_on,
        )
        _abolish_seal_of(uow, record.record_id, cmd.removed_on, "職権消除")
        batch.flush()
        return after

    return perform(uow, by, Permission.REMOVE_BY_AUTHORITY, f"record:{cmd.record_id}", run)


def assign_my_number(uow: UnitOfWork, by: Actor, cmd: AssignMyNumber) -> ResidentRecord:
    """Record the my_number the national node generated for this resident."""

    def run(uow: UnitOfWork) -> ResidentRecord:
        record = _active(uow, cmd.record_id)
        number = _unused_my_number(uow, cmd.my_number, record.record_id)
        if record.my_number is not None and record.my_number != number:
            raise DomainRuleError(
                "my_number",
                "already_assigned",
                "this resident already has a my_number",
                "この方には既に個人番号が指定されています",
            )
        today = uow.clock.today()
        batch = _Batch(uow, by, today, today)
        after = batch.change(record, ChangeReason.MY_NUMBER_ASSIGNED, my_number=number)
        batch.flush()
        return after

    return perform(uow, by, Permission.ASSIGN_MY_NUMBER, f"record:{cmd.record_id}", run)


# -- seal registration ---------------------------------------------------------------------


def register_seal(uow: UnitOfWork, by: Actor, cmd: RegisterSeal) -> SealRegistration:
    def run(uow: UnitOfWork) -> SealRegistration:
        record = _active(uow, cmd.record_id)
        rules.not_in_future("registered_on", cmd.registered_on, uow.clock.today())
        rules.seal_age(record, cmd.registered_on)
        digest = validate_seal_image(cmd.image_png)
        if uow.seals.live_for(record.record_id) is not None:
            raise DomainRuleError(
                "record_id",
                "one_seal",
                "this resident already has a registered seal; abolish it first",
                "既に印鑑登録があります。廃止してから登録してください",
            )
        seal = SealRegistration(
            registration_number=uow.seals.next_number(),
            record_id=record.record_id,
            image_png=cmd.image_png,
            image_sha256=digest,
            registered_on=cmd.registered_on,
        )
        uow.seals.add(seal)
        return seal

    return perform(
        uow,
        by,
        Permission.REGISTER_SEAL,
        f"record:{cmd.record_id}",
        run,
        describe=lambda s: f"seal:{s.registration_number}",
    )


def abolish_seal(uow: UnitOfWork, by: Actor, cmd: AbolishSeal) -> SealRegistration:
    def run(uow: UnitOfWork) -> SealRegistration:
        seal = uow.seals.get(cmd.registration_number)
        if not seal.is_live:
            raise DomainRuleError(
                "registration_number",
                "already_abolished",
                "this seal registration is already abolished",
                "この印鑑登録は既に廃止されています",
            )
        rules.not_in_future("abolished_on", cmd.abolished_on, uow.clock.today())
        rules.not_before(
            "abolished_on", cmd.abolished_on, seal.registered_on, "registration date", "登録日"
        )
        _require(cmd.reason.strip(), "reason", "廃止の理由")
        after = dataclasses.replace(
            seal,
            status=SealStatus.ABOLISHED,
            abolished_on=cmd.abolished_on,
            abolish_reason=cmd.reason.strip()[:200],
        )
        uow.seals.save(after)
        return after

    return perform(uow, by, Permission.ABOLISH_SEAL, f"seal:{cmd.registration_number}", run)


def live_seal(uow: UnitOfWork, by: Actor, record_id: str) -> SealRegistration | None:
    return perform(
        uow, by, Permission.VIEW_SEAL, f"record:{record_id}", lambda u: u.seals.live_for(record_id)
    )


# -- reads (also logged: who looked at whom is part of the operation history) ---------------


def get_record(uow: UnitOfWork, by: Actor, record_id: str) -> ResidentRecord:
    return perform(
        uow, by, Permission.VIEW_RECORD, f"record:{record_id}", lambda u: u.registry.get(record_id)
    )


def record_history(uow: UnitOfWork, by: Actor, record_id: str) -> Sequence[RecordedChange]:
    def run(u: UnitOfWork) -> Sequence[RecordedChange]:
        u.registry.get(record_id)
        return u.registry.history(record_id)

    return perform(uow, by, Permission.VIEW_RECORD, f"record:{record_id}", run)


def household_view(
    uow: UnitOfWork, by: Actor, household_id: str
) -> tuple[Household, Sequence[ResidentRecord]]:
    def run(u: UnitOfWork) -> tuple[Household, Sequence[ResidentRecord]]:
        return u.registry.get_household(household_id), u.registry.members(household_id)

    return perform(uow, by, Permission.VIEW_RECORD, f"household:{household_id}", run)


def search_records(uow: UnitOfWork, by: Actor, query: SearchQuery) -> Sequence[ResidentRecord]:
    if not (query.name_kana or query.name or query.resident_code or query.birth_date):
        raise ValidationError(
            "query",
            "required",
            "give a reading, a name, a resident code or a birth date",
            "検索条件（カナ氏名・氏名・住民票コード・生年月日）を入力してください",
        )
    if query.resident_code is not None:
        ResidentCode.parse(query.resident_code)
    target = "search:" + ",".join(
        k for k in ("name_kana", "name", "birth_date", "resident_code") if getattr(query, k)
    )
    return perform(
        uow,
        by,
        Permission.SEARCH_RECORDS,
        target,
        lambda u: u.registry.search(query),
        describe=lambda rs: f"{len(rs)} hits",
    )


def registry_stats(uow: UnitOfWork, by: Actor) -> Mapping[str, int]:
    return perform(uow, by, Permission.VIEW_STATS, "stats", lambda u: u.registry.stats())


def _rid(record: ResidentRecord) -> str:
    return f"record:{record.record_id}"


def _first(ids: Sequence[str]) -> str:
    return ids[0] if ids else "-"
