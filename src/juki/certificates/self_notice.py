"""本人通知 (本人通知制度): telling a registered resident that a third party obtained their
certificate — the registration, the notice, and the rule for which notices are due. No I/O.

The system is each municipality's own (要綱), built on 住民基本台帳法 第12条の3 and the 2008
amendment that made third-party requests state who and why: a resident who registered is sent,
by post, the day a 住民票の写し or 記載事項証明書 showing them was issued to a third party, its
kind and copies, and the requester's category and name — for a 特定事務受任者 (第2項) the
受任者's name and qualification, never the client's. A notice is due for each registered
person the certificate shows (one 世帯全員の写し can notify several), and only for a third
party's request: a resident's own or a household member's request notifies no one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from juki.certificates.model import CertificateKind
from juki.certificates.third_party import RequestBasis, ThirdPartyRequest


class NoticeSubject(Protocol):
    """A person a certificate shows, as a notice addresses them: a resident record, or a person
    of a 附票 (`juki.certificates.fuhyo.FuhyoPerson`, the last address it holds)."""

    @property
    def resident_code(self) -> str: ...

    @property
    def full_name(self) -> str: ...

    @property
    def address(self) -> str: ...


@dataclass(frozen=True, slots=True)
class SelfNoticeRegistration:
    """A resident's registration for 本人通知; `withdrawn_at` set once they withdraw it."""

    registration_id: str
    resident_code: str
    registered_at: str
    registered_by: str
    withdrawn_at: str | None = None
    withdrawn_by: str | None = None

    @property
    def is_live(self) -> bool:
        return self.withdrawn_at is None


@dataclass(frozen=True, slots=True)
class SelfNotice:
    """One notice to post: to whom, about which certificate, and what it says of the requester."""

    notice_id: str
    registration_id: str
    certificate_id: str
    resident_code: str
    issued_on: date
    kind: CertificateKind
    copies: int
    basis: RequestBasis
    requester_name: str
    recipient_name: str
    recipient_address: str
    created_at: str
    sent_at: str | None = None
    sent_by: str | None = None

    @property
    def text_ja(self) -> str:
        """The body of the printed notice."""
        return (
            f"{self.recipient_name}様　{self.issued_on.year}年{self.issued_on.month}月"
            f"{self.issued_on.day}日に、あなたの{self.kind.label_ja}{self.copies}通を"
            f"第三者（{self.basis.label_ja}）の{self.requester_name}に交付しました。"
        )


@dataclass(frozen=True, slots=True)
class IssuedToThirdParty:
    """What a notice reports of one issuance to a third party."""

    certificate_id: str
    issued_on: date
    kind: CertificateKind
    copies: int
    request: ThirdPartyRequest


def notices_due(
    issued: IssuedToThirdParty,
    shown: Iterable[NoticeSubject],
    live: Mapping[str, SelfNoticeRegistration],
    *,
    new_id: Callable[[], str],
    now: str,
) -> list[SelfNotice]:
    """A notice for each person the certificate shows who holds a live registration (`live`,
    by resident code), addressed to them as the record reads at issue."""
    notices: list[SelfNotice] = []
    for person in shown:
        registration = live.get(person.resident_code)
        if registration is None or not registration.is_live:
            continue
        notices.append(
            SelfNotice(
                notice_id=new_id(),
                registration_id=registration.registration_id,
                certificate_id=issued.certificate_id,
                resident_code=person.resident_code,
                issued_on=issued.issued_on,
                kind=issued.kind,
                copies=issued.copies,
                basis=issued.request.basis,
                requester_name=issued.request.notice_name,
                recipient_name=person.full_name,
                recipient_address=person.address,
                created_at=now,
            )
        )
    return notices
