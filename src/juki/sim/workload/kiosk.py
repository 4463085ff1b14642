"""コンビニ交付 in the simulation: residents get cards at the counter and print certificates at a
store's kiosk, through the real relay on the national node and the real certificate server of
their municipality, on the faulty wire.

A kiosk event at a municipality takes one of the software cards the simulation has issued there
(or first issues one, at the counter, through `juki.cards.services.issue_card` with the national
card CA certifying it over the network), puts it in a `KioskSession` at the simulated store,
sometimes enters a wrong PIN first, chooses a residence certificate (the holder alone, or the
whole household), and prints what comes back; now and then a page jams (書損). What is printed
is remembered as a `Page` — who asked (the card and the holder it was issued to), what the
page says (its verified names and issuer) and how far the issuing registry's change history
had got at that moment — for the invariants in `juki.sim.invariants.kiosk`.

Faults reach it where they apply: the relay's queries to the municipality cross the faulty
wire (`FaultyTransport.query_from`: partitions, lost requests and answers, duplicates), a node
crashed or crashing drops the hop, and the kiosk → relay hop loses the relay's answer at the
`drop_reply` rate (the session aborts, the relay is told to abandon, the certificate is void).

Every draw comes from an rng of its own, taken from the run's only when the kiosk workload is
on (`kiosk_scale > 0`), so runs without it keep their course.
"""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Final, TypeVar

import sqlalchemy as sa

from juki.cards import services as cards
from juki.cards.commands import IssueCard
from juki.cards.model import Backend
from juki.cards.soft import SoftCardToken
from juki.cards.store import SqlCardUnitOfWork
from juki.certificates.kiosk.offer import KioskOffer
from juki.certificates.verify import verify_pdf
from juki.core.clock import JST
from juki.core.errors import JukiError, RuleViolation
from juki.kiosk.ports import HopTimeout, KioskCall, RelayAnswer
from juki.kiosk.sealing import KeyStatement
from juki.kiosk.session import KioskSession, KioskStop, WrongPinAtKiosk
from juki.nodes.cards import NetworkCertifier
from juki.nodes.kiosk_relay import KioskRelay
from juki.nodes.national import NationalNode
from juki.registry.tables import record_changes, resident_records
from juki.sim.cluster import Cluster
from juki.sim.faults import SimCrash, is_disk_full
from juki.sim.trace import Trace
from juki.sim.workload.desk import CLERK

PIN: Final = "1234"
WRONG_PIN: Final = "9999"
STORE: Final = "SIM-STORE-01"
# コンビニ交付 per resident per day: about 20 M certificates a year for 124 M residents (an
# estimate of the order of magnitude; docs/simulation.md). `kiosk_scale` multiplies it.
RATE: Final = 20.0 / 124.0 / 365.0
NEW_CARD: Final = 0.3  # share of sessions that start at the counter with a new card
WRONG_PIN_FIRST: Final = 0.15
HOUSEHOLD: Final = 0.3  # a residence certificate of the whole household
JAM: Final = 0.05  # a page jams (書損)
OPEN: Final = time(6, 30)
CLOSE: Final = time(22, 59)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SimCard:
    serial: str
    lg: str
    holder: str  # the resident code the card was issued to
    token: SoftCardToken


@dataclass(frozen=True, slots=True)
class Page:
    """One printed certificate, and what the invariants need to judge it."""

    at: datetime
    lg: str  # the card's municipality (the one chosen at the kiosk)
    serial: str
    holder: str
    members: str
    ok: bool  # the PDF verified under the network root
    reason: str | None
    issuer_lg: str | None
    names: tuple[str, ...]
    history_upto: int  # the issuing registry's last record_changes id at issuance
    certificate_id: str
    issue_numbers: tuple[str, ...]
    pdf_slices: tuple[str, ...]  # hex slices of the PDF, to look for in the relay's storage


@dataclass
class KioskStats:
    sessions: int = 0
    printed: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    aborted: int = 0
    wrong_pins: int = 0
    spoiled: int = 0
    cards_issued: int = 0
    cards_refused: Counter[str] = field(default_factory=Counter)

    def as_json(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions,
            "printed": self.printed,
            "refused": dict(sorted(self.refused.items())),
            "aborted": self.aborted,
            "wrong_pins": self.wrong_pins,
            "spoiled": self.spoiled,
            "cards_issued": self.cards_issued,
            "cards_refused": dict(sorted(self.cards_refused.items())),
        }


