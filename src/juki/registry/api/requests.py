"""Request bodies become domain commands here, in one place per kind of body; and where each
domain field sits in a request body, so a rule violation names the field the client sent."""

from __future__ import annotations

from typing import Final

from juki.registry.alias import AliasEntry
from juki.registry.api.schemas import (
    MoveOutCertificateIn,
    NewHouseholdIn,
    PersonalItemsIn,
    PlacementIn,
    ResidentRecordOut,
)
from juki.registry.commands import (
    ForeignItems,
    JoinHousehold,
    MoveOutCertificateItems,
    NewHousehold,
    PersonalItems,
    Placement,
)
from juki.registry.model import ResidentRecord
from juki.security.permissions import Role

# Domain field names → where the field sits in the request body (see `renamed_fields`).
PERSON_FIELDS: Final = {
    name: f"person.{name}"
    for name in (
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "birth_date",
        "honseki",
        "koseki_head",
        "former_surname",
        "former_surname_kana",
    )
}
FOREIGN_FIELDS: Final = {
    "foreign_category": "person.foreign.category",
    **{
        name: f"person.foreign.{name}"
        for name in (
            "nationality",
            "residence_status",
            "period_of_stay",
            "residence_card_number",
            "alias_name",
            "alias_name_kana",
        )
    },
}
BIRTH_FIELDS: Final = {**PERSON_FIELDS, **FOREIGN_FIELDS, "effective_on": "person.birth_date"}
MOVE_IN_FIELDS: Final = {**PERSON_FIELDS, **FOREIGN_FIELDS, "effective_on": "moved_on"}
ENTRY_FIELDS: Final = {**PERSON_FIELDS, **FOREIGN_FIELDS, "effective_on": "resident_since"}
DEATH_FIELDS: Final = {"effective_on": "died_on"}
RELOCATION_FIELDS: Final = {"effective_on": "moved_on"}
REMOVAL_FIELDS: Final = {"effective_on": "removed_on"}
SEAL_FIELDS: Final = {"image_png": "image_png_base64"}


def move_out_certificate(c: MoveOutCertificateIn | None) -> MoveOutCertificateItems | None:
    """The 転出証明書 presented with a 転入届, item by item."""
    if c is None:
        return None
    return MoveOutCertificateItems(
        certificate_number=c.certificate_number,
        lg_code=c.lg_code,
        resident_code=c.resident_code,
        family_name=c.family_name,
        given_name=c.given_name,
        birth_date=c.birth_date,
        sex=c.sex,
        address=c.address,
        destination_address=c.destination_address,
        planned_on=c.planned_on,
        my_number=c.my_number,
        alias_history=tuple(
            AliasEntry(e.alias_name, e.action, e.on, e.municipality) for e in c.alias_history
        ),
    )


def personal_items(p: PersonalItemsIn) -> PersonalItems:
    f = p.foreign
    return PersonalItems(
        family_name=p.family_name,
        given_name=p.given_name,
        family_name_kana=p.family_name_kana,
        given_name_kana=p.given_name_kana,
        birth_date=p.birth_date,
        sex=p.sex,
        honseki=p.honseki,
        koseki_head=p.koseki_head,
        former_surname=p.former_surname,
        former_surname_kana=p.former_surname_kana,
        foreign=None
        if f is None
        else ForeignItems(
            nationality=f.nationality,
            category=f.category,
            residence_status=f.residence_status,
            period_of_stay=f.period_of_stay,
            stay_expiry=f.stay_expiry,
            residence_card_number=f.residence_card_number,
            alias_name=f.alias_name,
            alias_name_kana=f.alias_name_kana,
        ),
    )


def placement(p: PlacementIn) -> Placement:
    if isinstance(p, NewHouseholdIn):
        return NewHousehold()
    return JoinHousehold(household_id=p.household_id, relationship=p.relationship)


def records_out(records: list[ResidentRecord], role: Role) -> list[ResidentRecordOut]:
    return [ResidentRecordOut.of(r, role) for r in records]
