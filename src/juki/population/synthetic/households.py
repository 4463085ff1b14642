"""From people to records: one synthetic household as the registry would hold it.

The steps after composition and naming that give each member a 住民票: when the household came
and from where (birth, move-in or immigration), its address, the member's resident code and
my_number, a foreign resident's card and period of stay, and the welfare entries (選挙人名簿,
insurance, pension, child allowance) their age and household imply. Each record comes with the
first change that created it, as a real registry's history would start.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from juki.core.identifiers import ResidentCode
from juki.population.synthetic.draws import Draws
from juki.population.synthetic.figures import PERIODS, PERMANENT, SOLO_STATUSES, Nation
from juki.population.synthetic.my_numbers import my_number_for
from juki.population.synthetic.names import name_foreign, name_japanese
from juki.population.synthetic.people import Person, foreign_members, japanese_members
from juki.registry.alias import AliasAction, AliasEntry
from juki.registry.model import (
    ChangeReason,
    ForeignResidentCategory,
    Household,
    Municipality,
    RecordChange,
    Relationship,
    ResidentRecord,
    initial_fields,
)

R = Relationship
NOTE: Final = "合成データ (synthetic population)"
_ABROAD: Final = ("アメリカ合衆国", "連合王国", "シンガポール共和国", "オーストラリア連邦")


@dataclass(frozen=True, slots=True)
class SyntheticHousehold:
    """A household and its members, each with the first change that created its record."""

    household: Household
    members: tuple[tuple[ResidentRecord, RecordChange], ...]

    @property
    def foreign_residents(self) -> int:
        return sum(1 for record, _ in self.members if record.is_foreign)


def _anniversary(born: date, years: int) -> date:
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February
        return born.replace(year=born.year + years, day=28)


@dataclass(frozen=True, slots=True)
class _Arrival:
    """When the household came (formed_on), when it moved to its present address, and from where."""

    formed_on: date
    address_date: date
    native: bool  # the householder was born here
    abroad: bool
    previous: str


@dataclass(frozen=True, slots=True)
class _Home:
    """What every member's record shares."""

    household: Household
    head: Person
    arrival: _Arrival
    foreign: bool
    nhi: bool  # the household is in 国民健康保険
    eligible_kids: Sequence[Person]  # children under 18, for 児童手当


