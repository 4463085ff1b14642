"""What the agencies ask the network: a 基本4情報 lookup at the national node, as provision.

It is the only event that reads instead of writes: it checks, while faults are still on, that
the national index finds people living in the network (how often it does not is reported, not
a violation; after quiescence the runner's final lookups must all succeed). The lookup is a
provision like any agency's (`juki.nodes.provide.provide_batch`): the simulated agency is in
the national node's register for one task, and each lookup is recorded there.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Final

import sqlalchemy as sa

from juki.core.text import normalize_kana
from juki.nodes.national import NationalNode
from juki.nodes.provide import provide_batch
from juki.provision import services
from juki.provision.answers import IdentityFound
from juki.provision.commands import AddAgency, LoadTasks
from juki.provision.model import AgencyKind, Item, PermittedTask
from juki.provision.requests import Lookup, LookupRequest, name_key
from juki.provision.store import SqlProvisionUnitOfWork
from juki.registry.model import ResidentRecord
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.sim.faults import SimCrash, is_disk_full
from juki.sim.population import SeededIds, Whereabouts
from juki.sim.workload.desk import Desk

SIM_AGENCY: Final = "sim-agency"
SIM_TASK: Final = PermittedTask(
    table="第一",
    row="一",
    title="シミュレーションの照会",
    items=frozenset(Item) - {Item.MY_NUMBER},
    my_number_task=False,
    agencies=frozenset({SIM_AGENCY}),
    effective_from=date(2000, 1, 1),
)
_OPERATOR: Final = Actor("sim-national-operator", Role.NATIONAL_OPERATOR, "sim")


def _registered(national: NationalNode) -> None:
    """The simulated agency and its task, once, in the national node's register."""
    uow = SqlProvisionUnitOfWork(national.engine, clock=national.clock)
    with uow:
        if uow.provision.agency(SIM_AGENCY) is not None:
            return
    services.add_agency(
        uow, _OPERATOR, AddAgency(SIM_AGENCY, "模擬機関", AgencyKind.NATIONAL_GOVERNMENT, "0" * 64)
    )
    services.load_tasks(uow, _OPERATOR, LoadTasks((SIM_TASK,)))


def find(
    national: NationalNode, record: ResidentRecord, rng: random.Random
) -> IdentityFound | None:
    """The one person the national node finds by `record`'s four items (reading, birth date,
    sex, name), provided to the simulated agency; None when not found or not one."""
    _registered(national)
    request = LookupRequest(
        1,
        Lookup.BASIC_ITEMS,
        name_kana_key=normalize_kana(record.family_name_kana + record.given_name_kana),
        name_key=name_key(record.family_name + record.given_name),
        birth_date=record.birth_date,
        sex=str(record.sex),
    )
    result = provide_batch(
        national.engine,
        SIM_AGENCY,
        SIM_TASK.ref,
        "シミュレーションの照合",
        [request],
        clock=national.clock,
        ids=SeededIds(random.Random(rng.getrandbits(64))),
    )
    return result.answers[0].found


def lookup(desk: Desk) -> None:
    """基本4情報 lookup at the national node for someone living somewhere in the network."""
    national = desk.cluster.national()
    residents = [p for p in desk.truth.people.values() if p.status is Whereabouts.RESIDENT]
    if national is None or not residents:
        desk.stats.skipped["lookup"] += 1
        return
    person = residents[desk.rng.randrange(len(residents))]
    record = desk.active_record(person)
    if record is None:
        desk.stats.skipped["lookup"] += 1
        return
    try:
        hit = find(national, record, desk.rng)
    except sa.exc.SQLAlchemyError as exc:  # the national node's disk is full: no answer
        if not is_disk_full(exc):
            raise
        desk.stats.failed["lookup"] += 1
        desk.trace.add(
            desk.cluster.master.now(),
            f"national lookup failed: {str(exc).splitlines()[0]}",
            [f"person:{person.resident_code}", "node:national"],
        )
        return
    except SimCrash as crash:  # the national node died while recording the provision
        desk.stats.failed["lookup"] += 1
        desk.trace.add(desk.cluster.master.now(), "national lookup lost: the node crashed", [])
        desk.cluster.crashes.append(crash)
        desk.cluster.settle_crashes()
        return
    desk.stats.lookups += 1
    found = hit is not None and hit.resident_code == person.resident_code
    desk.stats.lookup_hits += found
    desk.trace.add(
        desk.cluster.master.now(),
        f"national lookup of {person.resident_code}: {'found' if found else 'not (yet) found'}",
        [f"person:{person.resident_code}"],
    )
