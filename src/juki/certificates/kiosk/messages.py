"""The request the relay carries to the certificate server, and the answer it carries back.

Both are versioned (`schema_version`), strict (unknown fields refused) and small: the request
names no person — the relay knows only the card serial; the municipality resolves it to its
resident (`juki.cards`) — and the answer is the certificate for that card and that request
only. Each request has an unguessable id (256 random bits) that the kiosk session makes; the
answer repeats both the id and the serial, and `open_answer` gives the certificate only to a
caller holding both, so no page can come out for a session that did not ask for it (the 2023
failures: docs/certificates.md, "Kiosk").
"""

from __future__ import annotations

import base64
import hmac
import secrets
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from juki.certificates.kiosk.model import MAX_KIOSK_COPIES, RefusalCode
from juki.certificates.model import OptionalItem
from juki.core.errors import DomainRuleError

MESSAGE_VERSION: Final = 1
REQUEST_ID_PATTERN: Final = r"^[A-Za-z0-9_-]{43}$"  # secrets.token_urlsafe(32): 256 bits
CARD_SERIAL_PATTERN: Final = r"^[0-9A-Za-z:_-]{1,64}$"
MEMBER_REF_PATTERN: Final = r"^[0-9A-Za-z-]{1,36}$"

RequestId = Annotated[str, Field(pattern=REQUEST_ID_PATTERN, description="256-bit random id")]
CardSerial = Annotated[str, Field(pattern=CARD_SERIAL_PATTERN, description="the card's serial")]
MemberRef = Annotated[str, Field(pattern=MEMBER_REF_PATTERN)]


def new_request_id() -> str:
    """A fresh request id for one kiosk session's request (never reused, never guessable)."""
    return secrets.token_urlsafe(32)


class KioskRequest(BaseModel):
    """What the kiosk asked, as the relay forwards it (after checking the card)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = MESSAGE_VERSION
    request_id: RequestId
    card_serial: CardSerial
    lg_code: Annotated[str, Field(pattern=r"^[0-9]{6}$", description="the municipality asked")]
    kind: Literal["residence", "record_items", "seal", "fuhyo"]
    members: Literal["self", "household"] | Annotated[list[MemberRef], Field(max_length=20)] = (
        Field("self", description="本人のみ, 世帯全員, or members from household_choices")
    )
    items: Annotated[list[OptionalItem], Field(max_length=len(OptionalItem))] = Field(
        default_factory=list, description="optional items chosen (never resident_code)"
    )
    copies: Annotated[int, Field(ge=1, le=MAX_KIOSK_COPIES)] = 1


class KioskCertificate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    certificate_id: str
    kind: str
    title: str
    issue_numbers: list[str]
    copies: int
    fee_yen: int
    digest: str = Field(description="the 照合番号's digest the PDF carries")
    pdf_base64: str


class KioskRefusal(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: RefusalCode
    message_ja: str = Field(description="for the kiosk screen")


class KioskAnswer(BaseModel):
    """The certificate server's answer to one request: issued or refused, never both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = MESSAGE_VERSION
    request_id: str
    card_serial: str
    lg_code: str
    outcome: Literal["issued", "refused"]
    certificate: KioskCertificate | None = None
    refusal: KioskRefusal | None = None

    @classmethod
    def refused(cls, request: KioskRequest, code: RefusalCode) -> KioskAnswer:
        return cls(
            request_id=request.request_id,
            card_serial=request.card_serial,
            lg_code=request.lg_code,
            outcome="refused",
            refusal=KioskRefusal(code=code, message_ja=code.message_ja),
        )


class AnswerMismatch(DomainRuleError):
    """An answer opened by a session that did not ask for it: nothing is given."""

    def __init__(self) -> None:
        super().__init__(
            "request_id",
            "mismatch",
            "the answer is not for this request and card",
            RefusalCode.MISMATCH.message_ja,
        )


def open_answer(answer: KioskAnswer, request_id: str, card_serial: str) -> bytes | None:
    """The PDF of an issued answer, for the session holding both its request id and its card
    serial; None for a refusal; `AnswerMismatch` (and nothing) for anyone else."""
    same_id = hmac.compare_digest(answer.request_id.encode(), request_id.encode())
    same_card = hmac.compare_digest(answer.card_serial.encode(), card_serial.encode())
    if not (same_id and same_card):
        raise AnswerMismatch()
    if answer.certificate is None:
        return None
    return base64.b64decode(answer.certificate.pdf_base64)