class SimRelay:
    """The kiosk → relay hop: a crash of the national node on the way is a timeout to the
    kiosk; an answer made and lost (`drop_reply`) too."""

    def __init__(self, kiosks: Kiosks, relay: KioskRelay) -> None:
        self.kiosks = kiosks
        self.relay = relay

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except SimCrash as crash:
            self.kiosks.cluster.crashes.append(crash)
            raise HopTimeout(f"the national node crashed ({crash.where})") from None

    def challenge(self) -> bytes:
        return self._call(self.relay.challenge)

    def offer(self, lg_code: str) -> KioskOffer:
        return self._call(lambda: self.relay.offer(lg_code))

    def municipality_key(self, lg_code: str) -> KeyStatement:
        return self._call(lambda: self.relay.municipality_key(lg_code))

    def request(self, call: KioskCall) -> RelayAnswer:
        answer = self._call(lambda: self.relay.request(call))
        if self.kiosks.lose_answer():
            raise HopTimeout("the relay's answer was lost")
        return answer

    def abandon(self, store_id: str, request_id: str, card_serial: str, lg_code: str) -> None:
        self._call(lambda: self.relay.abandon(store_id, request_id, card_serial, lg_code))

    def spoiled(
        self, store_id: str, request_id: str, card_serial: str, lg_code: str, issue_number: str
    ) -> None:
        self._call(
            lambda: self.relay.spoiled(store_id, request_id, card_serial, lg_code, issue_number)
        )


