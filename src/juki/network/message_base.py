"""What every message schema is built from: the body's base class and the field shapes of
identity_info (codes, names, addresses), shared by `messages` and `wide_area_messages`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

LgCodeStr = Annotated[str, Field(pattern=r"^[0-9]{6}$")]
ResidentCodeStr = Annotated[str, Field(pattern=r"^[0-9]{11}$")]
MyNumberStr = Annotated[str, Field(pattern=r"^[0-9]{12}$")]
NameStr = Annotated[str, Field(min_length=1, max_length=200)]
AddressStr = Annotated[str, Field(min_length=1, max_length=400)]


class MessageBody(BaseModel):
    """Every message body: frozen, and refusing any field its schema does not name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
