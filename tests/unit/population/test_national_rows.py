"""The national population as COPY text: the same people as the model path, and real-looking."""

from __future__ import annotations

from collections import Counter
from datetime import date

import numpy as np
import pytest
from faker.providers.person.ja_JP import Provider as JaNames
from hypothesis import given
from hypothesis import strategies as st

from juki.core.identifiers import MyNumber, ResidentCode
from juki.core.text import normalize_kana
from juki.population.addresses import town_areas
from juki.population.national import (
    PLAN_CHUNK,
    Pool,
    lg_codes_of,
    national_pool,
    national_population,
)
from juki.population.national_rows import (
    CURRENT_COLUMNS,
    CopyChunk,
    copy_chunks,
    copy_text,
)
from juki.population.synthetic import my_number_for
from juki.population.synthetic.my_numbers import mod11_check_digits, my_numbers_for

TODAY = date(2025, 4, 1)
LG_CODES = lg_codes_of(("13225", "27127", "01101"))
POOL = 150
N = PLAN_CHUNK + 1_000  # two plan chunks: the seam between them is crossed


@pytest.fixture(scope="module")
def pool() -> Pool:
    return national_pool(N, seed=3, today=TODAY, lg_codes=LG_CODES, pool_size=POOL)


@pytest.fixture(scope="module")
def chunks(pool: Pool) -> list[CopyChunk]:
    return list(copy_chunks(pool, N, seed=3, today=TODAY))


def rows(text: bytes) -> list[dict[str, str | None]]:
    """Current rows back as columns (nothing generated needs unescaping but NULL)."""
    out = []
    for line in text.decode().splitlines():
        values = line.split("\t")
        out.append(
            {c: None if v == "\\N" else v for c, v in zip(CURRENT_COLUMNS, values, strict=True)}
        )
    return out


@pytest.fixture(scope="module")
def current(chunks: list[CopyChunk]) -> list[dict[str, str | None]]:
    return rows(b"".join(c.current for c in chunks))


def test_copy_text_is_the_model_paths_people_byte_for_byte(chunks: list[CopyChunk]) -> None:
    people = national_population(N, seed=3, today=TODAY, lg_codes=LG_CODES, pool_size=POOL)
    current, history = [], []
    for person in people:
        info = person.current
        values = {c: getattr(info, c) for c in CURRENT_COLUMNS if c != "name_kana_key"}
        values["name_kana_key"] = normalize_kana(info.family_name_kana + info.given_name_kana)
        current.append(
            "\t".join(copy_text(None if values[c] is None else str(values[c])) for c in values)
        )
        history += [
            f"{v.lg_code}\t{v.resident_code}\t{copy_text(v.model_dump_json())}\t"
            f"{copy_text(normalize_kana(v.family_name_kana + v.given_name_kana))}\t{v.birth_date}"
            for v in person.versions
        ]
    assert b"".join(c.current for c in chunks).decode().splitlines() == current
    assert b"".join(c.history for c in chunks).decode().splitlines() == history
    assert sum(c.persons for c in chunks) == N
    assert sum(c.versions for c in chunks) == len(history)


def test_copy_text_is_the_same_for_the_same_seed_only(pool: Pool, chunks: list[CopyChunk]) -> None:
    assert list(copy_chunks(pool, N, seed=3, today=TODAY)) == chunks
    other = list(copy_chunks(pool, N, seed=4, today=TODAY))
    assert other[-1].current != chunks[-1].current


def test_codes_check_digits_are_valid_unique_and_numbers_are_the_codes(
    current: list[dict[str, str | None]],
) -> None:
    codes = [ResidentCode.parse(str(r["resident_code"])).value for r in current]
    assert len(set(codes)) == N
    for row in current[:: N // 500]:
        code = str(row["resident_code"])
        assert MyNumber.parse(str(row["my_number"])).value == my_number_for(int(code[:10]))


def test_names_are_faker_ja_jp_pairs_with_their_readings_and_sex(
    current: list[dict[str, str | None]],
) -> None:
    surnames = {(k, r) for k, r, _ in JaNames.last_name_pairs}
    male = {(k, r) for k, r, _ in JaNames.first_name_male_pairs}
    female = {(k, r) for k, r, _ in JaNames.first_name_female_pairs}
    japanese = [r for r in current if not str(r["family_name"]).isascii()]
    assert len(japanese) > N * 0.9
    for r in japanese:
        assert (r["family_name"], r["family_name_kana"]) in surnames
        given = (r["given_name"], r["given_name_kana"])
        assert given in (male if r["sex"] == "male" else female)
        kana = f"{r['family_name_kana']}{r['given_name_kana']}"
        assert r["name_kana_key"] == normalize_kana(kana)


def test_addresses_are_japan_posts_in_their_municipality(
    current: list[dict[str, str | None]],
) -> None:
    areas = {lg: {f"{a.prefecture}{a.city}{a.town}" for a in town_areas(lg)} for lg in LG_CODES}
    for r in current[::7]:
        address = str(r["address"])
        assert any(address.startswith(area) for area in areas[str(r["lg_code"])])
    assert set(Counter(r["lg_code"] for r in current)) == set(LG_CODES)


def test_ages_are_plausible_and_changes_follow_birth(
    current: list[dict[str, str | None]],
) -> None:
    ages = []
    for r in current:
        born = date.fromisoformat(str(r["birth_date"]))
        changed = date.fromisoformat(str(r["changed_on"]))
        assert born <= changed <= TODAY
        ages.append((TODAY - born).days // 365)
    assert min(ages) >= 0 and max(ages) < 110
    assert 30 < sum(ages) / len(ages) < 60  # Japan's mean age is about 48


def test_the_pool_lives_in_households(pool: Pool) -> None:
    """The pool comes from the household generator: most people share their address."""
    by_address = Counter((p.lg_code, p.address) for p in pool.people)
    shared = sum(n for n in by_address.values() if n > 1)
    assert shared > len(pool) / 2


def test_about_one_in_ten_has_a_second_version(chunks: list[CopyChunk]) -> None:
    versions = sum(c.versions for c in chunks)
    assert N * 1.05 < versions < N * 1.15


@given(st.lists(st.integers(0, 10**10 - 1), min_size=1, max_size=50))
def test_array_codes_are_the_scalar_codes(bodies: list[int]) -> None:
    array = np.array(bodies, dtype=np.int64)
    assert [f"{n:012d}" for n in my_numbers_for(array).tolist()] == [
        my_number_for(b) for b in bodies
    ]
    checks = mod11_check_digits(array).tolist()
    assert checks == [ResidentCode.check_digit(f"{b:010d}") for b in bodies]
    wide = array * 7 + 3  # 11-digit bodies: the 個人番号 rule
    assert mod11_check_digits(wide).tolist() == [
        MyNumber.check_digit(f"{b:011d}") for b in wide.tolist()
    ]


def test_array_codes_refuse_bodies_of_more_than_ten_digits() -> None:
    with pytest.raises(ValueError, match="10 digits"):
        my_numbers_for(np.array([10**10], dtype=np.int64))
