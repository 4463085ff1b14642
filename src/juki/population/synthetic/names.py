"""Names, readings, 本籍, 筆頭者 and 通称 of the people of a synthetic household.

Names depend on who lives together (a wife takes her husband's name, in-laws keep theirs, an
unmarried partner has their own 戸籍) and are drawn after the household's composition: Japanese
name pairs from faker ja_JP so that kanji and reading match, foreign names (Latin and katakana)
from the nationality's table, and a Japanese 通称 for most 特別永住者.
"""

from __future__ import annotations

from juki.population.synthetic.draws import Draws
from juki.population.synthetic.figures import Nation
from juki.population.synthetic.people import Person
from juki.registry.model import Relationship, Sex

R = Relationship


def _full(family: str, given: str) -> str:
    return f"{family}\u3000{given}"


def name_japanese(d: Draws, kind: str, people: list[Person]) -> None:
    """Names, 本籍 and 筆頭者: the household's 戸籍, the parents' and anyone else's own."""
    surname, in_laws = _names(d, people)
    _koseki(d, kind, people, surname, in_laws)


def _names(d: Draws, people: list[Person]) -> tuple[tuple[str, str], tuple[str, str]]:
    """Everyone's name and reading; returns the household's surname and the in-laws'."""
    surname = d.surname()
    in_laws = d.surname()
    for p in people:
        p.family_name, p.family_name_kana = surname
        if p.relationship in (R.SPOUSES_FATHER, R.SPOUSES_MOTHER):
            p.family_name, p.family_name_kana = in_laws
        elif p.relationship in (R.WIFE_UNREGISTERED, R.HUSBAND_UNREGISTERED, R.COHABITANT):
            p.family_name, p.family_name_kana = d.surname()
        p.given_name, p.given_name_kana = d.given(p.sex)
    return surname, in_laws


def _koseki(
    d: Draws,
    kind: str,
    people: list[Person],
    surname: tuple[str, str],
    in_laws: tuple[str, str],
) -> None:
    """Each member's 本籍 and 筆頭者; for a few wives, the surname they had before marrying."""
    rng = d.rng
    head = people[0]
    # The couple's 戸籍: headed by the husband (96 % of marriages take his name).
    spouse = next((p for p in people if p.relationship in (R.WIFE, R.HUSBAND)), None)
    family_honseki = d.honseki()
    parents_honseki = family_honseki if rng.random() < 0.6 else d.honseki()
    fathers = [p for p in people if p.relationship is R.FATHER]
    father_name = (
        _full(fathers[0].family_name, fathers[0].given_name)
        if fathers
        else _full(surname[0], d.given(Sex.MALE)[0])
    )
    if spouse is not None:
        husband = head if head.sex is Sex.MALE else spouse
        family_head = _full(husband.family_name, husband.given_name)
        wife = spouse if husband is head else head
        if wife is spouse and rng.random() < 0.03:
            maiden = (
                in_laws
                if any(p.relationship in (R.SPOUSES_FATHER, R.SPOUSES_MOTHER) for p in people)
                else d.surname()
            )
            wife.former_surname, wife.former_surname_kana = maiden
    elif kind == "single_parent" or head.age >= 45 or (head.age >= 30 and rng.random() < 0.5):
        family_head = _full(head.family_name, head.given_name)
        if head.sex is Sex.FEMALE and head.age >= 60 and kind == "single":
            # a widow stays in her late husband's 戸籍
            family_head = _full(surname[0], d.given(Sex.MALE)[0])
    else:
        # young and unmarried: still in the parents' 戸籍
        family_head, family_honseki = father_name, parents_honseki

    for p in people:
        rel = p.relationship
        if rel in (R.HOUSEHOLDER, R.WIFE, R.HUSBAND, R.CHILD):
            p.honseki, p.koseki_head = family_honseki, family_head
        elif rel in (R.FATHER, R.MOTHER, R.ELDER_BROTHER, R.ELDER_SISTER, R.YOUNGER_BROTHER,
                     R.YOUNGER_SISTER):  # fmt: skip
            p.honseki, p.koseki_head = parents_honseki, father_name
        elif rel in (R.SPOUSES_FATHER, R.SPOUSES_MOTHER):
            in_law_father = next((q for q in people if q.relationship is R.SPOUSES_FATHER), None)
            name = in_law_father.given_name if in_law_father else d.given(Sex.MALE)[0]
            p.honseki, p.koseki_head = d.honseki(0.3), _full(in_laws[0], name)
        else:  # unregistered partners and cohabitants keep their own 戸籍
            p.honseki = d.honseki(0.2)
            p.koseki_head = (
                _full(p.family_name, p.given_name)
                if p.age >= 35
                else _full(p.family_name, d.given(Sex.MALE)[0])
            )


def name_foreign(d: Draws, nation: Nation, people: list[Person]) -> None:
    """Latin names and katakana readings; a Japanese 通称 for most 特別永住者."""
    rng = d.rng
    family = rng.choice(nation.family)
    head = people[0]
    spouse_family = rng.choice(nation.family) if nation.keeps_surname else family
    father_family = family if head.sex is Sex.MALE else spouse_family
    alias_surname = d.surname() if head.residence_status == "特別永住者" else None
    for p in people:
        if p is head:
            fam = family
        elif p.relationship is R.CHILD:
            fam = father_family
        else:
            fam = spouse_family
        given = rng.choice(nation.male if p.sex is Sex.MALE else nation.female)
        p.family_name, p.family_name_kana = fam[0], fam[1]
        p.given_name, p.given_name_kana = given[0], given[1].replace(" ", "\u3000")
        p.family_name_kana = p.family_name_kana.replace(" ", "\u3000")
        if alias_surname is not None and rng.random() < 0.9:
            first, first_kana = d.given(p.sex)
            p.alias = (
                _full(alias_surname[0], first),
                _full(alias_surname[1], first_kana),
            )
