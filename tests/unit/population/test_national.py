"""The national population: the household generator's pool, then people mixed from its parts."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from juki.core.identifiers import MyNumber, ResidentCode
from juki.core.text import normalize_kana
from juki.network.messages import IdentityInfoBody
from juki.population.national import (
    FIRST_BODY,
    PersonHistory,
    build_pool,
    lg_codes_of,
    national_population,
)
from juki.population.synthetic import my_number_for

TODAY = date(2025, 4, 1)
LG_CODES = lg_codes_of(("13225", "27127", "01101"))
POOL = 150
N = 900  # the pool, then five times as many mixed


@pytest.fixture(scope="module")
def people() -> list[PersonHistory]:
    return list(national_population(N, seed=3, today=TODAY, lg_codes=LG_CODES, pool_size=POOL))


def test_national_population_is_exactly_n_the_same_for_the_same_seed(
    people: list[PersonHistory],
) -> None:
    again = national_population(N, seed=3, today=TODAY, lg_codes=LG_CODES, pool_size=POOL)
    other = national_population(N, seed=4, today=TODAY, lg_codes=LG_CODES, pool_size=POOL)
    assert len(people) == N
    assert list(again) == people
    assert [p.current for p in other] != [p.current for p in people]


def test_national_population_codes_and_my_numbers_are_valid_unique_and_in_order(
    people: list[PersonHistory],
) -> None:
    for i, person in enumerate(people):
        body = FIRST_BODY + i
        current = person.current
        assert ResidentCode.parse(current.resident_code).value[:10] == f"{body:010d}"
        assert current.my_number == MyNumber.parse(my_number_for(body)).value
        assert {v.resident_code for v in person.versions} == {current.resident_code}


def test_national_population_starts_with_the_generators_residents(
    people: list[PersonHistory],
) -> None:
    pool = build_pool(POOL, seed=3, today=TODAY, lg_codes=LG_CODES)
    for person, resident in zip(people[:POOL], pool, strict=True):
        if len(person.versions) == 1:
            assert person.current == resident
            continue
        before, now = person.versions  # moved since: first at another address, now at theirs
        assert before.model_copy(update={"address": resident.address}) == resident
        assert (
            now.model_copy(
                update={"change_reason": resident.change_reason, "changed_on": resident.changed_on}
            )
            == resident
        )


def test_mixed_people_are_made_of_pool_parts_with_matching_readings(
    people: list[PersonHistory],
) -> None:
    pool = [p.versions[0] for p in people[:POOL]]  # as generated (before any move)
    families = {(p.family_name, p.family_name_kana) for p in pool}
    givens = {(p.given_name, p.given_name_kana, p.sex) for p in pool}
    homes = {(p.lg_code, p.address) for p in people[:POOL] for p in p.versions}
    births = {(p.birth_date, p.change_reason, p.changed_on) for p in pool}
    mixed = people[POOL:]
    for person in mixed:
        first = person.versions[0]
        assert (first.family_name, first.family_name_kana) in families
        assert (first.given_name, first.given_name_kana, first.sex) in givens
        assert (first.birth_date, first.change_reason, first.changed_on) in births
        assert (person.current.lg_code, person.current.address) in homes
    # mixed, not copied: most mixed people are no pool resident's twin
    twins = {(p.family_name, p.given_name, p.birth_date) for p in pool}
    assert (
        sum(
            (p.current.family_name, p.current.given_name, p.current.birth_date) in twins
            for p in mixed
        )
        < len(mixed) // 10
    )
    assert len(Counter(p.current.lg_code for p in people)) == len(LG_CODES)


def test_about_one_in_ten_moved_within_their_municipality(people: list[PersonHistory]) -> None:
    moved = [p for p in people if len(p.versions) > 1]
    assert N * 0.05 < len(moved) < N * 0.15
    for person in moved:
        before, now = person.versions
        assert now.change_reason == "relocation"
        assert before.changed_on < now.changed_on <= TODAY
        assert before.address != now.address
        assert before.lg_code == now.lg_code
        assert before.model_copy(update={"address": now.address}) == now.model_copy(
            update={"change_reason": before.change_reason, "changed_on": before.changed_on}
        )


def test_every_version_is_a_valid_identity_info_body(people: list[PersonHistory]) -> None:
    for person in people[::7]:
        for version in person.versions:
            assert IdentityInfoBody.model_validate_json(version.model_dump_json()) == version
            assert normalize_kana(version.family_name_kana + version.given_name_kana)


def test_national_population_refuses_impossible_sizes() -> None:
    assert list(national_population(0, seed=1, today=TODAY)) == []
    with pytest.raises(ValueError, match="negative"):
        list(national_population(-1, seed=1, today=TODAY))
    with pytest.raises(ValueError, match="10 digits"):
        list(national_population(10, seed=1, today=TODAY, first_body=10**10 - 5))
    with pytest.raises(ValueError, match="at least one"):
        build_pool(0, seed=1, today=TODAY, lg_codes=LG_CODES)