class Kiosks:
    def __init__(self, cluster: Cluster, trace: Trace, rng: random.Random, *, scale: float) -> None:
        self.cluster = cluster
        self.trace = trace
        self.rng = random.Random(rng.getrandbits(64))
        cluster.wire.query_rng = random.Random(rng.getrandbits(64))
        self.scale = scale
        self.cards: dict[str, list[SimCard]] = {}
        self.pages: list[Page] = []
        self.stats = KioskStats()
        self._relay: tuple[NationalNode, KioskRelay] | None = None

    # -- planning -------------------------------------------------------------------------------

    def plan_day(
        self, day: date, residents: Counter[str], poisson: Callable[[random.Random, float], int]
    ) -> list[tuple[datetime, str, Callable[[], None]]]:
        out: list[tuple[datetime, str, Callable[[], None]]] = []
        start = datetime.combine(day, OPEN, tzinfo=JST)
        span = (datetime.combine(day, CLOSE, tzinfo=JST) - start).total_seconds()
        for lg in sorted(residents):
            for _ in range(poisson(self.rng, RATE * residents[lg] * self.scale)):
                when = start + timedelta(seconds=round(self.rng.random() * span, 3))
                out.append((when, "kiosk", self._event(lg)))
        return out

    def _event(self, lg: str) -> Callable[[], None]:
        return lambda: self.session(lg)

    def lose_answer(self) -> bool:
        wire = self.cluster.wire
        return wire.active and self.rng.random() < wire.rates.drop_reply

    # -- a card -----------------------------------------------------------------------------------

    def _card(self, lg: str) -> SimCard | None:
        mine = self.cards.get(lg, [])
        if mine and self.rng.random() >= NEW_CARD:
            return mine[self.rng.randrange(len(mine))]
        return self._issue_card(lg)

    def _issue_card(self, lg: str) -> SimCard | None:
        """交付 at the counter to a resident without a card from the simulation."""
        node = self.cluster.municipality(lg)
        if node is None:
            self.stats.cards_refused["counter_down"] += 1
            return None
        taken = {c.holder for c in self.cards.get(lg, [])}
        r = resident_records.c
        with node.engine.connect() as conn:
            codes = [
                c
                for c in conn.execute(
                    sa.select(r.resident_code).where(r.status == "active").order_by(r.resident_code)
                ).scalars()
                if c not in taken
            ]
        if not codes:
            return None
        code = codes[self.rng.randrange(len(codes))]
        token = SoftCardToken(f"SIM-{lg}-{code}")
        uow = SqlCardUnitOfWork(node.engine, clock=node.clock)
        command = IssueCard(code, token.serial, Backend.SOFT, node.clock.today(), PIN)
        try:
            cards.issue_card(uow, CLERK, command, token, NetworkCertifier(node))
        except JukiError as exc:
            self.stats.cards_refused[getattr(exc, "rule", type(exc).__name__)] += 1
            return None
        except sa.exc.SQLAlchemyError as exc:
            if not is_disk_full(exc):
                raise
            self.stats.cards_refused["disk_full"] += 1
            return None
        except SimCrash as crash:  # the counter's node died at its commit: no card
            self.stats.cards_refused["crashed"] += 1
            self.cluster.crashes.append(crash)
            return None
        self.stats.cards_issued += 1
        card = SimCard(token.serial, lg, code, token)
        self.cards.setdefault(lg, []).append(card)
        self._note(f"{lg} card {card.serial} issued", card)
        return card

    # -- a session --------------------------------------------------------------------------------

    def _relay_port(self) -> SimRelay | None:
        national = self.cluster.national()
        if national is None:
            return None
        if self._relay is None or self._relay[0] is not national:
            self._relay = (national, KioskRelay(national))  # its challenges die with the node
        return SimRelay(self, self._relay[1])

    def session(self, lg: str) -> None:
        card = self._card(lg)
        relay = self._relay_port()
        if card is None or relay is None:
            return
        self.stats.sessions += 1
        members = "household" if self.rng.random() < HOUSEHOLD else "self"
        try:
            session = KioskSession.start(
                relay, self.cluster.root, store_id=STORE, clock=self.cluster.master
            )
            if self.rng.random() < WRONG_PIN_FIRST:
                self.stats.wrong_pins += 1
                with contextlib.suppress(WrongPinAtKiosk):  # the tries left are shown
                    session.authenticate(card.token, WRONG_PIN)
            session.authenticate(card.token, PIN)
            session.choose(card.lg, "residence", members=members)
            result = session.request()
        except KioskStop as exc:
            self._stopped(card, exc.rule)
            return
        except RuleViolation as exc:  # the relay or the card check refused
            self._stopped(card, exc.rule)
            return
        if result.outcome != "issued" or result.pdf is None:
            self.stats.refused[result.refusal_code or "refused"] += 1
            session.finish()
            self._note(f"kiosk: {card.serial} refused ({result.refusal_code})", card)
            return
        self._printed(card, members, result.pdf, result.certificate_id or "", result.issue_numbers)
        try:
            if self.rng.random() < JAM:
                session.spoiled(result.issue_numbers[0])
                self.stats.spoiled += 1
            session.finish()
        except KioskStop as exc:  # the hop to record the jam timed out: the session aborted
            self._note(f"kiosk: {card.serial} after printing: {exc.rule}", card)

    def _stopped(self, card: SimCard, rule: str) -> None:
        if rule == "aborted":
            self.stats.aborted += 1
        else:
            self.stats.refused[rule] += 1
        self._note(f"kiosk: {card.serial} {rule}", card)

    def _printed(
        self, card: SimCard, members: str, pdf: bytes, certificate_id: str, numbers: tuple[str, ...]
    ) -> None:
        verdict = verify_pdf(pdf, [self.cluster.root])
        self.pages.append(
            Page(
                at=self.cluster.master.now(),
                lg=card.lg,
                serial=card.serial,
                holder=card.holder,
                members=members,
                ok=verdict.ok,
                reason=verdict.reason,
                issuer_lg=verdict.issuer_lg_code,
                names=verdict.names,
                history_upto=self._history_upto(verdict.issuer_lg_code or card.lg),
                certificate_id=certificate_id,
                issue_numbers=numbers,
                pdf_slices=tuple(pdf[i : i + 32].hex() for i in (len(pdf) // 3, len(pdf) // 2)),
            )
        )
        self.stats.printed += 1
        self._note(f"kiosk: {card.serial} printed {certificate_id} ({members})", card)

    def _history_upto(self, lg: str) -> int:
        """How far the issuing registry's change history had got (the simulation runs one
        thing at a time, so nothing has changed since the certificate was made)."""
        engine, temporary = self.cluster.engine_for_reading(lg)
        try:
            with engine.connect() as conn:
                last = conn.execute(sa.select(sa.func.max(record_changes.c.change_id))).scalar()
        finally:
            if temporary:
                engine.dispose()
        return int(last or 0)

    def _note(self, text: str, card: SimCard) -> None:
        self.trace.add(
            self.cluster.master.now(), text, [f"node:{card.lg}", f"person:{card.holder}"]
        )
