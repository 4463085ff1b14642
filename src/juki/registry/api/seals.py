"""Seal registration (印鑑登録) over HTTP."""

from __future__ import annotations

from fastapi import APIRouter, status

from juki.registry import services
from juki.registry.api.deps import API_PREFIX, SealNumberPath, UoW
from juki.registry.api.requests import (
    SEAL_FIELDS,
)
from juki.registry.api.schemas import (
    SealAbolitionIn,
    SealRegistrationIn,
    SealRegistrationOut,
    decode_base64,
)
from juki.registry.commands import (
    AbolishSeal,
    RegisterSeal,
)
from juki.web.auth import OperatorActor
from juki.web.errors import (
    WRITE_RESPONSES,
    renamed_fields,
)


def register_seal(by: OperatorActor, uow: UoW, body: SealRegistrationIn) -> SealRegistrationOut:
    """印鑑登録: one live seal per resident aged 15 or over; the impression is a PNG."""
    cmd = RegisterSeal(
        record_id=body.record_id,
        image_png=decode_base64(body.image_png_base64),
        registered_on=body.registered_on,
    )
    with renamed_fields(SEAL_FIELDS):
        return SealRegistrationOut.of(services.register_seal(uow, by, cmd))


def abolish_seal(
    by: OperatorActor,
    uow: UoW,
    registration_number: SealNumberPath,
    body: SealAbolitionIn,
) -> SealRegistrationOut:
    """印鑑登録の廃止."""
    cmd = AbolishSeal(
        registration_number=registration_number,
        abolished_on=body.abolished_on,
        reason=body.reason,
    )
    return SealRegistrationOut.of(services.abolish_seal(uow, by, cmd))


def seal_router() -> APIRouter:
    router = APIRouter(prefix=f"{API_PREFIX}/seals", tags=["seals"], responses=WRITE_RESPONSES)
    router.add_api_route(
        "",
        register_seal,
        methods=["POST"],
        status_code=status.HTTP_201_CREATED,
        response_model=SealRegistrationOut,
    )
    router.add_api_route(
        "/{registration_number}/abolition",
        abolish_seal,
        methods=["POST"],
        response_model=SealRegistrationOut,
    )
    return router
