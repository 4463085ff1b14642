"""The synthetic population's random sources and the small draws every step makes from them.

One object holds the seeded `random.Random`, the seeded faker ja_JP instance and what the draws
depend on (today, the municipality's town areas, places elsewhere in Japan), so the modules that
compose people, name them and make their records share one stream of randomness: the order of
draws, and so the population for a seed, does not depend on which module makes them.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta

from faker import Faker

from juki.population.addresses import TownArea
from juki.population.synthetic.figures import ELSEWHERE, Bands
from juki.registry.model import Municipality, Sex


class Draws:
    """Weighted picks, ages, dates, addresses, 本籍 and Japanese name pairs for one municipality."""

    def __init__(
        self,
        municipality: Municipality,
        towns: Sequence[TownArea],
        today: date,
        rng: random.Random,
        fake: Faker,
    ) -> None:
        if not towns:
            raise ValueError("a municipality needs at least one town area")
        self.towns = towns
        self.today = today
        self.rng = rng
        self.fake = fake
        self.elsewhere = [p for p in ELSEWHERE if p[0] != municipality.address_prefix]

    # -- weights, ages and dates ---------------------------------------------------------------

    def pick(self, rows: Sequence[tuple[str, float]]) -> str:
        return self.rng.choices([r[0] for r in rows], weights=[r[1] for r in rows])[0]

    def age(self, bands: Bands) -> int:
        lo, hi, _ = self.rng.choices(bands, weights=[b[2] for b in bands])[0]
        return self.rng.randint(lo, hi)

    def birth(self, age: int) -> date:
        """A birth date giving exactly `age` today; a year's difference in age keeps order."""
        last_birthday_days = int(age * 365.25)
        return self.today - timedelta(days=last_birthday_days + self.rng.randrange(365))

    def between(self, first: date, last: date) -> date:
        if last <= first:
            return first
        return first + timedelta(days=self.rng.randrange((last - first).days + 1))

    # -- addresses -----------------------------------------------------------------------------

    def address(self) -> str:
        """An address in one of the municipality's town areas: 丁目-番-号 or 番地."""
        town = self.rng.choice(self.towns)
        rng = self.rng
        head = f"{town.prefecture}{town.city}{town.town}"
        if town.chome:
            chome = rng.choices((1, 2, 3, 4, 5, 6), weights=(30, 26, 19, 12, 8, 5))[0]
            return f"{head}{chome}丁目{rng.randint(1, 30)}番{rng.randint(1, 28)}号"
        banchi = int(rng.paretovariate(0.9) * 20) % 3000 + 1
        if rng.random() < 0.4:
            return f"{head}{banchi}番地{rng.randint(1, 20)}"
        return f"{head}{banchi}番地"

    def address_elsewhere(self) -> str:
        prefix, towns = self.rng.choice(self.elsewhere)
        town = self.rng.choice(towns)
        r = self.rng
        return f"{prefix}{town}{r.randint(1, 5)}丁目{r.randint(1, 30)}番{r.randint(1, 28)}号"

    def honseki(self, here: float = 0.45) -> str:
        """A 本籍: in this municipality with probability `here`, else elsewhere in Japan."""
        if self.rng.random() < here:
            town = self.rng.choice(self.towns)
            prefix = f"{town.prefecture}{town.city}{town.town}"
        else:
            place, towns = self.rng.choice(self.elsewhere)
            prefix = place + self.rng.choice(towns)
        return f"{prefix}{self.rng.randint(1, 2500)}番地"

    # -- Japanese names (faker: kanji and reading match) ---------------------------------------

    def given(self, sex: Sex) -> tuple[str, str]:
        pair = (
            self.fake.first_name_male_pair()
            if sex is Sex.MALE
            else self.fake.first_name_female_pair()
        )
        return pair[0], pair[1]

    def surname(self) -> tuple[str, str]:
        pair = self.fake.last_name_pair()
        return pair[0], pair[1]
