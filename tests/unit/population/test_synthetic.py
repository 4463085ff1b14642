"""The synthetic population: reproducible, consistent, and shaped like Japan's."""

from __future__ import annotations

import itertools
import statistics
from collections import Counter
from datetime import date

import pytest

from juki.core.identifiers import MyNumber, ResidentCode
from juki.core.text import validate_kana, validate_name
from juki.population.addresses import TownArea, municipality_from_lg_code, town_areas
from juki.population.synthetic import SyntheticHousehold, generate_population, my_number_for
from juki.registry import rules
from juki.registry.model import (
    FEMALE_ONLY,
    MALE_ONLY,
    ChangeReason,
    ForeignResidentCategory,
    Municipality,
    Relationship,
    ResidentRecord,
    Sex,
    fold,
    initial_fields,
)

TODAY = date(2025, 4, 1)
FIRST_BODY = 1322500000
N = 5000


def population(
    n: int = N, seed: int = 7, lg_code: str = "132250", first: int = FIRST_BODY
) -> list[SyntheticHousehold]:
    m = municipality_from_lg_code(lg_code)
    return list(
        generate_population(
            m,
            town_areas(lg_code),
            n,
            seed=seed,
            today=TODAY,
            resident_code_bodies=range(first, first + n),
        )
    )


@pytest.fixture(scope="module")
def households() -> list[SyntheticHousehold]:
    return population()


@pytest.fixture(scope="module")
def records(households: list[SyntheticHousehold]) -> list[ResidentRecord]:
    return [r for h in households for r, _ in h.members]


def test_exact_number_of_residents(records: list[ResidentRecord]) -> None:
    assert len(records) == N
    assert sum(len(h.members) for h in population(n=37, seed=1)) == 37


# Reproducibility is a property of the generator, not of the population's size: the seed and
# code tests compare populations of SMALL people (N people take about 2 s of CPU each time).
SMALL = 500


@pytest.fixture(scope="module")
def small() -> list[ResidentRecord]:
    return [r for h in population(n=SMALL) for r, _ in h.members]


def test_same_seed_same_population(small: list[ResidentRecord]) -> None:
    assert [r for h in population(n=SMALL) for r, _ in h.members] == small


def test_different_seed_different_population(small: list[ResidentRecord]) -> None:
    other = [r for h in population(n=SMALL, seed=8) for r, _ in h.members]
    assert [r.full_name for r in other] != [r.full_name for r in small]
    assert {r.record_id for r in other}.isdisjoint(r.record_id for r in small)


def test_continuing_codes_give_new_people(small: list[ResidentRecord]) -> None:
    """Seeding again with the same seed (codes continue) does not add twins of the first run."""
    again = [r for h in population(n=SMALL, first=FIRST_BODY + SMALL) for r, _ in h.members]
    assert {(r.full_name, r.birth_date) for r in again} != {
        (r.full_name, r.birth_date) for r in small
    }
    assert {r.my_number for r in again}.isdisjoint(r.my_number for r in small)


def test_every_household_passes_the_household_rules(households: list[SyntheticHousehold]) -> None:
    for h in households:
        members = [r for r, _ in h.members]
        rules.household_consistent(members)
        assert members[0].relationship is Relationship.HOUSEHOLDER
        assert all(r.household_id == h.household.household_id for r in members)
        assert all(r.address == h.household.address for r in members)


def test_household_sizes_follow_the_census(households: list[SyntheticHousehold]) -> None:
    sizes = Counter(min(len(h.members), 5) for h in households)
    share = {k: v / len(households) for k, v in sizes.items()}
    assert share[1] == pytest.approx(0.38, abs=0.04)
    assert share[2] == pytest.approx(0.28, abs=0.04)
    assert share[3] == pytest.approx(0.17, abs=0.03)
    assert share[4] == pytest.approx(0.12, abs=0.03)
    assert share[5] == pytest.approx(0.05, abs=0.02)


def test_about_three_percent_foreign(records: list[ResidentRecord]) -> None:
    share = sum(r.is_foreign for r in records) / len(records)
    assert 0.02 <= share <= 0.04


