"""A realistic synthetic population for one municipality, reproducible from a seed.

Demos, benchmarks and load tests need residents that look like a Japanese town's: household sizes,
ages, names with matching readings, 本籍 and 筆頭者, foreign residents with plausible statuses,
real town names. Everything here is pure: the same arguments give the same households, record for
record, so a demo or a failing benchmark can be rebuilt exactly.

Randomness comes from one `random.Random` and one seeded faker ja_JP instance (only for Japanese
name pairs, so kanji and reading match). Both are keyed by the seed *and* the first resident-code
body: seeding the same database again with the same seed (codes continue from the allotment)
adds different people rather than twins of the first batch.

This module keys the random sources and draws household sizes; the parts live beside it:
`figures` (Japan's figures the draws follow), `draws` (the shared random source), `people` (who
lives together), `names` (names, 本籍, 筆頭者, 通称), `households` (records, welfare, the first
change) and `my_numbers` (the synthetic 個人番号 of a resident code).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date
from typing import Final

from faker import Faker

from juki.population.addresses import TownArea
from juki.population.synthetic.draws import Draws
from juki.population.synthetic.figures import (
    FOREIGN_HOUSEHOLD_SIZES,
    HOUSEHOLD_SIZES,
    NATIONS,
    PERIODS,
)
from juki.population.synthetic.households import HouseholdGenerator, SyntheticHousehold
from juki.population.synthetic.my_numbers import my_number_for
from juki.registry.model import Municipality

__all__ = ["NATIONS", "PERIODS", "SyntheticHousehold", "generate_population", "my_number_for"]


def _table(rows: Sequence[tuple[int, float]]) -> tuple[list[int], list[float]]:
    return [r[0] for r in rows], [r[1] for r in rows]


_SIZES: Final = _table(HOUSEHOLD_SIZES)
_FOREIGN_SIZES: Final = _table(FOREIGN_HOUSEHOLD_SIZES)


def generate_population(
    municipality: Municipality,
    towns: Sequence[TownArea],
    n_residents: int,
    *,
    seed: int,
    today: date,
    resident_code_bodies: Iterable[int],
    new_id: Callable[[], str] | None = None,
    foreign_share: float = 0.03,
) -> Iterator[SyntheticHousehold]:
    """Exactly `n_residents` residents in households, lazily, the same for the same arguments.

    `resident_code_bodies` gives the 10-digit bodies to use, in order (e.g. the `range` reserved
    in the allotment); each resident's my_number is `my_number_for` their body. Ids come from the
    random source unless `new_id` is given.
    """
    if n_residents < 0:
        raise ValueError("n_residents must not be negative")
    codes = iter(resident_code_bodies)
    first = next(codes, None)
    if first is None:
        if n_residents:
            raise ValueError("no resident-code bodies to assign")
        return
    pending = iter((first,))

    def all_codes() -> Iterator[int]:
        yield from pending
        yield from codes

    code_iter = all_codes()
    rng = random.Random(f"juki-synthetic:{seed}:{first}")
    id_rng = random.Random(f"juki-synthetic-ids:{seed}:{first}")
    fake = Faker("ja_JP")
    fake.seed_instance(rng.getrandbits(64))

    def random_id() -> str:
        return str(uuid.UUID(int=id_rng.getrandbits(128), version=4))

    draws = Draws(municipality, towns, today, rng, fake)
    gen = HouseholdGenerator(municipality, draws, new_id or random_id)
    # Foreign households are smaller (≈ 1.5 vs 2.2 people): weight the household draw so that
    # about `foreign_share` of residents are foreign.
    p_foreign = foreign_share * 2.2 / (1.5 + foreign_share * (2.2 - 1.5))
    remaining = n_residents
    while remaining > 0:
        foreign = rng.random() < p_foreign
        sizes, weights = _FOREIGN_SIZES if foreign else _SIZES
        size = min(rng.choices(sizes, weights=weights)[0], remaining)
        try:
            household = gen.household(size, foreign, code_iter)
        except StopIteration:
            raise ValueError("ran out of resident-code bodies") from None
        remaining -= len(household.members)
        yield household
