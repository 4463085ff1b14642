"""What must hold whatever the faults did: checked at the end of every simulated day (the cheap
ones) and after the network has quiesced (all of them).

Each check reads the nodes' own databases and compares them with each other and with the
simulator's `Truth`; none trusts a node's own report. A failed check is a `Violation` naming the
trace keys of what it is about, so the run can print the events that led there.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import sqlalchemy as sa

from juki.network.directory import NATIONAL_ID, Directory, NodeKind
from juki.network.messages import (
    FUHYO_NOTICE,
    IDENTITY_INFO_CHANGED,
    MOVE_IN_NOTICE,
    IdentityInfoBody,
)
from juki.network.tables import net_dead_letters, net_inbox, net_links, net_outbox
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.tables import identity_changes, identity_copies, my_numbers
from juki.registry.tables import fuhyo_entries, outbox, record_changes, resident_records
from juki.sim.cluster import Cluster
from juki.sim.population import Truth, Whereabouts

MAX_PER_INVARIANT: Final = 5  # violations of one kind reported; the rest are counted
# What the CS, the prefecture and the national node each hold per person: identity_info and
# its change information, exactly the fields of the message that carries it.
COPY_FIELDS: Final = tuple(IdentityInfoBody.model_fields)
RECORD_FIELDS: Final = (
    "record_id",
    "resident_code",
    "my_number",
    "sex",
    "birth_date",
    "status",
    "removal_reason",
    "address",
    "address_since",
    "honseki",
    "move_out_planned_address",
    "move_out_planned_on",
    "move_out_confirmed_address",
    "move_out_confirmed_on",
)
FUHYO_KEY: Final = (
    "resident_code",
    "honseki",
    "koseki_head",
    "address",
    "address_since",
    "status",
    "change_reason",
    "changed_on",
    "from_lg_code",
)


@dataclass(frozen=True, slots=True)
class Violation:
    invariant: str
    detail: str
    subjects: tuple[str, ...] = ()

    def as_json(self, at: str, trail: Sequence[str]) -> dict[str, Any]:
        return {"invariant": self.invariant, "at": at, "detail": self.detail, "trail": list(trail)}


@dataclass
class Found:
    violations: list[Violation] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, invariant: str, detail: str, *subjects: str) -> None:
        self.counts[invariant] += 1
        if self.counts[invariant] <= MAX_PER_INVARIANT:
            self.violations.append(Violation(invariant, detail, tuple(subjects)))

    def summary(self) -> list[Violation]:
        out = list(self.violations)
        for name, n in sorted(self.counts.items()):
            if n > MAX_PER_INVARIANT:
                out.append(Violation(name, f"… and {n - MAX_PER_INVARIANT} more like these"))
        return out


def _rows(engine: sa.Engine, stmt: sa.Select[Any]) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def _canon(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


@dataclass
class NodeData:
    """Everything the checks read from one node, read once."""

    node_id: str
    kind: NodeKind
    outbox: list[dict[str, Any]]
    inbox: list[dict[str, Any]]
    dead: list[dict[str, Any]]
    links: list[dict[str, Any]]
    copies: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    records: list[dict[str, Any]] = field(default_factory=list)
    record_changes: list[dict[str, Any]] = field(default_factory=list)
    registry_outbox: list[dict[str, Any]] = field(default_factory=list)
    fuhyo: list[dict[str, Any]] = field(default_factory=list)
    my_numbers: list[dict[str, Any]] = field(default_factory=list)


def read_node(cluster: Cluster, node_id: str) -> NodeData:
    kind = cluster.specs[node_id].kind
    engine, temporary = cluster.engine_for_reading(node_id)
    try:
        o, i, d, li = net_outbox.c, net_inbox.c, net_dead_letters.c, net_links.c
        c, ch = identity_copies.c, identity_changes.c
        data = NodeData(
            node_id=node_id,
            kind=kind,
            outbox=_rows(
                engine,
                sa.select(
                    o.message_id, o.peer, o.seq, o.message_type, o.status, o.outcome
                ).order_by(o.outbox_id),
            ),
            inbox=_rows(
                engine,
                sa.select(i.message_id, i.sender, i.seq, i.message_type, i.outcome).order_by(
                    i.sender, i.seq
                ),
            ),
            dead=_rows(
                engine,
                sa.select(
                    d.direction, d.message_id, d.peer, d.message_type, d.reason, d.detail
                ).order_by(d.dead_letter_id),
            ),
            links=_rows(engine, sa.select(net_links).order_by(li.peer)),
            copies=_rows(engine, sa.select(*(c[f] for f in COPY_FIELDS)).order_by(c.lg_code)),
            changes=_rows(
                engine,
                sa.select(ch.lg_code, ch.resident_code, ch.body).order_by(ch.change_id),
            ),
        )
        if kind is NodeKind.MUNICIPALITY:
            r, rc, ob, f = resident_records.c, record_changes.c, outbox.c, fuhyo_entries.c
            data.records = _rows(
                engine, sa.select(*(r[f] for f in RECORD_FIELDS)).order_by(r.record_id)
            )
            data.record_changes = _rows(
                engine,
                sa.select(rc.record_id, rc.seq, rc.reason, rc.fields).order_by(
                    rc.record_id, rc.seq
                ),
            )
            data.registry_outbox = _rows(
                engine,
                sa.select(ob.message_type, ob.key, ob.payload, ob.delivered_at).order_by(
                    ob.outbox_id
                ),
            )
            data.fuhyo = _rows(engine, sa.select(fuhyo_entries).order_by(f.entry_id))
        if node_id == NATIONAL_ID:
            data.my_numbers = _rows(engine, sa.select(my_numbers))
    finally:
        if temporary:
            engine.dispose()
    return data


# -- the cheap checks, at the end of every day -----------------------------------------------


def _count_by_lg(engine: sa.Engine, table: sa.Table) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            str(lg): int(n)
            for lg, n in conn.execute(
                sa.select(table.c.lg_code, sa.func.count()).group_by(table.c.lg_code)
            ).all()
        }


def daily(cluster: Cluster, *, faults: bool) -> list[Violation]:
    """Nothing applied twice so far, nobody resident twice, no dead letters without faults."""
    found = Found()
    directory = _directory(cluster)
    active: dict[str, list[str]] = defaultdict(list)
    counts: dict[str, dict[str, int]] = {}
    pumped: dict[str, int] = {}
    for node_id in cluster.order:
        engine, temporary = cluster.engine_for_reading(node_id)
        try:
            counts[node_id] = _count_by_lg(engine, identity_changes)
            with engine.connect() as conn:
                dead = conn.execute(
                    sa.select(net_dead_letters.c.message_type, net_dead_letters.c.reason)
                ).all()
                if cluster.specs[node_id].kind is NodeKind.MUNICIPALITY:
                    for code in conn.execute(
                        sa.select(resident_records.c.resident_code).where(
                            resident_records.c.status == "active"
                        )
                    ).scalars():
                        active[code].append(node_id)
                    pumped[node_id] = int(
                        conn.execute(
                            sa.select(sa.func.count())
                            .select_from(outbox)
                            .where(
                                (outbox.c.message_type == IDENTITY_INFO_CHANGED)
                                & outbox.c.delivered_at.is_not(None)
                            )
                        ).scalar_one()
                    )
        finally:
            if temporary:
                engine.dispose()
        if dead and not faults:
            found.add(
                "no_dead_letters_without_faults",
                f"{node_id} has dead letters: {sorted({f'{t}/{r}' for t, r in dead})}",
                f"node:{node_id}",
            )
    for code, where in sorted(active.items()):
        if len(where) > 1:
            found.add(
                "resident_of_one_municipality",
                f"{code} is an active resident of {sorted(where)}",
                f"person:{code}",
            )
    for lg, n_pumped in sorted(pumped.items()):
        cs = counts[lg].get(lg, 0)
        if cs != n_pumped:
            found.add(
                "applied_once",
                f"{lg}: the CS applied {cs} identity changes for {n_pumped} forwarded",
                f"node:{lg}",
            )
        parent = directory.require(lg).parent or ""
        pref = counts.get(parent, {}).get(lg, 0)
        nat = counts.get(NATIONAL_ID, {}).get(lg, 0)
        if not nat <= pref <= cs:
            found.add(
                "applied_once",
                f"{lg}: identity changes CS {cs}, prefecture {parent} {pref}, national {nat}: "
                "a level holds more changes than the level below sent",
                f"link:{lg}>{parent}",
                f"link:{parent}>{NATIONAL_ID}",
                f"node:{lg}",
                f"node:{parent}",
            )
    return found.summary()


def _directory(cluster: Cluster) -> Directory:
    national = cluster.national()
    if national is not None:
        return national.directory()
    for node_id in cluster.order:
        if cluster.up(node_id):
            return cluster.node(node_id).directory()
    raise RuntimeError("no node is up to read the directory from")


# -- everything, after quiescence -------------------------------------------------------------


class FinalCheck:
    """The checks after quiescence, over data read once from every node."""

    def __init__(self, cluster: Cluster, truth: Truth, *, faults: bool) -> None:
        self.cluster = cluster
        self.truth = truth
        self.faults = faults
        self.directory = _directory(cluster)
        self.data = {n: read_node(cluster, n) for n in cluster.order}
        self.munis = [d for d in self.data.values() if d.kind is NodeKind.MUNICIPALITY]
        self.found = Found()

    def run(self) -> list[Violation]:
        self.residency()
        self.codes_and_numbers()
        self.levels_agree()
        self.applied_once()
        self.messages_accounted()
        self.move_outs()
        self.fuhyo()
        return self.found.summary()

    # every living person is a resident of exactly one municipality, or moved abroad
    def residency(self) -> None:
        active: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        removed: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
        for d in self.munis:
            for r in d.records:
                (active if r["status"] == "active" else removed)[r["resident_code"]].append(
                    (d.node_id, r)
                )
        national_active: Counter[str] = Counter(
            c["resident_code"] for c in self.data[NATIONAL_ID].copies if c["status"] == "active"
        )
        expect_reason = {
            Whereabouts.DEAD: "death",
            Whereabouts.ABROAD: "emigration",
            Whereabouts.OUTSIDE: "move_out_planned",
        }
        for code in sorted(self.truth.people):
            p = self.truth.people[code]
            here = active.get(code, [])
            key = f"person:{code}"
            if p.status is Whereabouts.RESIDENT:
                if [lg for lg, _ in here] != [p.lg]:
                    self.found.add(
                        "resident_of_one_municipality",
                        f"{code} lives in {p.lg}; active records at {[lg for lg, _ in here]}",
                        key,
                    )
                    continue
                record = here[0][1]
                if (_canon(record["birth_date"]), record["sex"]) != (
                    p.birth_date.isoformat(),
                    p.sex,
                ):
                    self.found.add(
                        "resident_codes_unique",
                        f"{code} at {p.lg} has birth date/sex {record['birth_date']}/"
                        f"{record['sex']}, the person {p.birth_date}/{p.sex}",
                        key,
                    )
                if national_active[code] != 1:
                    self.found.add(
                        "resident_of_one_municipality",
                        f"{code}: the national index has {national_active[code]} active copies",
                        key,
                    )
                continue
            if here:
                self.found.add(
                    "resident_of_one_municipality",
                    f"{code} is {p.status.value} but active at {[lg for lg, _ in here]}",
                    key,
                )
                continue
            if p.status is Whereabouts.MOVING:
                self.found.add(
                    "resident_of_one_municipality",
                    f"{code} moved out of {p.lg} and never moved in anywhere",
                    key,
                )
                continue
            reason = expect_reason[p.status]
            if not any(
                lg == p.lg and r["removal_reason"] == reason for lg, r in removed.get(code, [])
            ):
                self.found.add(
                    "resident_of_one_municipality",
                    f"{code} is {p.status.value}, but {p.lg} has no record removed for {reason}",
                    key,
                )
            if national_active[code]:
                self.found.add(
                    "resident_of_one_municipality",
                    f"{code} is {p.status.value} but active in the national index",
                    key,
                )
        for code in sorted(set(active) - set(self.truth.people)):
            self.found.add(
                "resident_of_one_municipality",
                f"{code} is active at {[lg for lg, _ in active[code]]} but nobody was given it",
                f"person:{code}",
            )

    # resident codes and my_numbers are unique nationally and never reused
    def codes_and_numbers(self) -> None:
        for code in self.truth.reused:
            self.found.add(
                "resident_codes_unique", f"{code} was given to a second person", f"person:{code}"
            )
        sex_of: dict[str, set[str]] = defaultdict(set)
        number_codes: dict[str, set[str]] = defaultdict(set)
        code_numbers: dict[str, set[str]] = defaultdict(set)
        for d in self.munis:
            for r in d.records:
                sex_of[r["resident_code"]].add(r["sex"])
                if r["my_number"]:
                    number_codes[r["my_number"]].add(r["resident_code"])
                    code_numbers[r["resident_code"]].add(r["my_number"])
        for code, sexes in sorted(sex_of.items()):
            if code not in self.truth.people:
                self.found.add(
                    "resident_codes_unique",
                    f"{code} is on a record but was never given to anyone",
                    f"person:{code}",
                )
            elif sexes != {self.truth.people[code].sex}:
                self.found.add(
                    "resident_codes_unique",
                    f"{code} is on records of more than one person (sexes {sorted(sexes)})",
                    f"person:{code}",
                )
        for number, codes in sorted(number_codes.items()):
            if len(codes) > 1:
                self.found.add(
                    "my_numbers_unique",
                    f"my_number …{number[-4:]} is on records of {sorted(codes)}",
                    *(f"person:{c}" for c in sorted(codes)),
                )
        for code, numbers in sorted(code_numbers.items()):
            if len(numbers) > 1:
                self.found.add(
                    "my_numbers_unique",
                    f"{code} has {len(numbers)} different my_numbers on its records",
                    f"person:{code}",
                )
        national = {r["my_number"]: r["resident_code"] for r in self.data[NATIONAL_ID].my_numbers}
        if len(set(national.values())) != len(national):
            self.found.add("my_numbers_unique", "the national node gave one person two numbers")
        for number, codes in sorted(number_codes.items()):
            owner = national.get(number)
            if owner is not None and codes != {owner}:
                self.found.add(
                    "my_numbers_unique",
                    f"my_number …{number[-4:]} belongs to {owner} nationally, "
                    f"to {sorted(codes)} in the registries",
                    *(f"person:{c}" for c in sorted(codes | {owner})),
                )

    # each municipality's identity_info equals its prefecture's and the national node's, field
    # by field, and so does the sequence of changes that led there
    def levels_agree(self) -> None:
        national = self.data[NATIONAL_ID]
        for d in self.munis:
            lg = d.node_id
            parent = self.directory.require(lg).parent or ""
            levels = {"municipality": d, "prefecture": self.data[parent], "national": national}
            copies = {
                name: {
                    c["resident_code"]: tuple(_canon(c[f]) for f in COPY_FIELDS)
                    for c in data.copies
                    if c["lg_code"] == lg
                }
                for name, data in levels.items()
            }
            histories = {name: _histories(data.changes, lg) for name, data in levels.items()}
            for name in ("prefecture", "national"):
                self._compare_copies(lg, name, copies["municipality"], copies[name])
                self._compare_histories(lg, name, histories["municipality"], histories[name])

    def _compare_copies(
        self,
        lg: str,
        level: str,
        mine: Mapping[str, tuple[Any, ...]],
        theirs: Mapping[str, tuple[Any, ...]],
    ) -> None:
        for code in sorted(set(mine) | set(theirs)):
            a, b = mine.get(code), theirs.get(code)
            if a == b:
                continue
            if a is None or b is None:
                side = "only by" if a is None else "not by"
                detail = f"{lg}/{code}: held {side} the {level}"
            else:
                diff = [
                    f"{f}: {x!r} ≠ {y!r}"
                    for f, x, y in zip(COPY_FIELDS, a, b, strict=True)
                    if x != y
                ]
                detail = f"{lg}/{code}: {level} differs from the municipality in {'; '.join(diff)}"
            self.found.add("levels_agree", detail, f"person:{code}", f"node:{lg}")

    def _compare_histories(
        self,
        lg: str,
        level: str,
        mine: Mapping[str, list[str]],
        theirs: Mapping[str, list[str]],
    ) -> None:
        for code in sorted(set(mine) | set(theirs)):
            a, b = mine.get(code, []), theirs.get(code, [])
            if a == b:
                continue
            at = next(
                (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)),
            )
            self.found.add(
                "levels_agree",
                f"{lg}/{code}: change history at the {level} differs from the municipality's "
                f"from change {at + 1} on ({len(a)} changes there, {len(b)} here): "
                f"{_reasons(a[at : at + 3])} vs {_reasons(b[at : at + 3])}",
                f"person:{code}",
                f"node:{lg}",
            )

    # no message was applied twice: every registry change is reflected once at every level
    def applied_once(self) -> None:
        for d in self.munis:
            lg = d.node_id
            sent: Counter[str] = Counter(
                r["key"] for r in d.registry_outbox if r["message_type"] == IDENTITY_INFO_CHANGED
            )
            applied: Counter[str] = Counter(
                c["resident_code"] for c in d.changes if c["lg_code"] == lg
            )
            for code in sorted(set(sent) | set(applied)):
                if sent[code] != applied[code]:
                    self.found.add(
                        "applied_once",
                        f"{lg}/{code}: the registry emitted {sent[code]} identity changes, "
                        f"its CS applied {applied[code]}",
                        f"person:{code}",
                    )
        # a move-in notice confirms the old municipality's move-out once
        notices: Counter[tuple[str, str]] = Counter()
        for d in self.munis:
            for r in d.registry_outbox:
                if r["message_type"] == MOVE_IN_NOTICE:
                    body = json.loads(r["payload"])
                    if self.directory.get(body["from_lg_code"]) is not None:
                        notices[(body["from_lg_code"], body["resident_code"])] += 1
        confirmed: Counter[tuple[str, str]] = Counter()
        for d in self.munis:
            code_of = {r["record_id"]: r["resident_code"] for r in d.records}
            for c in d.record_changes:
                if c["reason"] == "move_out_confirmed":
                    confirmed[(d.node_id, code_of[c["record_id"]])] += 1
        for key in sorted(set(notices) | set(confirmed)):
            if notices[key] != confirmed[key]:
                self.found.add(
                    "applied_once",
                    f"{key[0]}/{key[1]}: {notices[key]} move-in notices sent, "
                    f"{confirmed[key]} move-out confirmations recorded",
                    f"person:{key[1]}",
                )
        for d in self.munis:
            per_record: Counter[str] = Counter(
                c["record_id"] for c in d.record_changes if c["reason"] == "my_number_assigned"
            )
            for record_id, n in sorted(per_record.items()):
                if n > 1:
                    self.found.add(
                        "applied_once",
                        f"{d.node_id}: record {record_id} was assigned a my_number {n} times",
                    )

    # every message sent was applied, or is a dead letter with a reason
    def messages_accounted(self) -> None:
        inboxes = {n: {r["message_id"]: r for r in d.inbox} for n, d in self.data.items()}
        dead_in = {
            n: {r["message_id"] for r in d.dead if r["direction"] == "in"}
            for n, d in self.data.items()
        }
        for node_id, d in self.data.items():
            for r in d.outbox:
                mid, peer = r["message_id"], r["peer"]
                key = f"msg:{mid}"
                if r["status"] == "pending":
                    self.found.add(
                        "messages_accounted",
                        f"{node_id}→{peer} {r['message_type']}#{r['seq']} still pending",
                        key,
                    )
                elif r["status"] == "dead":
                    if not any(x["message_id"] == mid and x["reason"] for x in d.dead):
                        self.found.add(
                            "messages_accounted",
                            f"{node_id}→{peer} {r['message_type']}#{r['seq']} dead without a "
                            "dead letter",
                            key,
                        )
                else:
                    seen = inboxes.get(peer, {}).get(mid)
                    if seen is None:
                        self.found.add(
                            "messages_accounted",
                            f"{node_id}→{peer} {r['message_type']}#{r['seq']} acknowledged "
                            f"({r['outcome']}) but not in {peer}'s inbox",
                            key,
                        )
                    elif seen["outcome"] == "dead_letter" and mid not in dead_in.get(peer, set()):
                        self.found.add(
                            "messages_accounted",
                            f"{node_id}→{peer} {r['message_type']}#{r['seq']} dead-lettered "
                            "without a dead letter",
                            key,
                        )
            sent_by_peer: Counter[str] = Counter(r["peer"] for r in d.outbox)
            for link in d.links:
                peer = link["peer"]
                expected = sent_by_peer[peer]
                received = self.data[peer].links if peer in self.data else []
                last = next((x["last_recv_seq"] for x in received if x["peer"] == node_id), 0)
                if int(link["next_send_seq"]) - 1 != expected or int(last) != expected:
                    self.found.add(
                        "messages_accounted",
                        f"link {node_id}→{peer}: {expected} sent, next seq "
                        f"{link['next_send_seq']}, the receiver's last seq {last}",
                        f"link:{node_id}>{peer}",
                        f"node:{node_id}",
                        f"node:{peer}",
                    )
            for sender in sorted({r["sender"] for r in d.inbox}):
                outgoing = {r["message_id"] for r in self.data[sender].outbox}
                for r in d.inbox:
                    if r["sender"] == sender and r["message_id"] not in outgoing:
                        self.found.add(
                            "messages_accounted",
                            f"{node_id} applied {r['message_id']} that {sender} never sent",
                            f"msg:{r['message_id']}",
                        )
            for r in d.dead:
                if r["direction"] == "out":
                    self.found.add(
                        "no_spurious_refusals",
                        f"{node_id} gave up on {r['message_type']} to {r['peer']}: "
                        f"{r['reason']} {r['detail'][:160]}",
                        f"msg:{r['message_id']}",
                    )
            if not self.faults:
                for r in d.dead:
                    self.found.add(
                        "no_dead_letters_without_faults",
                        f"{node_id}: {r['direction']} {r['message_type']} dead-lettered: "
                        f"{r['reason']} {r['detail'][:160]}",
                        f"msg:{r['message_id']}",
                    )

    # every planned move-out ends confirmed, or listed as never confirmed (転入通知未着者一覧)
    def move_outs(self) -> None:
        unconfirmed: dict[str, set[tuple[str, date]]] = {}
        for d in self.munis:
            node = self.cluster.municipality(d.node_id)
            assert isinstance(node, MunicipalityNode)
            unconfirmed[d.node_id] = {
                (r["resident_code"], r["move_out_planned_on"]) for r in node.unconfirmed_move_outs()
            }
        records = {
            d.node_id: [r for r in d.records if r["removal_reason"] == "move_out_planned"]
            for d in self.munis
        }
        expected_unconfirmed: dict[str, set[tuple[str, date]]] = defaultdict(set)
        for plan in self.truth.move_outs:
            key = f"person:{plan.resident_code}"
            matches = [
                r
                for r in records[plan.from_lg]
                if r["resident_code"] == plan.resident_code
                and r["move_out_planned_on"] == plan.planned_on
                and r["move_out_planned_address"] == plan.destination_address
            ]
            if len(matches) != 1:
                self.found.add(
                    "move_outs_end_confirmed",
                    f"{plan.from_lg}/{plan.resident_code}: {len(matches)} planned move-out "
                    f"records for {plan.planned_on}",
                    key,
                )
                continue
            record = matches[0]
            done = self.truth.completed.get((plan.resident_code, plan.from_lg, plan.planned_on))
            if done is None:
                expected_unconfirmed[plan.from_lg].add((plan.resident_code, plan.planned_on))
                continue
            got = (record["move_out_confirmed_address"], record["move_out_confirmed_on"])
            if got != (done.address, done.moved_on):
                self.found.add(
                    "move_outs_end_confirmed",
                    f"{plan.from_lg}/{plan.resident_code}: moved in at {done.address} on "
                    f"{done.moved_on}, confirmed as {got[0]} on {got[1]}",
                    key,
                )
        for lg in sorted(unconfirmed):
            listed, expected = unconfirmed[lg], expected_unconfirmed.get(lg, set())
            for code, on in sorted(listed - expected):
                self.found.add(
                    "move_outs_end_confirmed",
                    f"{lg} lists {code} (planned {on}) as never confirmed, but they moved in",
                    f"person:{code}",
                )
            for code, on in sorted(expected - listed):
                self.found.add(
                    "move_outs_end_confirmed",
                    f"{lg}/{code}: move-out planned {on} neither confirmed nor listed",
                    f"person:{code}",
                )

    # the 附票 of each family register matches its members' address history
    def fuhyo(self) -> None:
        emitted: Counter[tuple[Any, ...]] = Counter()
        target_of: dict[tuple[Any, ...], str] = {}
        for d in self.munis:
            for r in d.registry_outbox:
                if r["message_type"] != FUHYO_NOTICE:
                    continue
                body = json.loads(r["payload"])
                target = self.directory.municipality_at(body["honseki"])
                if target is None:
                    continue
                key = tuple(body[f] for f in FUHYO_KEY)
                emitted[key] += 1
                target_of[key] = target.node_id
        recorded: Counter[tuple[Any, ...]] = Counter()
        where: dict[tuple[Any, ...], str] = {}
        for d in self.munis:
            for e in d.fuhyo:
                key = tuple(_canon(e[f]) for f in FUHYO_KEY)
                recorded[key] += 1
                where[key] = d.node_id
        for key in sorted(set(emitted) | set(recorded), key=repr):
            if emitted[key] != recorded[key] or (
                recorded[key] and where[key] != target_of.get(key, where[key])
            ):
                self.found.add(
                    "fuhyo_matches_addresses",
                    f"附票 notice for {key[0]} ({key[5]}, {key[6]} {key[7]}, {key[3]}): "
                    f"sent {emitted[key]}×, recorded {recorded[key]}× "
                    f"at {where.get(key, target_of.get(key))}",
                    f"person:{key[0]}",
                )
        addresses: dict[str, set[str]] = defaultdict(set)
        current: dict[str, dict[str, Any]] = {}
        for d in self.munis:
            code_of = {r["record_id"]: r["resident_code"] for r in d.records}
            for c in d.record_changes:
                fields = json.loads(c["fields"])
                if "address" in fields:
                    addresses[code_of[c["record_id"]]].add(fields["address"])
            for r in d.records:
                if r["status"] == "active":
                    current[r["resident_code"]] = r
        entries: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for d in self.munis:
            for e in d.fuhyo:
                entries[e["resident_code"]].append(e)
        for code in sorted(entries):
            mine = entries[code]
            stray = sorted({e["address"] for e in mine} - addresses.get(code, set()))
            if stray:
                self.found.add(
                    "fuhyo_matches_addresses",
                    f"{code}: the 附票 holds addresses the person never had: {stray[:2]}",
                    f"person:{code}",
                )
            now = current.get(code)
            if now is None or not now["honseki"]:
                continue
            if not any(
                e["address"] == now["address"]
                and e["status"] == "active"
                and _canon(e["address_since"]) == _canon(now["address_since"])
                and e["honseki"] == now["honseki"]
                for e in mine
            ):
                self.found.add(
                    "fuhyo_matches_addresses",
                    f"{code}: lives at {now['address']} since {now['address_since']}, "
                    "which the 附票 does not show",
                    f"person:{code}",
                )


def _histories(changes: Iterable[Mapping[str, Any]], lg: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for c in changes:
        if c["lg_code"] == lg:
            out[c["resident_code"]].append(c["body"])
    return out


def _reasons(bodies: Sequence[str]) -> list[str]:
    out = []
    for b in bodies:
        data = json.loads(b)
        out.append(f"{data['change_reason']}@{data['changed_on']}")
    return out
