"""The resident portal's messages (issue 13 point 5: 本人確認情報開示, 提供状況開示, 本人通知).

Every one is a query the national node's portal relay sends after it has checked a card holder's
利用者証明用 signature itself (`juki.nodes.portal_relay`); each node answers only about that one
person and keeps nothing of the question but its oplog entry.

- `disclosure_request` / `disclosure_answer`: national → the municipality that issued the card
  (the card CA's ledger says which). The municipality resolves the card serial to its own
  resident (a working card only) and answers with what it holds about them: its copy of their
  identity_info, the certificates issued about them (counter, kiosk, third party here; 広域交付
  answered for another municipality), the operators' views of their record (role and
  municipality, never the operator), the 本人通知 due to them and whether they are registered.
  A 支援措置 hides a protected person's address from others, never from themself: the answer is
  the same whether one protects them or not (and does not say). And the 訂正の申出 they filed,
  with the counter's decision (a rejection's reason).
- `identity_disclosure_request` / `identity_disclosure_answer`: national → the prefecture of
  that municipality, for the resident code the municipality answered: the prefecture's copy,
  and the provisions the prefecture made about them to agencies (提供状況).
- `portal_action_request` / `portal_action_answer`: national → the card's municipality: the
  holder registers or withdraws 本人通知, or files a request to correct (訂正) their record.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Final, Literal

from pydantic import Field, model_validator

from juki.network.message_base import LgCodeStr, MessageBody, ResidentCodeStr
from juki.network.messages import CURRENT_VERSION, SCHEMAS, IdentityInfoBody

DISCLOSURE_REQUEST: Final = "disclosure_request"
DISCLOSURE_ANSWER: Final = "disclosure_answer"
IDENTITY_DISCLOSURE_REQUEST: Final = "identity_disclosure_request"
IDENTITY_DISCLOSURE_ANSWER: Final = "identity_disclosure_answer"
PORTAL_ACTION_REQUEST: Final = "portal_action_request"
PORTAL_ACTION_ANSWER: Final = "portal_action_answer"
MESSAGE_TYPES: Final = (
    DISCLOSURE_REQUEST,
    DISCLOSURE_ANSWER,
    IDENTITY_DISCLOSURE_REQUEST,
    IDENTITY_DISCLOSURE_ANSWER,
    PORTAL_ACTION_REQUEST,
    PORTAL_ACTION_ANSWER,
)

MAX_ENTRIES: Final = 500  # per list: the newest first; the answer says when it left some off
PortalRequestIdStr = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{22,43}$")]
CardSerialStr = Annotated[str, Field(pattern=r"^[0-9A-Za-z:_-]{1,64}$")]
StampStr = Annotated[str, Field(min_length=10, max_length=40)]
CodeStr = Annotated[str, Field(pattern=r"^[a-z_]{1,40}$")]
NodeIdStr = Annotated[str, Field(pattern=r"^[0-9A-Za-z_-]{1,16}$")]
CorrectionStr = Annotated[str, Field(min_length=1, max_length=400)]


class DisclosureRequest(MessageBody):
    request_id: PortalRequestIdStr
    card_serial: CardSerialStr  # as the relay verified it
    lg_code: LgCodeStr  # the municipality that issued the card


class DisclosedCertificate(MessageBody):
    """One certificate about the person: where and when, which kind, by which way, for whom."""

    at: StampStr
    issued_by: LgCodeStr  # the municipality whose counter, kiosk or 広域交付 desk issued it
    kind: CodeStr
    channel: Literal["counter", "wide_area", "kiosk"]
    requester: Literal["self", "third_party"]
    copies: Annotated[int, Field(ge=0, le=100)]


class DisclosedView(MessageBody):
    """An operator's view of the person's record: the role and where, never who."""

    at: StampStr
    lg_code: LgCodeStr
    role: CodeStr
    action: CodeStr


class DisclosedNotice(MessageBody):
    """本人通知: a third party obtained a certificate about the person."""

    issued_on: date
    kind: CodeStr
    copies: Annotated[int, Field(ge=1, le=100)]
    basis: CodeStr


class DisclosedProvision(MessageBody):
    """提供状況: one answer a node gave an agency about the person (`provision_records`)."""

    at: StampStr
    node_id: NodeIdStr  # the node that answered the agency
    agency_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    task_ref: Annotated[str, Field(max_length=64)] | None
    purpose: Annotated[str, Field(max_length=200)]
    items: Annotated[str, Field(max_length=200)]
    as_of: date | None = None


class DisclosedCorrection(MessageBody):
    """訂正の申出: one the person filed, and the counter's decision (a rejection's reason)."""

    filed_at: StampStr
    status: CodeStr  # open | accepted | rejected | done
    decided_at: StampStr | None = None
    reason: CorrectionStr | None = None


class DisclosureAnswer(MessageBody):
    request_id: PortalRequestIdStr
    card_serial: CardSerialStr
    lg_code: LgCodeStr  # the municipality answering
    resident_code: ResidentCodeStr
    holdings: Annotated[tuple[IdentityInfoBody, ...], Field(max_length=8)]
    certificates: Annotated[tuple[DisclosedCertificate, ...], Field(max_length=MAX_ENTRIES)]
    views: Annotated[tuple[DisclosedView, ...], Field(max_length=MAX_ENTRIES)]
    notices: Annotated[tuple[DisclosedNotice, ...], Field(max_length=MAX_ENTRIES)]
    self_notice_registered: bool
    truncated: bool = False
    corrections: Annotated[tuple[DisclosedCorrection, ...], Field(max_length=MAX_ENTRIES)] = ()


class IdentityDisclosureRequest(MessageBody):
    request_id: PortalRequestIdStr
    resident_code: ResidentCodeStr
    lg_code: LgCodeStr  # the municipality that answered for the card holder


class IdentityDisclosureAnswer(MessageBody):
    request_id: PortalRequestIdStr
    resident_code: ResidentCodeStr
    node_id: NodeIdStr  # the prefecture answering
    holdings: Annotated[tuple[IdentityInfoBody, ...], Field(max_length=8)]
    provisions: Annotated[tuple[DisclosedProvision, ...], Field(max_length=MAX_ENTRIES)] = ()
    truncated: bool = False

    @model_validator(mode="after")
    def _only_the_person(self) -> IdentityDisclosureAnswer:
        if any(h.resident_code != self.resident_code for h in self.holdings):
            raise ValueError("an identity disclosure holds only the person asked about")
        return self


class PortalActionRequest(MessageBody):
    request_id: PortalRequestIdStr
    card_serial: CardSerialStr
    lg_code: LgCodeStr
    action: Literal["register_self_notice", "withdraw_self_notice", "correction"]
    text: CorrectionStr | None = None  # correction only: what the holder says is wrong

    @model_validator(mode="after")
    def _text_iff_correction(self) -> PortalActionRequest:
        if (self.action == "correction") != (self.text is not None):
            raise ValueError("a correction request says what is wrong, and only it does")
        return self


class PortalActionAnswer(MessageBody):
    request_id: PortalRequestIdStr
    card_serial: CardSerialStr
    lg_code: LgCodeStr
    outcome: Literal["done", "refused"]
    rule: CodeStr | None = None  # refused only
    message_ja: Annotated[str, Field(max_length=200)] | None = None


for _name, _schema in (
    (DISCLOSURE_REQUEST, DisclosureRequest),
    (DISCLOSURE_ANSWER, DisclosureAnswer),
    (IDENTITY_DISCLOSURE_REQUEST, IdentityDisclosureRequest),
    (IDENTITY_DISCLOSURE_ANSWER, IdentityDisclosureAnswer),
    (PORTAL_ACTION_REQUEST, PortalActionRequest),
    (PORTAL_ACTION_ANSWER, PortalActionAnswer),
):
    SCHEMAS[(_name, 1)] = _schema
    CURRENT_VERSION[_name] = 1
