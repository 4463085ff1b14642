"""Issuing at the counter over the JSON API — with a third party's 申出 (第12条の3) when the
requester is one — and 本人通知: registration, withdrawal, the notices to post, marking one sent.

Body → request → service → response model, as every API family here; refusals are 422 naming
the field in the body (`third_party.purpose`, `third_party.id_document` …) and the rule.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from juki.certificates.desk import CertificateDesk
from juki.certificates.model import (
    ALL_MEMBERS,
    CertificateKind,
    CertificateRequest,
    Members,
    OptionalItem,
    Requester,
)
from juki.certificates.self_notice import SelfNotice, SelfNoticeRegistration
from juki.certificates.services.self_notice import (
    MAX_LIST,
    mark_self_notice_sent,
    register_self_notice,
    self_notices_to_send,
    withdraw_self_notice,
)
from juki.certificates.third_party import (
    IdDocument,
    Qualification,
    RequestBasis,
    ThirdPartyRequest,
)
from juki.web.auth import OperatorActor
from juki.web.errors import READ_RESPONSES, WRITE_RESPONSES

ResidentCodeStr = Annotated[str, Field(pattern=r"^[0-9]{11}$")]
Text = Annotated[str, Field(max_length=400)]


class ThirdPartyIn(BaseModel):
    """申出 of a third party (第12条の3): what the form says and what the counter saw."""

    basis: RequestBasis = Field(description="第1項第1号・第2号・第3号, or 第2項 (entrusted)")
    purpose: Text = Field(description="利用目的, concretely")
    requester_name: Text = Field(description="請求者の氏名, or the 法人's name")
    requester_address: Text = Field(description="請求者の住所, or the 法人's office")
    corporation: bool = False
    person_in_charge: Text = Field("", description="the person who came, for a 法人")
    qualification: Qualification | None = Field(None, description="第2項: 弁護士, 司法書士 …")
    registration_number: Text = Field("", description="第2項: the qualification's number")
    client_name: Text = Field("", description="第2項: 依頼者の氏名")
    id_document: IdDocument | None = Field(None, description="本人確認書類 shown")
    id_document_number: Text = Field("", description="its number, as the counter saw it")

    def to_domain(self) -> ThirdPartyRequest:
        return ThirdPartyRequest(
            basis=self.basis,
            purpose=self.purpose,
            requester_name=self.requester_name,
            requester_address=self.requester_address,
            id_document=self.id_document,
            id_document_number=self.id_document_number,
            corporation=self.corporation,
            person_in_charge=self.person_in_charge,
            qualification=self.qualification,
            registration_number=self.registration_number,
            client_name=self.client_name,
        )


class CounterIssueIn(BaseModel):
    """A certificate asked for at this counter, the applicant's identity checked."""

    kind: Literal["residence", "record_items", "seal", "fuhyo"] = Field(
        description="fuhyo: 戸籍の附票の写し (法20条), at the 本籍 municipality"
    )
    resident_code: ResidentCodeStr
    members: Literal["all"] | Annotated[list[ResidentCodeStr], Field(max_length=50)] = Field(
        default_factory=list, description="'all', or members' codes (default: the subject)"
    )
    items: Annotated[list[OptionalItem], Field(max_length=len(OptionalItem))] = Field(
        default_factory=list
    )
    copies: Annotated[int, Field(ge=1, le=10)] = 1
    removed: bool = Field(False, description="a 除票の写し")
    requester: Literal["self", "third_party"] = Field(
        "self",
        description="本人・同一世帯員 (第12条; 附票: 本人・配偶者・直系, 第20条1項) "
        "or a third party (第12条の3; 附票: 第20条3項・4項)",
    )
    third_party: ThirdPartyIn | None = Field(None, description="required for a third party")

    def to_request(self) -> CertificateRequest:
        members: Members = ALL_MEMBERS if self.members == ALL_MEMBERS else tuple(self.members)
        return CertificateRequest(
            kind=CertificateKind(self.kind),
            resident_code=self.resident_code,
            members=members,
            items=frozenset(self.items),
            copies=self.copies,
            requester=Requester(self.requester),
            removed=self.removed,
            third_party=self.third_party.to_domain() if self.third_party else None,
        )


class IssuedOut(BaseModel):
    certificate_id: str
    title: str
    kind: str
    subject_resident_code: str
    persons: int
    issue_numbers: list[str]
    fee_yen: int
    digest: str
    pdf_base64: str


