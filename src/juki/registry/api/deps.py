"""What every registry route depends on: the unit of work of its request, and path shapes."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import Depends, Path, Request

from juki.registry.uow import SqlRegistryUnitOfWork
from juki.web.text import CleanStr

API_PREFIX: Final = "/api/v1"

RecordIdPath = Annotated[CleanStr, Path(min_length=1, max_length=36)]
SealNumberPath = Annotated[str, Path(pattern=r"^[0-9]{1,16}$")]


def new_uow(request: Request) -> SqlRegistryUnitOfWork:
    """A fresh unit of work per request; the service opens and commits its transaction."""
    return SqlRegistryUnitOfWork(request.app.state.engine, clock=request.app.state.clock)


UoW = Annotated[SqlRegistryUnitOfWork, Depends(new_uow)]
