"""The kiosk settings over the JSON API: read and replace this municipality's (permission
`manage_kiosk_settings`); bad settings are a 422 naming the field and the rule.

The relay's requests do not come here: they arrive as signed network messages at the
municipality's node (the relay step), which calls `kiosk.services.issue_for_card_holder`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import time
from types import MappingProxyType
from typing import Annotated, Literal, Protocol

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from juki.certificates.kiosk.model import (
    MAX_KIOSK_FEE_YEN,
    KioskSettings,
    parse_month_day,
    settings_to_dict,
)
from juki.certificates.kiosk.services import kiosk_settings, set_kiosk_settings
from juki.certificates.kiosk.store import SqlKioskUnitOfWork
from juki.certificates.model import CertificateKind
from juki.web.auth import OperatorActor
from juki.web.errors import READ_RESPONSES, WRITE_RESPONSES

KindName = Literal["residence", "record_items", "seal", "fuhyo"]
Fee = Annotated[int, Field(ge=0, le=MAX_KIOSK_FEE_YEN)]
Clock = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM")]
MonthDayText = Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]


class KioskFees(BaseModel):
    """手数料 per copy at a kiosk, in yen, for each certificate a kiosk may issue."""

    model_config = ConfigDict(extra="forbid")

    residence: Fee
    record_items: Fee
    seal: Fee
    fuhyo: Fee


class KioskSettingsBody(BaseModel):
    """A municipality's kiosk settings, whole (the defaults: 住民票の写し, 記載事項証明書 and
    印鑑登録証明書, 300 yen, 06:30–23:00, closed 12-29..01-03)."""

    model_config = ConfigDict(extra="forbid")

    kinds: Annotated[list[KindName], Field(max_length=4)] = Field(
        description="the certificates offered"
    )
    fees: KioskFees
    opens: Clock = Field(description="first minute of service, JST")
    closes: Clock = Field(description="first minute closed again, JST")
    closed_from: MonthDayText | None = Field(description="first day of the yearly closure")
    closed_until: MonthDayText | None = Field(description="last day of it (may wrap the year)")

    def to_domain(self) -> KioskSettings:
        return KioskSettings(
            kinds=frozenset(CertificateKind(k) for k in self.kinds),
            fees=MappingProxyType(
                {CertificateKind(k): v for k, v in self.fees.model_dump().items()}
            ),
            opens=time.fromisoformat(self.opens),
            closes=time.fromisoformat(self.closes),
            closed_from=parse_month_day(self.closed_from),
            closed_until=parse_month_day(self.closed_until),
        )

    @classmethod
    def of(cls, settings: KioskSettings) -> KioskSettingsBody:
        data = settings_to_dict(settings)
        data.pop("version")
        return cls.model_validate(data)


class _Engine(Protocol):
    def kiosk_uow(self) -> SqlKioskUnitOfWork: ...


def kiosk_router(desk: Callable[[], _Engine]) -> APIRouter:
    router = APIRouter(prefix="/api/v1/certificates/kiosk", tags=["certificates", "kiosk"])

    @router.get("/settings", response_model=KioskSettingsBody, responses=READ_RESPONSES)
    def read_settings(by: OperatorActor) -> KioskSettingsBody:
        """This municipality's kiosk settings (permission `manage_kiosk_settings`)."""
        return KioskSettingsBody.of(kiosk_settings(desk().kiosk_uow(), by))

    @router.put("/settings", response_model=KioskSettingsBody, responses=WRITE_RESPONSES)
    def replace_settings(body: KioskSettingsBody, by: OperatorActor) -> KioskSettingsBody:
        """Replace the kiosk settings (permission `manage_kiosk_settings`; in the oplog)."""
        saved = set_kiosk_settings(desk().kiosk_uow(), by, body.to_domain())
        return KioskSettingsBody.of(saved)

    return router