class RegistrationIn(BaseModel):
    resident_code: ResidentCodeStr


class RegistrationOut(BaseModel):
    registration_id: str
    resident_code: str
    registered_at: str
    registered_by: str
    withdrawn_at: str | None
    withdrawn_by: str | None

    @classmethod
    def of(cls, r: SelfNoticeRegistration) -> RegistrationOut:
        return cls(
            registration_id=r.registration_id,
            resident_code=r.resident_code,
            registered_at=r.registered_at,
            registered_by=r.registered_by,
            withdrawn_at=r.withdrawn_at,
            withdrawn_by=r.withdrawn_by,
        )


class NoticeOut(BaseModel):
    """One 本人通知 to post: to whom, and what it says."""

    notice_id: str
    certificate_id: str
    resident_code: str
    issued_on: str
    kind: str
    copies: int
    basis: str
    requester_name: str = Field(description="the requester; for 第2項 the 受任者, never the client")
    recipient_name: str
    recipient_address: str
    text_ja: str
    sent_at: str | None

    @classmethod
    def of(cls, n: SelfNotice) -> NoticeOut:
        return cls(
            notice_id=n.notice_id,
            certificate_id=n.certificate_id,
            resident_code=n.resident_code,
            issued_on=n.issued_on.isoformat(),
            kind=n.kind.value,
            copies=n.copies,
            basis=n.basis.value,
            requester_name=n.requester_name,
            recipient_name=n.recipient_name,
            recipient_address=n.recipient_address,
            text_ja=n.text_ja,
            sent_at=n.sent_at,
        )


class NoticesOut(BaseModel):
    notices: list[NoticeOut]


def requests_router(desk: Callable[[], CertificateDesk]) -> APIRouter:
    router = APIRouter(prefix="/api/v1/certificates", tags=["certificates"])

    @router.post("/counter", response_model=IssuedOut, responses=WRITE_RESPONSES)
    def issue_at_counter(body: CounterIssueIn, by: OperatorActor) -> IssuedOut:
        """Issue at this counter; a third party's request records its 申出 with the certificate
        and the 本人通知 it owes (refused without purpose or identification, 422)."""
        issued = desk().issue(by, body.to_request())
        return IssuedOut(
            certificate_id=issued.certificate_id,
            title=issued.content.title,
            kind=issued.kind.value,
            subject_resident_code=issued.subject_resident_code,
            persons=len(issued.content.persons),
            issue_numbers=list(issued.issue_numbers),
            fee_yen=issued.fee_yen,
            digest=issued.digest,
            pdf_base64=base64.b64encode(issued.pdf).decode("ascii"),
        )

    @router.post(
        "/self-notice/registrations",
        response_model=RegistrationOut,
        status_code=status.HTTP_201_CREATED,
        responses=WRITE_RESPONSES,
    )
    def register(body: RegistrationIn, by: OperatorActor) -> RegistrationOut:
        """本人通知の登録 (permission `register_self_notice`)."""
        return RegistrationOut.of(register_self_notice(desk().uow(), by, body.resident_code))

    @router.post(
        "/self-notice/registrations/{resident_code}/withdrawal",
        response_model=RegistrationOut,
        responses=WRITE_RESPONSES,
    )
    def withdraw(
        resident_code: Annotated[str, Path(pattern=r"^[0-9]{11}$")], by: OperatorActor
    ) -> RegistrationOut:
        """本人通知の登録の廃止 (permission `withdraw_self_notice`)."""
        return RegistrationOut.of(withdraw_self_notice(desk().uow(), by, resident_code))

    @router.get("/self-notices", response_model=NoticesOut, responses=READ_RESPONSES)
    def notices(
        by: OperatorActor,
        pending: Annotated[bool, Query(description="only those not yet sent")] = True,
        limit: Annotated[int, Query(ge=1, le=MAX_LIST)] = 200,
    ) -> NoticesOut:
        """本人通知 to print and post, oldest first (permission `send_self_notices`)."""
        found = self_notices_to_send(desk().uow(), by, pending=pending, limit=limit)
        return NoticesOut(notices=[NoticeOut.of(n) for n in found])

    @router.post(
        "/self-notices/{notice_id}/sent", response_model=NoticeOut, responses=WRITE_RESPONSES
    )
    def sent(
        notice_id: Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{36}$")], by: OperatorActor
    ) -> NoticeOut:
        """The notice went in the post (once)."""
        return NoticeOut.of(mark_self_notice_sent(desk().uow(), by, notice_id))

    return router