class HouseholdGenerator:
    """Households of one municipality, drawing from `draws` and taking ids from `new_id`."""

    def __init__(self, municipality: Municipality, draws: Draws, new_id: Callable[[], str]) -> None:
        self.m = municipality
        self.draws = draws
        self.new_id = new_id

    def household(self, size: int, foreign: bool, codes: Iterator[int]) -> SyntheticHousehold:
        """A household of `size` people (or fewer: a foreign worker often comes alone).

        Each member takes the next body from `codes`; StopIteration means they ran out.
        """
        nation, people = self._people(size, foreign)
        head = people[0]
        arrival = self._arrival(head, nation, foreign)
        address = self.draws.address()
        household = Household(
            household_id=self.new_id(),
            lg_code=self.m.lg_code,
            address=address,
            formed_on=arrival.formed_on,
        )
        home = _Home(
            household=household,
            head=head,
            arrival=arrival,
            foreign=foreign,
            nhi=self._nhi_household(head, head.residence_status or ""),
            eligible_kids=[p for p in people if p.relationship is R.CHILD and p.age < 18],
        )
        members: list[tuple[ResidentRecord, RecordChange]] = []
        head_expiry: tuple[str, date] | None = None
        for p in people:
            record, change = self._member(p, home, head_expiry, codes)
            if p is head and record.period_of_stay is not None and record.stay_expiry is not None:
                head_expiry = (record.period_of_stay, record.stay_expiry)
            members.append((record, change))
        return SyntheticHousehold(household, tuple(members))

    # -- the household -------------------------------------------------------------------------

    def _people(self, size: int, foreign: bool) -> tuple[Nation | None, list[Person]]:
        """Members composed, named and born: the householder first."""
        nation: Nation | None = None
        if foreign:
            nation, people = foreign_members(self.draws, size)
            name_foreign(self.draws, nation, people)
        else:
            kind, people = japanese_members(self.draws, size)
            name_japanese(self.draws, kind, people)
        for p in people:
            p.birth_date = self.draws.birth(p.age)
        return nation, people

    def _arrival(self, head: Person, nation: Nation | None, foreign: bool) -> _Arrival:
        d, rng = self.draws, self.draws.rng
        status = head.residence_status or ""
        if foreign and status not in PERMANENT | {"定住者"}:
            years = rng.uniform(0, min(4.5, head.age - 18))
        else:
            years = (head.age - 18) * rng.random() ** 1.2
        formed_on = max(
            _anniversary(head.birth_date, 18), d.today - timedelta(days=int(years * 365.25))
        )
        formed_on = min(formed_on, d.today)
        address_date = formed_on
        if rng.random() < 0.25:
            address_date = d.between(formed_on, d.today)
        native = (not foreign or status == "特別永住者") and rng.random() < 0.2
        abroad, previous = self._came_from(status, nation, foreign)
        return _Arrival(formed_on, address_date, native, abroad, previous)

    def _came_from(self, status: str, nation: Nation | None, foreign: bool) -> tuple[bool, str]:
        """Whether the household came from abroad, and its previous address."""
        rng = self.draws.rng
        abroad = foreign and status not in PERMANENT and rng.random() < 0.7
        if abroad and nation is not None:
            return abroad, nation.country
        if not foreign and rng.random() < 0.02:
            return True, rng.choice(_ABROAD)
        return abroad, self.draws.address_elsewhere()

    def _nhi_household(self, head: Person, status: str) -> bool:
        """国民健康保険: the self-employed, the retired under 75, students; not employees."""
        if status == "留学":
            return True
        if status in SOLO_STATUSES or status in {"技術・人文知識・国際業務", "教育", "技能"}:
            return False
        p = 0.75 if 65 <= head.age < 75 else 0.5 if head.age >= 75 else 0.2
        return self.draws.rng.random() < p

    # -- each member -----------------------------------------------------------------------------

    def _member(
        self,
        p: Person,
        home: _Home,
        head_expiry: tuple[str, date] | None,
        codes: Iterator[int],
    ) -> tuple[ResidentRecord, RecordChange]:
        """A member's record and the change that created it: by birth here, or on arrival."""
        arrival = home.arrival
        if p.birth_date >= arrival.formed_on or (p is home.head and arrival.native):
            reason, since, prev = ChangeReason.BIRTH, p.birth_date, None
        else:
            reason = ChangeReason.IMMIGRATION if arrival.abroad else ChangeReason.MOVE_IN
            since, prev = arrival.formed_on, arrival.previous
        today = self.draws.today
        notified = min(today, since + timedelta(days=self.draws.rng.randint(0, 14)))
        fields: dict[str, Any] = {}
        if p.nationality is not None:
            fields = self._foreign_fields(p, head_expiry)
            if p.alias:  # 通称, recorded with the record: the first entry of its history
                entry = AliasEntry(p.alias[0], AliasAction.ENTERED, notified, self.m.address_prefix)
                fields["alias_history"] = (entry,)
        fields.update(self._welfare(p, since, home))
        body = next(codes)
        record = ResidentRecord(
            record_id=self.new_id(),
            lg_code=self.m.lg_code,
            resident_code=ResidentCode.complete(f"{body:010d}").value,
            family_name=p.family_name,
            given_name=p.given_name,
            family_name_kana=p.family_name_kana,
            given_name_kana=p.given_name_kana,
            birth_date=p.birth_date,
            sex=p.sex,
            household_id=home.household.household_id,
            relationship=p.relationship,
            resident_since=since,
            address=home.household.address,
            address_since=max(arrival.address_date, since),
            my_number=my_number_for(body),
            former_surname=p.former_surname,
            former_surname_kana=p.former_surname_kana,
            honseki=p.honseki,
            koseki_head=p.koseki_head,
            notified_on=notified,
            previous_address=prev,
            **fields,
        )
        return record, RecordChange(reason, since, notified, initial_fields(record), NOTE)

    def _foreign_fields(self, p: Person, head_expiry: tuple[str, date] | None) -> dict[str, Any]:
        """A foreign resident's items: card number, status, period of stay and its expiry.

        Family on 家族滞在 share the householder's period and expiry (`head_expiry`).
        """
        rng = self.draws.rng
        status = p.residence_status or ""
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        card = (
            "".join(rng.choice(letters) for _ in range(2))
            + f"{rng.randrange(10**8):08d}"
            + "".join(rng.choice(letters) for _ in range(2))
        )
        period: str | None = None
        expiry: date | None = None
        if status not in PERMANENT:
            if status == "家族滞在" and head_expiry is not None:
                period, expiry = head_expiry
            else:
                period, days = rng.choice(PERIODS[status])
                expiry = self.draws.today + timedelta(days=rng.randint(30, days))
        category = (
            ForeignResidentCategory.SPECIAL_PERMANENT
            if status == "特別永住者"
            else ForeignResidentCategory.MID_LONG_TERM
        )
        return {
            "is_foreign": True,
            "nationality": p.nationality,
            "foreign_category": category,
            "residence_status": status,
            "period_of_stay": period,
            "stay_expiry": expiry,
            "residence_card_number": card,
            "alias_name": p.alias[0] if p.alias else None,
            "alias_name_kana": p.alias[1] if p.alias else None,
        }

    def _welfare(self, p: Person, since: date, home: _Home) -> dict[str, Any]:
        """選挙人名簿, health and care insurance, 国民年金 and 児童手当 entries of a member."""
        today = self.draws.today
        head = home.head
        age = p.age
        out: dict[str, Any] = {}
        # 選挙人名簿: Japanese, 18 or over, resident here for three months.
        out["electoral_registered"] = (
            not home.foreign and age >= 18 and since <= today - timedelta(days=92)
        )
        if age >= 75:
            out["late_elderly_insured_since"] = max(since, _anniversary(p.birth_date, 75))
        elif home.nhi:
            retired = _anniversary(head.birth_date, 60)
            out["nhi_insured_since"] = min(today, max(since, retired) if head.age >= 65 else since)
        if age >= 65:
            out["ltc_insured_since"] = max(since, _anniversary(p.birth_date, 65))
        # 国民年金: category 1 (self-employed, students) and 3 (dependent spouse of an employee).
        if 20 <= age < 60:
            adult = max(since, _anniversary(p.birth_date, 20))
            if home.nhi:
                out["national_pension_category"], out["national_pension_since"] = "1", adult
            elif p.relationship is R.WIFE and self.draws.rng.random() < 0.45:
                out["national_pension_category"], out["national_pension_since"] = "3", adult
            elif p.relationship is R.CHILD and age <= 22 and self.draws.rng.random() < 0.5:
                out["national_pension_category"], out["national_pension_since"] = "1", adult
        # 児童手当: recorded on the recipient, the parent who heads the household.
        if p is head and home.eligible_kids:
            out["child_allowance_since"] = max(since, min(k.birth_date for k in home.eligible_kids))
        return out
