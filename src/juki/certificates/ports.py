"""What certificate services need from storage and from the printer, as protocols."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from juki.certificates.fuhyo import FuhyoSnapshot
from juki.certificates.model import (
    CertificateContent,
    CertificateKind,
    CertificateStatus,
    Members,
    Snapshot,
)
from juki.certificates.self_notice import SelfNotice, SelfNoticeRegistration
from juki.certificates.third_party import ThirdPartyRequest
from juki.core.errors import DomainRuleError
from juki.registry.model import Municipality
from juki.registry.ports import RegistryUnitOfWork


class CertificateState(StrEnum):
    ISSUED = "issued"
    VOID = "void"


class RegisterEvent(StrEnum):
    ISSUED = "issued"  # 交付
    SPOILED = "spoiled"  # 書損: a copy jammed or misprinted, and how it was disposed of
    VOIDED = "voided"  # 無効
    FAILED = "failed"  # rendering, signing or printing failed after the numbers were taken

    @property
    def label_ja(self) -> str:
        return {"issued": "交付", "spoiled": "書損", "voided": "無効", "failed": "発行失敗"}[
            self.value
        ]


@dataclass(frozen=True, slots=True)
class CertificateRecord:
    certificate_id: str
    lg_code: str
    record_lg_code: str
    kind: CertificateKind
    channel: str
    subject_resident_code: str
    subject_record_id: str | None
    content_json: str
    digest: str
    issue_numbers: tuple[str, ...]
    copies: int
    fee_yen: int
    issued_at: str
    issued_on: date
    operator_id: str
    terminal_id: str
    status: CertificateState = CertificateState.ISSUED
    printed_at: str | None = None
    pdf_sha256: str | None = None
    signer_sha256: str | None = None
    voided_at: str | None = None
    voided_by: str | None = None
    void_reason: str | None = None
    source_request_id: str | None = None  # 広域交付: the request the home municipality answered


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    """One line of the 交付履歴."""

    at: str
    event: RegisterEvent
    certificate_id: str
    lg_code: str
    terminal_id: str
    operator_id: str
    # None: hidden from a reader whose role may not see 住民票コード (only in what a service
    # returns: the stored line always has it).
    subject_resident_code: str | None
    kind: CertificateKind
    items: str
    members: int
    copies: int
    issue_numbers: tuple[str, ...]
    fee_yen: int
    requester: str
    override_by: str | None = None
    override_reason: str | None = None
    disposal: str | None = None
    source_lg_code: str | None = None  # 広域交付: the home municipality that supplied the content
    entry_id: int | None = None
    # 第三者請求: the 申出 kept with the certificate (read back with an issue line only).
    third_party: ThirdPartyRequest | None = None


class WideAreaOutcome(StrEnum):
    ANSWERED = "answered"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class WideAreaRequestEntry:
    """One line of the home municipality's register of wide-area requests (広域交付の照会記録)."""

    request_id: str
    at: str
    requesting_lg_code: str
    requested_by: str
    # None: hidden from a reader whose role may not see 住民票コード (as RegisterEntry's).
    subject_resident_code: str | None
    # "self", "all", or the resident codes asked for, comma-separated (None: codes hidden)
    members: str | None
    items: str
    outcome: WideAreaOutcome
    persons: int
    rule: str | None = None


class WideAreaReplay(DomainRuleError):
    """The home municipality has registered a request with this id: a replay, answered once."""

    def __init__(self) -> None:
        super().__init__(
            "request_id", "replay", "this request was answered before", "同じ照会が再送されました"
        )


