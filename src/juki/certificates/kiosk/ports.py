"""What the kiosk services need from storage, as protocols (SQL: `kiosk.store`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from juki.certificates.fuhyo import FuhyoSnapshot
from juki.certificates.kiosk.model import KioskSettings
from juki.certificates.model import CertificateKind, Snapshot
from juki.certificates.ports import CertificateUnitOfWork


@dataclass(frozen=True, slots=True)
class KioskRequestEntry:
    """One line of the register of kiosk requests (issued or refused)."""

    request_id: str
    card_serial: str
    at: str
    subject_resident_code: str
    kind: CertificateKind | None  # None: voided before the request arrived
    outcome: str  # "issued" | "refused" | "voided" (a kiosk_void came first)
    code: str | None = None
    rule: str | None = None
    certificate_id: str | None = None


@dataclass(frozen=True, slots=True)
class KioskRead:
    """Everything one read transaction saw for a request: the settings, whether the request
    id was seen, the holder's record with their household (and seal), and their 附票."""

    settings: KioskSettings
    seen: bool
    snapshot: Snapshot
    fuhyo: FuhyoSnapshot | None


# Called with the settings and whether the request id was seen, before anything personal is
# read: it raises when the kiosk is refused anyway (closed, kind not offered, a replay).
Gate = Callable[[KioskSettings, bool], None]


class KioskReader(Protocol):
    """Reads one consistent snapshot for a kiosk request, in a read transaction of its own."""

    def read(
        self,
        holder_resident_code: str,
        kind: CertificateKind,
        request_id: str,
        read_at: datetime,
        gate: Gate,
    ) -> KioskRead:
        """`NotFoundError` when the holder has no record here; a rule's error (no 附票 here)
        as raised by the counter's readers; whatever `gate` raises."""
        ...


class KioskRepository(Protocol):
    def settings(self, lg_code: str) -> KioskSettings | None: ...

    def save_settings(self, lg_code: str, settings: KioskSettings, at: str, by: str) -> None: ...

    def request(self, request_id: str) -> KioskRequestEntry | None: ...

    def add_request(self, entry: KioskRequestEntry) -> None:
        """Register a request; `KioskRefused` (replay) when its id is registered already,
        also by a concurrent transaction, leaving the transaction usable."""
        ...


class KioskUnitOfWork(CertificateUnitOfWork, Protocol):
    @property
    def kiosk(self) -> KioskRepository: ...
