"""The register's use cases; each runs through `juki.security.actions.perform`, so it is
authorised, and it and its oplog entry commit together (a refusal is logged on its own).

History is never rewritten: a version of a row, once loaded, changes only by being given the
day it is withdrawn (an amendment that repeals it); any other change to a row is a new version
with its own `effective_from`. A withdrawn agency stays in the register with its day.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from juki.core.errors import RuleViolation
from juki.provision.commands import AddAgency, LoadTasks, WithdrawAgency
from juki.provision.model import Agency, AgencyKind, AgencyStatus, PermittedTask
from juki.provision.ports import ProvisionUnitOfWork
from juki.provision.register_file import check_agency_id, check_text
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission

SHA256 = re.compile(r"^[0-9a-f]{64}$")
Issuer = Callable[[str], str]  # agency id → the SHA-256 of the client certificate issued it


@dataclass(frozen=True, slots=True)
class LoadResult:
    added: tuple[str, ...]  # "別表第一 の 九十一 from 2002-08-05"
    withdrawn: tuple[str, ...]
    unchanged: int


def _today(uow: ProvisionUnitOfWork) -> date:
    return uow.clock.now().date()


def add_agency(
    uow: ProvisionUnitOfWork, by: Actor, cmd: AddAgency, issue: Issuer | None = None
) -> Agency:
    """With `issue`, the credential is issued once the request passed every rule, and its
    fingerprint registered (`cmd.certificate_sha256` is then not read)."""

    def work(u: ProvisionUnitOfWork) -> Agency:
        agency_id = check_agency_id("agency_id", cmd.agency_id)
        name = check_text("name", cmd.name, 100)
        if cmd.kind not in set(AgencyKind):
            raise RuleViolation("kind", "agency_kind", "not an agency kind", "機関の種別が不正です")
        old = u.provision.agency(agency_id)
        if old is not None and old.status is AgencyStatus.WITHDRAWN:
            raise RuleViolation(
                "agency_id",
                "withdrawn",
                f"agency {agency_id} was withdrawn on {old.withdrawn_on}; register a new id",
                "廃止された機関IDは再登録できません（新しいIDで登録してください）",
            )
        if old is not None and (old.kind, old.name) != (cmd.kind, name):
            raise RuleViolation(
                "agency_id",
                "taken",
                f"agency {agency_id} is registered as {old.kind} {old.name}",
                "この機関IDは別の機関として登録されています",
            )
        sha256 = issue(agency_id) if issue is not None else cmd.certificate_sha256
        if not SHA256.fullmatch(sha256):
            raise RuleViolation(
                "certificate", "fingerprint", "not a SHA-256 fingerprint", "証明書の指紋が不正です"
            )
        agency = Agency(
            agency_id,
            name,
            AgencyKind(cmd.kind),
            AgencyStatus.ACTIVE,
            sha256,
            old.registered_on if old is not None else _today(u),
        )
        u.provision.put_agency(agency)
        return agency

    return perform(
        uow,
        by,
        Permission.MANAGE_PROVISION_REGISTER,
        f"agency:{cmd.agency_id[:32]}",
        work,
        describe=lambda a: f"{a.kind} {a.name} sha256 {a.certificate_sha256[:16]}",
    )


def withdraw_agency(uow: ProvisionUnitOfWork, by: Actor, cmd: WithdrawAgency) -> Agency:
    def work(u: ProvisionUnitOfWork) -> Agency:
        old = u.provision.agency(cmd.agency_id)
        if old is None or old.status is not AgencyStatus.ACTIVE:
            raise RuleViolation(
                "agency_id",
                "not_active",
                f"no active agency {cmd.agency_id[:32]}",
                "利用中の機関として登録されていません",
            )
        on = cmd.on or _today(u)
        if on < old.registered_on:
            raise RuleViolation(
                "on", "period", "before the agency was registered", "登録日より前の日付です"
            )
        agency = replace(old, status=AgencyStatus.WITHDRAWN, withdrawn_on=on)
        u.provision.put_agency(agency)
        return agency

    return perform(
        uow,
        by,
        Permission.MANAGE_PROVISION_REGISTER,
        f"agency:{cmd.agency_id[:32]}",
        work,
        describe=lambda a: f"withdrawn from {a.withdrawn_on}",
    )


def list_agencies(uow: ProvisionUnitOfWork, by: Actor) -> list[Agency]:
    return perform(
        uow,
        by,
        Permission.VIEW_PROVISION_REGISTER,
        "provision_agencies",
        lambda u: u.provision.agencies(),
        describe=lambda found: str(len(found)),
    )


def list_tasks(uow: ProvisionUnitOfWork, by: Actor) -> list[PermittedTask]:
    """Every version of every row, the withdrawn ones included."""
    return perform(
        uow,
        by,
        Permission.VIEW_PROVISION_REGISTER,
        "permitted_tasks",
        lambda u: u.provision.versions(),
        describe=lambda found: str(len(found)),
    )


def _same(a: PermittedTask, b: PermittedTask) -> bool:
    return replace(a, withdrawn_on=None, verified=False) == replace(
        b, withdrawn_on=None, verified=False
    )


def _load_one(
    u: ProvisionUnitOfWork, i: int, task: PermittedTask, held: dict[tuple[str, date], PermittedTask]
) -> str:
    where = f"tasks[{i}] ({task.ref})"
    for agency_id in sorted(task.agencies):
        if u.provision.agency(agency_id) is None:
            raise RuleViolation(
                f"{where}.agencies",
                "unknown_agency",
                f"agency {agency_id} is not registered (juki agency add first)",
                f"機関 {agency_id} が登録されていません（先に juki agency add）",
            )
    old = held.get((task.ref, task.effective_from))
    if old is None:
        u.provision.add_version(task)
        return "added"
    if not _same(old, task):
        raise RuleViolation(
            where,
            "history",
            "a loaded version is not rewritten: give the amendment its own effective_from",
            "登録済みの事務は書き換えられません（改正は新しい施行日で追加してください）",
        )
    if old.withdrawn_on == task.withdrawn_on:
        return "unchanged"
    if old.withdrawn_on is not None:
        raise RuleViolation(
            f"{where}.withdrawn_on",
            "history",
            f"already withdrawn from {old.withdrawn_on}",
            "既に廃止日が登録されています",
        )
    if task.withdrawn_on is None:  # pragma: no cover - equal to old's None above
        return "unchanged"
    u.provision.set_withdrawn(task.ref, task.effective_from, task.withdrawn_on)
    return "withdrawn"


def load_tasks(uow: ProvisionUnitOfWork, by: Actor, cmd: LoadTasks) -> LoadResult:
    """Add the file's new versions and the withdrawal days of loaded ones, all or nothing."""

    def work(u: ProvisionUnitOfWork) -> LoadResult:
        held = {(v.ref, v.effective_from): v for v in u.provision.versions()}
        done: dict[str, list[str]] = {"added": [], "withdrawn": [], "unchanged": []}
        for i, task in enumerate(cmd.tasks):
            done[_load_one(u, i, task, held)].append(f"{task.ref} from {task.effective_from}")
        return LoadResult(tuple(done["added"]), tuple(done["withdrawn"]), len(done["unchanged"]))

    return perform(
        uow,
        by,
        Permission.MANAGE_PROVISION_REGISTER,
        "permitted_tasks",
        work,
        describe=lambda r: (
            f"added {len(r.added)}, withdrawn {len(r.withdrawn)}, unchanged {r.unchanged}"
            + "".join(f"; withdrawn {w}" for w in r.withdrawn)
        ),
    )
