"""Who lives together: the people of a household before they have names or records.

A household is first a set of relationships, sexes and ages that make sense together (a couple a
few years apart, children 20–45 years younger than the younger parent, parents older than the
householder, a foreign worker alone or with a family on 家族滞在); names, 本籍 and records come
later and depend on it. Keeping the composition apart lets it be read against the household
rules it has to pass without the naming and welfare details around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from juki.population.synthetic.draws import Draws
from juki.population.synthetic.figures import (
    COUPLE_AGES,
    FAMILY_AGES,
    HEAD_AGES_BY_STATUS,
    NATIONS,
    PERMANENT,
    SINGLE_AGES,
    SINGLE_PARENT_AGES,
    SOLO_STATUSES,
    TEMPLATES,
    WITH_PARENTS_AGES,
    Bands,
    Nation,
)
from juki.registry.model import Relationship, Sex

R = Relationship
_NATIONS = (list(NATIONS), [n.weight for n in NATIONS])


@dataclass(slots=True)
class Person:
    """A member of a synthetic household, filled in step by step before becoming a record."""

    relationship: Relationship
    sex: Sex
    age: int
    birth_date: date = date.min
    family_name: str = ""
    given_name: str = ""
    family_name_kana: str = ""
    given_name_kana: str = ""
    former_surname: str | None = None
    former_surname_kana: str | None = None
    honseki: str | None = None
    koseki_head: str | None = None
    nationality: str | None = None
    residence_status: str | None = None
    alias: tuple[str, str] | None = None


def _other(sex: Sex) -> Sex:
    return Sex.FEMALE if sex is Sex.MALE else Sex.MALE


def _spouse_rel(sex: Sex, registered: bool = True) -> Relationship:
    if sex is Sex.FEMALE:
        return R.WIFE if registered else R.WIFE_UNREGISTERED
    return R.HUSBAND if registered else R.HUSBAND_UNREGISTERED


def _clamp(value: float, lo: int, hi: int) -> int:
    return max(lo, min(hi, round(value)))


# -- Japanese households -------------------------------------------------------------------------


def _children(d: Draws, parents: Sequence[Person], n: int) -> list[Person] | None:
    """n children 20–45 years younger than the younger parent, 1–4 years apart."""
    if n == 0:
        return []
    youngest_parent = min(p.age for p in parents)
    for _ in range(8):
        gap = _clamp(d.rng.gauss(32, 4.5), 20, 42)
        ages = [youngest_parent - gap]
        for _ in range(n - 1):
            ages.append(ages[-1] - d.rng.randint(1, 4))
        if ages[-1] >= 0 and youngest_parent - ages[-1] <= 45:
            return [Person(R.CHILD, d.rng.choice((Sex.MALE, Sex.FEMALE)), a) for a in ages]
    return None


def _couple(d: Draws, bands: Bands, registered: bool = True) -> list[Person]:
    head_sex = Sex.MALE if d.rng.random() < 0.9 else Sex.FEMALE
    head = Person(R.HOUSEHOLDER, head_sex, d.age(bands))
    delta = d.rng.gauss(2.2, 3.2)
    spouse_age = head.age - delta if head_sex is Sex.MALE else head.age + delta
    spouse = Person(
        _spouse_rel(_other(head_sex), registered),
        _other(head_sex),
        _clamp(spouse_age, 18, 104),
    )
    return [head, spouse]


def _parents_of(d: Draws, child_age: int, relationship_side: str, n: int) -> list[Person]:
    """The householder's (or spouse's) father and/or mother, alive and older than them."""
    mother_age = min(104, child_age + _clamp(d.rng.gauss(29, 4), 20, 42))
    father_age = min(104, mother_age + _clamp(d.rng.gauss(3, 2.5), 0, 12))
    father, mother = (
        (R.FATHER, R.MOTHER) if relationship_side == "own" else (R.SPOUSES_FATHER, R.SPOUSES_MOTHER)
    )
    if n == 2:
        return [Person(father, Sex.MALE, father_age), Person(mother, Sex.FEMALE, mother_age)]
    if d.rng.random() < 0.75:  # women outlive men
        return [Person(mother, Sex.FEMALE, mother_age)]
    return [Person(father, Sex.MALE, father_age)]


def japanese_members(d: Draws, size: int) -> tuple[str, list[Person]]:
    """The kind of a Japanese household of `size` and its members, householder first."""
    rng = d.rng
    if size == 1:
        age = d.age(SINGLE_AGES)
        # young singles are more often men, old ones more often widows
        sex = Sex.MALE if rng.random() < (0.6 if age < 60 else 0.36) else Sex.FEMALE
        return "single", [Person(R.HOUSEHOLDER, sex, age)]
    templates = TEMPLATES[min(size, 5)]
    for _ in range(20):
        kind = d.pick(templates)
        people = _compose(d, kind, size)
        if people is not None:
            return kind, people
    # Always possible: a couple of 60 with adult children.
    head = Person(R.HOUSEHOLDER, Sex.MALE, 60)
    wife = Person(R.WIFE, Sex.FEMALE, 58)
    kids = [Person(R.CHILD, Sex.MALE, 30 - i) for i in range(size - 2)]
    return "couple_kids", [head, wife, *kids]


def _compose(d: Draws, kind: str, size: int) -> list[Person] | None:
    """The members of a household of this kind and size; None if the ages drawn do not fit."""
    rng = d.rng
    if kind == "couple":
        return _couple(d, COUPLE_AGES, registered=rng.random() > 0.03)
    if kind == "couple_kids":
        couple = _couple(d, FAMILY_AGES, registered=rng.random() > 0.01)
        kids = _children(d, couple, size - 2)
        return None if kids is None else couple + kids
    if kind == "single_parent":
        sex = Sex.FEMALE if rng.random() < 0.82 else Sex.MALE
        head = Person(R.HOUSEHOLDER, sex, d.age(SINGLE_PARENT_AGES))
        kids = _children(d, [head], size - 1)
        return None if kids is None else [head, *kids]
    if kind == "couple_parents":
        couple = _couple(d, WITH_PARENTS_AGES)
        n_parents = 2 if size >= 4 and rng.random() < 0.35 else 1
        side = "own" if rng.random() < 0.75 else "spouse"
        elder = max(couple[0].age, couple[1].age) if side == "spouse" else couple[0].age
        parents = _parents_of(d, elder, side, n_parents)
        kids = _children(d, couple, size - 2 - n_parents)
        return None if kids is None else couple + parents + kids
    if kind == "with_parents":
        head = Person(R.HOUSEHOLDER, rng.choice((Sex.MALE, Sex.FEMALE)), 0)
        head.age = d.age(WITH_PARENTS_AGES)
        n_parents = min(size - 1, 2 if rng.random() < 0.3 else 1)
        parents = _parents_of(d, head.age, "own", n_parents)
        kids = _children(d, [head], size - 1 - n_parents)
        return None if kids is None else [head, *parents, *kids]
    if kind == "siblings":
        return _siblings(d, size)
    return _cohabitants(d, size)


def _siblings(d: Draws, size: int) -> list[Person] | None:
    """Brothers and sisters 1–6 years apart; None if one would not be born yet."""
    rng = d.rng
    head = Person(R.HOUSEHOLDER, rng.choice((Sex.MALE, Sex.FEMALE)), d.age(SINGLE_AGES))
    out = [head]
    for _ in range(size - 1):
        older = rng.random() < 0.5 and head.age < 90
        age = head.age + rng.randint(1, 6) if older else head.age - rng.randint(1, 6)
        if age < 0:
            return None
        sex = rng.choice((Sex.MALE, Sex.FEMALE))
        rel = {
            (True, Sex.MALE): R.ELDER_BROTHER,
            (True, Sex.FEMALE): R.ELDER_SISTER,
            (False, Sex.MALE): R.YOUNGER_BROTHER,
            (False, Sex.FEMALE): R.YOUNGER_SISTER,
        }[(older, sex)]
        out.append(Person(rel, sex, age))
    return out


def _cohabitants(d: Draws, size: int) -> list[Person]:
    """Friends or partners sharing a home."""
    rng = d.rng
    head = Person(R.HOUSEHOLDER, rng.choice((Sex.MALE, Sex.FEMALE)), d.age(SINGLE_AGES))
    return [head] + [
        Person(
            R.COHABITANT,
            rng.choice((Sex.MALE, Sex.FEMALE)),
            _clamp(head.age + rng.gauss(0, 6), 18, 100),
        )
        for _ in range(size - 1)
    ]


# -- foreign households -------------------------------------------------------------------------


def foreign_members(d: Draws, size: int) -> tuple[Nation, list[Person]]:
    """A foreign household's nationality and members, householder first, without names.

    Its size is `size` unless the householder's status of residence seldom brings a family.
    """
    rng = d.rng
    nation = rng.choices(_NATIONS[0], weights=_NATIONS[1])[0]
    status = d.pick(nation.statuses)
    if status in SOLO_STATUSES and (status != "留学" or rng.random() < 0.9):
        size = 1
    lo, hi = HEAD_AGES_BY_STATUS[status]
    head = Person(R.HOUSEHOLDER, Sex.MALE if rng.random() < 0.6 else Sex.FEMALE, 0)
    head.age = rng.randint(lo, hi)
    people = [head]
    if size >= 2:
        spouse_age = _clamp(head.age + rng.gauss(-2 if head.sex is Sex.MALE else 2, 3), 18, 100)
        people.append(Person(_spouse_rel(_other(head.sex)), _other(head.sex), spouse_age))
        kids = _children(d, people, size - 2)
        if kids is None:  # too young for that many children: a couple only
            kids = []
        people += kids
    dependant = "家族滞在" if status not in PERMANENT | {"定住者"} else status
    for p in people:
        p.nationality = nation.name
        p.residence_status = status if p is head else dependant
    return nation, people