def test_ages_match_japan(records: list[ResidentRecord]) -> None:
    ages = [r.age_on(TODAY) for r in records]
    assert 45 <= statistics.median(ages) <= 53
    assert min(ages) >= 0
    assert max(ages) <= 106
    old = sum(a >= 65 for a in ages) / len(ages)
    young = sum(a < 15 for a in ages) / len(ages)
    assert 0.24 <= old <= 0.34
    assert 0.08 <= young <= 0.15
    males = sum(r.sex is Sex.MALE for r in records) / len(records)
    assert 0.44 <= males <= 0.52


def test_householders_ages_and_families(households: list[SyntheticHousehold]) -> None:
    for h in households:
        members = [r for r, _ in h.members]
        head = members[0]
        assert 20 <= head.age_on(TODAY) <= 95
        parents = [
            r
            for r in members
            if r is head or r.relationship in (Relationship.WIFE, Relationship.HUSBAND)
        ]
        youngest_parent = min(p.age_on(TODAY) for p in parents)
        for r in members:
            if r.relationship is Relationship.CHILD:
                assert 19 <= youngest_parent - r.age_on(TODAY) <= 46
            if r.relationship in (Relationship.WIFE, Relationship.HUSBAND):
                assert abs(head.age_on(TODAY) - r.age_on(TODAY)) <= 20
                assert r.sex is not head.sex


def test_sex_matches_relationship(records: list[ResidentRecord]) -> None:
    for r in records:
        if r.relationship in MALE_ONLY or r.relationship in (
            Relationship.HUSBAND,
            Relationship.HUSBAND_UNREGISTERED,
        ):
            assert r.sex is Sex.MALE
        if r.relationship in FEMALE_ONLY or r.relationship in (
            Relationship.WIFE,
            Relationship.WIFE_UNREGISTERED,
        ):
            assert r.sex is Sex.FEMALE
    kinds = Counter(r.relationship for r in records)
    assert kinds[Relationship.MOTHER] + kinds[Relationship.FATHER] > 0  # three generations


def test_addresses_are_real_and_inside_the_municipality(records: list[ResidentRecord]) -> None:
    towns = {t.town for t in town_areas("132250")}
    for r in records:
        assert r.address.startswith("東京都稲城市")
        rest = r.address.removeprefix("東京都稲城市")
        assert any(rest.startswith(t) for t in towns)
        validate_name("address", r.address, max_len=200)
        if r.previous_address is not None:
            assert not r.previous_address.startswith("東京都稲城市")


def test_codes_and_numbers_are_valid_and_unique(records: list[ResidentRecord]) -> None:
    codes = [r.resident_code for r in records]
    numbers = [r.my_number for r in records]
    assert codes == [
        ResidentCode.complete(f"{b:010d}").value for b in range(FIRST_BODY, FIRST_BODY + N)
    ]
    assert len(set(codes)) == len(codes)
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert number is not None
        MyNumber.parse(number)


def test_my_number_for_is_a_permutation() -> None:
    bodies = [0, 1, 2, 9_999_999_999, *range(1322500000, 1322520000)]
    numbers = [my_number_for(b) for b in bodies]
    assert len(set(numbers)) == len(numbers)
    assert all(MyNumber.parse(n).value == n for n in numbers)
    # consecutive codes do not give consecutive numbers
    assert sum(abs(int(a[:11]) - int(b[:11])) < 1000 for a, b in itertools.pairwise(numbers)) < 5
    with pytest.raises(ValueError, match="10 digits"):
        my_number_for(10**10)


def test_names_and_readings_are_valid(records: list[ResidentRecord]) -> None:
    for r in records:
        for name in ("family_name", "given_name", "honseki", "koseki_head", "alias_name"):
            value = getattr(r, name)
            if value is not None:
                assert validate_name(name, value) == value
        for name in (
            "family_name_kana",
            "given_name_kana",
            "former_surname_kana",
            "alias_name_kana",
        ):
            value = getattr(r, name)
            if value is not None:
                assert validate_kana(name, value) == value


def test_japanese_items(records: list[ResidentRecord]) -> None:
    for r in (r for r in records if not r.is_foreign):
        assert r.honseki and r.honseki.endswith("番地")
        assert r.koseki_head
        assert r.nationality is None and r.foreign_category is None
        assert r.electoral_registered == (
            r.age_on(TODAY) >= 18 and (TODAY - r.resident_since).days >= 92
        )
    in_town = sum(bool(r.honseki and r.honseki.startswith("東京都稲城市")) for r in records)
    assert in_town > len(records) * 0.2  # often the same municipality


