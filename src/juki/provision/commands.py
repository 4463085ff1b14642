"""What a national operator asks of the register, as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from juki.provision.model import AgencyKind, PermittedTask


@dataclass(frozen=True, slots=True)
class AddAgency:
    """Register a recipient agency with its credential's fingerprint (or renew the
    certificate of one already active); `services.add_agency` may issue the credential
    itself, once the rest has passed, and then ignores `certificate_sha256`."""

    agency_id: str
    name: str
    kind: AgencyKind
    certificate_sha256: str


@dataclass(frozen=True, slots=True)
class WithdrawAgency:
    """From `on` (today when None) the agency receives nothing; it stays in the register."""

    agency_id: str
    on: date | None = None


@dataclass(frozen=True, slots=True)
class LoadTasks:
    """Versions of 別表 rows, as a register file holds them (`register_file.parse_register`)."""

    tasks: tuple[PermittedTask, ...]
