"""The kiosk relay's messages (issue 12, コンビニ交付): national's relay and a municipality.

- `kiosk_key_request` / `kiosk_key_response` (a query): the relay asks a municipality for its
  kiosk key; the answer is the key signed by the municipality's node key, with that node's
  certificate, which the kiosk session checks against the network root.
- `kiosk_request` / `kiosk_answer` (a query): the relay, having checked the card, passes one
  sealed request to the municipality that issued the card; the answer comes back sealed to
  the kiosk session's ephemeral key. In clear: the request id, the card serial (which the
  municipality resolves to its resident), the store, the session's public key; in the answer
  only what the relay records and the store charges (outcome, kind, copies, fee).
- `kiosk_offer_request` / `kiosk_offer` (a query): before the customer chooses, the relay asks
  a municipality what its kiosks offer now: the kinds with their fees, its hours, and whether
  it is open (or outside its hours, or in its closure). Nothing about any person; advice for
  the kiosk's screens, checked again by the municipality at request time.
- `kiosk_void` (a message, delivered through the outbox until acknowledged): the session
  abandoned the request (a timeout at any hop: the certificate is voided, nothing charged) or
  a page was spoiled (書損). Bound to the request id and the card serial.

No name, address, resident code or certificate content crosses in clear: the schemas have no
field for them, and the sealed texts open only at the two ends (`juki.kiosk.sealing`).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import Field, model_validator

from juki.network.message_base import LgCodeStr, MessageBody

KIOSK_KEY_REQUEST: Final = "kiosk_key_request"
KIOSK_KEY_RESPONSE: Final = "kiosk_key_response"
KIOSK_REQUEST: Final = "kiosk_request"
KIOSK_ANSWER: Final = "kiosk_answer"
KIOSK_VOID: Final = "kiosk_void"
KIOSK_OFFER_REQUEST: Final = "kiosk_offer_request"
KIOSK_OFFER: Final = "kiosk_offer"

RequestIdStr = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{43}$")]
KioskSerialStr = Annotated[str, Field(pattern=r"^[0-9A-Za-z:_-]{1,64}$")]
StoreIdStr = Annotated[str, Field(pattern=r"^[0-9A-Za-z_-]{1,32}$")]
KeyStr = Annotated[str, Field(min_length=44, max_length=44, pattern=r"^[A-Za-z0-9_=-]{44}$")]
IssueNumberStr = Annotated[str, Field(pattern=r"^[0-9A-Za-z-]{1,32}$")]
KindStr = Literal["residence", "record_items", "seal", "fuhyo"]
HourStr = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class KioskKeyRequest(MessageBody):
    lg_code: LgCodeStr  # the municipality asked


class KioskKeyResponse(MessageBody):
    lg_code: LgCodeStr  # the municipality answering (its own key)
    public_key: KeyStr  # raw X25519, base64url
    signature: Annotated[str, Field(min_length=8, max_length=200, pattern=r"^[A-Za-z0-9_=-]+$")]
    node_certificate: Annotated[str, Field(min_length=64, max_length=6000)]


class KioskRelayRequest(MessageBody):
    request_id: RequestIdStr
    card_serial: KioskSerialStr  # as the relay verified it
    lg_code: LgCodeStr  # the municipality that issued the card
    store_id: StoreIdStr
    session_key: KeyStr  # the kiosk session's ephemeral X25519 key, base64url
    sealed_request: Annotated[
        str, Field(min_length=16, max_length=8000, pattern=r"^[A-Za-z0-9_=-]+$")
    ]


class KioskRelayAnswer(MessageBody):
    request_id: RequestIdStr
    card_serial: KioskSerialStr
    lg_code: LgCodeStr  # the municipality answering
    outcome: Literal["issued", "refused"]
    kind: KindStr | None = None  # issued only: what the relay records and the store charges
    copies: Annotated[int, Field(ge=1, le=10)] | None = None
    fee_yen: Annotated[int, Field(ge=0, le=100_000)] | None = None
    sealed_answer: Annotated[
        str, Field(min_length=16, max_length=240_000, pattern=r"^[A-Za-z0-9_=-]+$")
    ]

    @model_validator(mode="after")
    def _receipt_iff_issued(self) -> KioskRelayAnswer:
        issued = self.outcome == "issued"
        if issued != (
            self.kind is not None and self.copies is not None and self.fee_yen is not None
        ):
            raise ValueError("an issued answer names kind, copies and fee, and only it does")
        return self


class KioskVoid(MessageBody):
    request_id: RequestIdStr
    card_serial: KioskSerialStr
    lg_code: LgCodeStr  # the municipality that answered the request
    action: Literal["abandon", "spoiled"]
    issue_number: IssueNumberStr | None = None  # spoiled only

    @model_validator(mode="after")
    def _number_iff_spoiled(self) -> KioskVoid:
        if (self.action == "spoiled") != (self.issue_number is not None):
            raise ValueError("a spoiled page names its issue number, and only it does")
        return self


class KioskOfferRequest(MessageBody):
    lg_code: LgCodeStr  # the municipality asked


class KioskOfferedKind(MessageBody):
    kind: KindStr
    fee_yen: Annotated[int, Field(ge=0, le=100_000)]


class KioskOfferAnswer(MessageBody):
    lg_code: LgCodeStr  # the municipality answering (its own offer)
    status: Literal["open", "outside_hours", "closed_day", "not_offered"]
    kinds: Annotated[tuple[KioskOfferedKind, ...], Field(max_length=4)] = ()
    opens: HourStr
    closes: HourStr  # 00:00: until midnight

    @model_validator(mode="after")
    def _kinds_iff_open(self) -> KioskOfferAnswer:
        if (self.status == "open") != bool(self.kinds):
            raise ValueError("an open offer names its kinds, and only it does")
        if len({k.kind for k in self.kinds}) != len(self.kinds):
            raise ValueError("each kind once")
        return self
