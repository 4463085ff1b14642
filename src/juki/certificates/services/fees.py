"""手数料: the fee per copy of each kind, as this municipality sets it.

Issuing prices a certificate with `fee_per_copy` (counter and wide-area alike); the operations
manager changes the table with `set_fee`, authorised and logged like any other action.
"""

from __future__ import annotations

from typing import Final

from juki.certificates.model import CertificateKind
from juki.certificates.ports import CertificateUnitOfWork
from juki.core.errors import ValidationError
from juki.registry.ports import RegistryUnitOfWork
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission

DEFAULT_FEE_YEN: Final = 300  # per copy, when the municipality's fee table has no row
MAX_FEE_YEN: Final = 100_000


def fee_per_copy(uow: CertificateUnitOfWork, lg_code: str, kind: CertificateKind) -> int:
    fee = uow.certificates.fee(lg_code, kind)
    return DEFAULT_FEE_YEN if fee is None else fee


def set_fee(uow: CertificateUnitOfWork, by: Actor, kind: CertificateKind, fee_yen: int) -> int:
    """手数料 per copy for this municipality."""

    def run(_: RegistryUnitOfWork) -> int:
        if not 0 <= fee_yen <= MAX_FEE_YEN:
            raise ValidationError(
                "fee_yen",
                "range",
                f"a fee must be between 0 and {MAX_FEE_YEN} yen",
                f"手数料は0〜{MAX_FEE_YEN}円で指定してください",
            )
        uow.certificates.set_fee(
            uow.municipality.lg_code,
            CertificateKind(kind),
            fee_yen,
            uow.clock.now().isoformat(),
            by.actor_id,
        )
        return fee_yen

    return perform(
        uow,
        by,
        Permission.MANAGE_CERTIFICATE_FEES,
        f"fee:{CertificateKind(kind).value}",
        run,
        describe=lambda v: f"{v} yen per copy",
    )
