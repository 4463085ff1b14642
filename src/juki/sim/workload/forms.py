"""What a clerk writes on a form that no single event owns: an address, a person's items copied
from their record, and relationships restated for a new householder.

Moves, relocations and arrivals all need an address in a real town area; a move-in and an
emigration both carry a person's items as the old record had them; a death and a change of
householder both restate the household around its new head. Each lives here once so the event
modules agree on them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Final

from juki.population.addresses import TownArea
from juki.registry.commands import ForeignItems, PersonalItems
from juki.registry.model import ForeignResidentCategory, Relationship, ResidentRecord

SPOUSE_OF_HEAD: Final = frozenset({Relationship.WIFE, Relationship.HUSBAND})


def random_address(towns: Sequence[TownArea], rng: random.Random) -> str:
    town = towns[rng.randrange(len(towns))]
    head = f"{town.prefecture}{town.city}{town.town}"
    if town.chome:
        return f"{head}{rng.randint(1, 6)}丁目{rng.randint(1, 30)}番{rng.randint(1, 28)}号"
    return f"{head}{rng.randint(1, 2999)}番地{rng.randint(1, 20)}"


def personal_items(r: ResidentRecord) -> PersonalItems:
    foreign = None
    if r.is_foreign:
        foreign = ForeignItems(
            nationality=r.nationality or "",
            category=r.foreign_category or ForeignResidentCategory.MID_LONG_TERM,
            residence_status=r.residence_status,
            period_of_stay=r.period_of_stay,
            stay_expiry=r.stay_expiry,
            residence_card_number=r.residence_card_number,
            alias_name=r.alias_name,
            alias_name_kana=r.alias_name_kana,
        )
    return PersonalItems(
        family_name=r.family_name,
        given_name=r.given_name,
        family_name_kana=r.family_name_kana,
        given_name_kana=r.given_name_kana,
        birth_date=r.birth_date,
        sex=r.sex,
        honseki=r.honseki,
        koseki_head=r.koseki_head,
        former_surname=r.former_surname,
        former_surname_kana=r.former_surname_kana,
        foreign=foreign,
    )


def restate(members: Sequence[ResidentRecord], new_head: ResidentRecord) -> dict[str, Relationship]:
    """Relationships to a new householder that the household rules accept: a child of the old
    householder stays a child of the spouse who takes over, everyone else becomes 縁故者."""
    out: dict[str, Relationship] = {}
    for m in members:
        if m.record_id == new_head.record_id:
            continue
        keeps_child = (
            new_head.relationship in SPOUSE_OF_HEAD
            and m.relationship is Relationship.CHILD
            and m.birth_date > new_head.birth_date
        )
        out[m.record_id] = Relationship.CHILD if keeps_child else Relationship.RELATIVE
    return out