class CertificateRepository(Protocol):
    def snapshot(
        self,
        resident_code: str,
        *,
        removed: bool,
        with_seal: bool,
        municipality: Municipality,
        read_at: datetime,
    ) -> Snapshot: ...

    def fuhyo_snapshot(
        self, resident_code: str, *, municipality: Municipality, read_at: datetime
    ) -> FuhyoSnapshot: ...

    def fee(self, lg_code: str, kind: CertificateKind) -> int | None: ...

    def set_fee(
        self, lg_code: str, kind: CertificateKind, fee_yen: int, at: str, by: str
    ) -> None: ...

    def set_mayor(self, title: str | None, name: str) -> None: ...

    def take_sequence(self, name: str, count: int) -> int: ...

    def add(self, record: CertificateRecord) -> None: ...

    def get(self, certificate_id: str) -> CertificateRecord: ...

    def save(self, record: CertificateRecord) -> None: ...

    def append_register(self, entry: RegisterEntry) -> None: ...

    def register(self, on: date | None, limit: int) -> Sequence[RegisterEntry]: ...

    def spoiled_numbers(self, certificate_id: str) -> tuple[str, ...]: ...

    def status(self, certificate_id: str, digest: str) -> CertificateStatus | None: ...

    def add_third_party_request(
        self, certificate_id: str, at: str, subject_resident_code: str, request: ThirdPartyRequest
    ) -> None: ...

    def third_party_request(self, certificate_id: str) -> ThirdPartyRequest | None: ...

    def wide_area_request_seen(self, request_id: str) -> bool: ...

    def add_wide_area_request(self, entry: WideAreaRequestEntry) -> None:
        """Register a request; `WideAreaReplay` if its id is registered already (also when a
        concurrent transaction registered it first), leaving the transaction usable."""
        ...

    def wide_area_requests(
        self, limit: int, since: date | None = None, until: date | None = None
    ) -> Sequence[WideAreaRequestEntry]:
        """Newest first; `since`/`until` are inclusive days of the request's time."""
        ...


class SelfNoticeRepository(Protocol):
    """本人通知: registrations (at most one live per resident code) and the notices to send."""

    def live_registrations(
        self, resident_codes: Sequence[str]
    ) -> Mapping[str, SelfNoticeRegistration]: ...

    def on_fuhyo(self, resident_code: str) -> bool:
        """Whether this municipality keeps a 附票 entry of the person (it is their 本籍)."""
        ...

    def add_registration(self, registration: SelfNoticeRegistration) -> None:
        """Raises `DomainRuleError` (already_registered) when the code has a live one."""
        ...

    def end_registration(self, registration_id: str, at: str, by: str) -> None: ...

    def add_notice(self, notice: SelfNotice) -> None: ...

    def notices(self, *, pending: bool, limit: int) -> Sequence[SelfNotice]:
        """Oldest first; `pending`: those not yet marked sent."""
        ...

    def get_notice(self, notice_id: str) -> SelfNotice: ...

    def mark_sent(self, notice_id: str, at: str, by: str) -> None: ...


class SelfNoticeUnitOfWork(RegistryUnitOfWork, Protocol):
    @property
    def self_notices(self) -> SelfNoticeRepository: ...


class CertificateUnitOfWork(SelfNoticeUnitOfWork, Protocol):
    @property
    def certificates(self) -> CertificateRepository: ...


@dataclass(frozen=True, slots=True)
class ProducedPdf:
    pdf: bytes
    sha256: str
    signer_sha256: str


class PrintSink(Protocol):
    """Where a produced certificate goes: a printer queue; here a directory or a file."""

    def print(self, pdf: bytes, name: str) -> str: ...


# -- wide-area issuance: what the issuing municipality asks of the home one ----------------------


@dataclass(frozen=True, slots=True)
class WideAreaAsk:
    """What B asks A for: one applicant (and the household members chosen) and the items."""

    home_lg_code: str
    resident_code: str
    members: Members
    items: tuple[str, ...]
    operator_id: str


@dataclass(frozen=True, slots=True)
class SuppliedContent:
    """A's answer after B's CS verified it: signed by A, bound to B's request."""

    request_id: str
    home_lg_code: str
    home_name: str
    resident_code: str
    content: CertificateContent


class ContentSource(Protocol):
    """The municipality's CS, asking a home municipality's CS (juki.nodes.wide_area)."""

    def fetch(self, ask: WideAreaAsk) -> SuppliedContent: ...