def test_foreign_items(records: list[ResidentRecord]) -> None:
    foreign = [r for r in records if r.is_foreign]
    assert len({r.nationality for r in foreign}) >= 5
    assert Counter(r.nationality for r in foreign).most_common(1)[0][0] == "中国"
    mid_long = sum(r.foreign_category is ForeignResidentCategory.MID_LONG_TERM for r in foreign)
    assert mid_long > len(foreign) * 0.7
    for r in foreign:
        rules.foreign_items(
            is_foreign=True,
            nationality=r.nationality,
            foreign_category=r.foreign_category,
            honseki=r.honseki,
        )
        assert r.honseki is None and r.koseki_head is None and not r.electoral_registered
        assert r.family_name.isascii() and r.given_name.isascii()
        assert r.family_name == r.family_name.upper()
        card = r.residence_card_number or ""
        assert len(card) == 12 and card[:2].isupper() and card[2:10].isdigit()
        assert card[10:].isupper()
        assert r.residence_status
        if r.residence_status in ("永住者", "特別永住者"):
            assert r.stay_expiry is None
        else:
            assert r.stay_expiry is not None and r.stay_expiry > TODAY
            assert r.period_of_stay
        if r.residence_status == "特別永住者":
            assert r.foreign_category is ForeignResidentCategory.SPECIAL_PERMANENT


def test_every_record_passes_the_record_item_rules(records: list[ResidentRecord]) -> None:
    """旧氏 only for Japanese nationals, 30条の45 items only for foreign residents, and a 通称
    recorded with the record is the first entry of its history (令第30条の27)."""
    for r in records:
        rules.record_items(initial_fields(r))
        if r.alias_name:
            [entry] = r.alias_history
            assert (entry.alias_name, entry.municipality) == (r.alias_name, "東京都稲城市")
        else:
            assert r.alias_history == ()
    assert any(r.alias_history for r in records)


def test_first_change_creates_the_record(households: list[SyntheticHousehold]) -> None:
    reasons: Counter[ChangeReason] = Counter()
    for h in households:
        for record, change in h.members:
            reasons[change.reason] += 1
            assert fold([change]) == record
            assert dict(change.fields) == initial_fields(record)
            assert change.effective_on == record.resident_since
            assert record.birth_date <= record.resident_since <= record.address_since <= TODAY
            assert change.effective_on <= change.notified_on <= TODAY
            assert record.notified_on == change.notified_on
            rules.event_dates(change.effective_on, change.notified_on, TODAY, record.birth_date)
            if change.reason is ChangeReason.BIRTH:
                assert record.resident_since == record.birth_date
                assert record.previous_address is None
            else:
                assert change.reason in (ChangeReason.MOVE_IN, ChangeReason.IMMIGRATION)
                assert record.previous_address
    assert ChangeReason.ENTRY_BY_AUTHORITY not in reasons
    assert reasons[ChangeReason.BIRTH] > 0 and reasons[ChangeReason.MOVE_IN] > 0


def test_welfare_items_are_plausible(records: list[ResidentRecord]) -> None:
    for r in records:
        age = r.age_on(TODAY)
        assert (r.late_elderly_insured_since is not None) == (age >= 75)
        assert (r.ltc_insured_since is not None) == (age >= 65)
        if age >= 75:
            assert r.nhi_insured_since is None
        if r.national_pension_category is not None:
            assert r.national_pension_category in ("1", "3")
            assert 20 <= age < 60
        if r.child_allowance_since is not None:
            assert r.relationship is Relationship.HOUSEHOLDER
    assert any(r.nhi_insured_since for r in records)
    assert any(r.child_allowance_since for r in records)


def test_a_municipality_without_town_names() -> None:
    m = Municipality("132250", "東京都", "稲城市")
    towns = [TownArea("2060000", "東京都", "稲城市", "", "")]
    hh = list(
        generate_population(
            m,
            towns,
            50,
            seed=1,
            today=TODAY,
            resident_code_bodies=range(FIRST_BODY, FIRST_BODY + 50),
        )
    )
    assert all(r.address.startswith("東京都稲城市") for h in hh for r, _ in h.members)


def test_too_few_codes_is_an_error() -> None:
    m = municipality_from_lg_code("132250")
    with pytest.raises(ValueError, match="resident-code"):
        list(
            generate_population(
                m, town_areas("132250"), 100, seed=1, today=TODAY, resident_code_bodies=range(10)
            )
        )
