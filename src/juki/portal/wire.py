"""The bodies between the portal app and the national node's portal relay (`/portal/v1/*`).

The portal app reaches the relay over mutual TLS with its own root-issued client certificate,
registered on the national node (`juki portal init`); the card holder is authenticated by the
card's 利用者証明用 signature over the relay's challenge, and then by the session token the
relay gave (kept by the portal app for the browser's session only).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from juki.network.disclosure_messages import (
    DisclosedCertificate,
    DisclosedCorrection,
    DisclosedNotice,
    DisclosedProvision,
    DisclosedView,
)
from juki.network.messages import IdentityInfoBody

CHALLENGE_PATH: Final = "/portal/v1/challenge"
SESSIONS_PATH: Final = "/portal/v1/sessions"
END_PATH: Final = "/portal/v1/sessions/end"
DISCLOSURE_PATH: Final = "/portal/v1/disclosure"
ACTIONS_PATH: Final = "/portal/v1/actions"

B64 = Annotated[str, Field(min_length=4, max_length=2048, pattern=r"^[A-Za-z0-9_=-]+$")]
SessionStr = Annotated[str, Field(min_length=43, max_length=43, pattern=r"^[A-Za-z0-9_-]+$")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChallengeOut(Body):
    challenge: B64


class LoginIn(Body):
    card_certificate: Annotated[str, Field(min_length=64, max_length=8000)]
    challenge: B64
    signature: B64


class LoginOut(Body):
    session: SessionStr
    lg_code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]  # the card's municipality
    expires_at: str


class SessionIn(Body):
    session: SessionStr


class ActionIn(Body):
    session: SessionStr
    action: Literal["register_self_notice", "withdraw_self_notice", "correction"]
    text: Annotated[str, Field(min_length=1, max_length=400)] | None = None


class ActionOut(Body):
    outcome: Literal["done", "refused"]
    rule: str | None = None
    message_ja: str | None = None


class LevelOut(Body):
    """What one level holds: its copy of the person's identity_info, or that it did not answer."""

    level: Literal["municipality", "prefecture", "national"]
    node_id: str
    answered: bool
    holdings: tuple[IdentityInfoBody, ...] = ()


class ProvisionOut(DisclosedProvision):
    agency_name: Annotated[str, Field(max_length=200)]


class DisclosureOut(Body):
    """Everything the portal shows, gathered from the nodes at the moment of asking."""

    asked_on: date
    lg_code: str
    resident_code: str
    self_notice_registered: bool
    levels: tuple[LevelOut, ...]
    provisions: tuple[ProvisionOut, ...]
    certificates: tuple[DisclosedCertificate, ...]
    views: tuple[DisclosedView, ...]
    notices: tuple[DisclosedNotice, ...]
    truncated: bool = False
    corrections: tuple[DisclosedCorrection, ...] = ()
