"""Wide-area issuance (広域交付, 住民基本台帳法 第12条の4): the question and its answer.

A question and its answer between two municipalities' CSs, carried by `Transport.query` (not
the outbox: the resident waits at the counter). The answer is the one statutory exception to
"identity_info only": the certificate content of the one applicant (and the household members
asked for), as `juki.certificates.model.CertificateContent` builds it for a wide-area copy.
The schema admits nothing else: a residence certificate of a current record, never 本籍・筆頭者
and never a removed record's items (`tests/unit/network/test_messages.py` checks the keys
against the content rules).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal, get_args

from pydantic import Field, model_validator

from juki.network.message_base import (
    AddressStr,
    LgCodeStr,
    MessageBody,
    NameStr,
    ResidentCodeStr,
)

CERTIFICATE_CONTENT_REQUEST: Final = "certificate_content_request"
CERTIFICATE_CONTENT_RESPONSE: Final = "certificate_content_response"
QUERY_SEQ: Final = 0  # queries are outside every link's order; message sequences start at 1

WideAreaItem = Literal[
    "householder", "resident_code", "my_number", "former_surname", "foreign_items", "alias_history"
]
WideAreaLineKey = Literal[
    "address",
    "householder",
    "name",
    "name_kana",
    "alias_name",
    "former_surname",
    "former_surname_kana",
    "birth_date",
    "sex",
    "relationship",
    "resident_since",
    "address_since",
    "notified_on",
    "previous_address",
    "move_out_planned",
    "move_out_confirmed",
    "resident_code",
    "my_number",
    "nationality",
    "foreign_category",
    "residence_status",
    "period_of_stay",
    "stay_expiry",
    "residence_card_number",
    "alias_history",
]
# The header's lines, then each person's (content.person_lines for a residence certificate,
# without 本籍・筆頭者 and without the removal items of a 除票).
WIDE_AREA_LINE_KEYS: Final = frozenset(get_args(WideAreaLineKey))
MAX_HOUSEHOLD: Final = 50
OperatorIdStr = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:@-]{1,64}$")]
RuleStr = Annotated[str, Field(pattern=r"^[a-z_]{1,64}$")]
MessageStr = Annotated[str, Field(min_length=1, max_length=300)]


class CertificateContentRequest(MessageBody):
    """B's CS asks A's CS for one applicant's wide-area residence certificate content.

    The request id is the envelope's message id: the answer must echo it.
    """

    resident_code: ResidentCodeStr  # the applicant, who showed ID at B's counter
    members: Literal["all"] | Annotated[list[ResidentCodeStr], Field(max_length=MAX_HOUSEHOLD)]
    items: Annotated[list[WideAreaItem], Field(max_length=6)]
    from_lg_code: LgCodeStr  # the issuing municipality (B)
    to_lg_code: LgCodeStr  # the home municipality (A)
    operator_id: OperatorIdStr  # B's counter clerk, for A's register


class ContentLine(MessageBody):
    key: WideAreaLineKey
    label: Annotated[str, Field(min_length=1, max_length=64)]
    value: Annotated[str, Field(max_length=400)]


class ContentPerson(MessageBody):
    name: NameStr
    lines: Annotated[list[ContentLine], Field(min_length=1, max_length=40)]


class WideAreaContent(MessageBody):
    """`CertificateContent` of a wide-area residence certificate, field for field."""

    kind: Literal["residence"]
    title: Literal["住民票の写し"]
    record_lg_code: LgCodeStr
    record_municipality: AddressStr
    as_of: Annotated[str, Field(min_length=1, max_length=40)]
    scope: Literal["本人", "世帯全員", "世帯の一部"]
    header: Annotated[list[ContentLine], Field(max_length=2)]
    persons: Annotated[list[ContentPerson], Field(min_length=1, max_length=MAX_HOUSEHOLD)]
    certification: Annotated[str, Field(min_length=1, max_length=200)]
    items: Annotated[list[WideAreaItem], Field(max_length=6)]
    channel: Literal["wide_area"]
    removed: Literal[False]
    seal_sha256: None
    version: Literal[1]


class CertificateContentResponse(MessageBody):
    """A's answer: the content, or why not (a rule code and the reason for B's staff)."""

    request_id: Annotated[str, Field(min_length=36, max_length=36)]
    resident_code: ResidentCodeStr  # echoed: B refuses content for anyone else
    from_lg_code: LgCodeStr  # the home municipality (A), whose record it is
    to_lg_code: LgCodeStr  # the issuing municipality (B)
    outcome: Literal["answered", "refused"]
    content: WideAreaContent | None = None
    rule: RuleStr | None = None
    message_en: MessageStr | None = None
    message_ja: MessageStr | None = None

    @model_validator(mode="after")
    def _content_or_reason(self) -> CertificateContentResponse:
        if self.outcome == "answered":
            if self.content is None or self.rule is not None:
                raise ValueError("an answer carries the content and no refusal")
            if self.content.record_lg_code != self.from_lg_code:
                raise ValueError("the content must be of the answering municipality's record")
        elif self.content is not None or not (self.rule and self.message_en and self.message_ja):
            raise ValueError("a refusal carries a rule and messages, and no content")
        return self
