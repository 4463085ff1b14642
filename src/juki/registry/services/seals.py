"""Seal registration (印鑑登録): register, abolish, and read the live one."""

from __future__ import annotations

import dataclasses

from juki.core.errors import DomainRuleError
from juki.registry import rules
from juki.registry.commands import AbolishSeal, RegisterSeal
from juki.registry.ports import RegistryUnitOfWork
from juki.registry.seal import SealRegistration, SealStatus, validate_seal_image
from juki.registry.services.checks import active_record, require
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission


def register_seal(uow: RegistryUnitOfWork, by: Actor, cmd: RegisterSeal) -> SealRegistration:
    def run(uow: RegistryUnitOfWork) -> SealRegistration:
        record = active_record(uow, cmd.record_id)
        rules.not_in_future("registered_on", cmd.registered_on, uow.clock.today())
        rules.seal_age(record, cmd.registered_on)
        digest = validate_seal_image(cmd.image_png)
        if uow.seals.live_for(record.record_id) is not None:
            raise DomainRuleError(
                "record_id",
                "one_seal",
                "this resident already has a registered seal; abolish it first",
                "既に印鑑登録があります。廃止してから登録してください",
            )
        seal = SealRegistration(
            registration_number=uow.seals.next_number(),
            record_id=record.record_id,
            image_png=cmd.image_png,
            image_sha256=digest,
            registered_on=cmd.registered_on,
        )
        uow.seals.add(seal)
        return seal

    return perform(
        uow,
        by,
        Permission.REGISTER_SEAL,
        f"record:{cmd.record_id}",
        run,
        describe=lambda s: f"seal:{s.registration_number}",
    )


def abolish_seal(uow: RegistryUnitOfWork, by: Actor, cmd: AbolishSeal) -> SealRegistration:
    def run(uow: RegistryUnitOfWork) -> SealRegistration:
        seal = uow.seals.get(cmd.registration_number)
        if not seal.is_live:
            raise DomainRuleError(
                "registration_number",
                "already_abolished",
                "this seal registration is already abolished",
                "この印鑑登録は既に廃止されています",
            )
        rules.not_in_future("abolished_on", cmd.abolished_on, uow.clock.today())
        rules.not_before(
            "abolished_on", cmd.abolished_on, seal.registered_on, "registration date", "登録日"
        )
        require(cmd.reason.strip(), "reason", "廃止の理由")
        after = dataclasses.replace(
            seal,
            status=SealStatus.ABOLISHED,
            abolished_on=cmd.abolished_on,
            abolish_reason=cmd.reason.strip()[:200],
        )
        uow.seals.save(after)
        return after

    return perform(uow, by, Permission.ABOLISH_SEAL, f"seal:{cmd.registration_number}", run)


def live_seal(uow: RegistryUnitOfWork, by: Actor, record_id: str) -> SealRegistration | None:
    return perform(
        uow, by, Permission.VIEW_SEAL, f"record:{record_id}", lambda u: u.seals.live_for(record_id)
    )
