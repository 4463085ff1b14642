"""What operator verification needs from storage, from the authenticator and from the card, as
protocols: the SQL store, the WebAuthn relying party and the PKCS#11 reader implement them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from juki.core.ports import UnitOfWork
from juki.security.ports import OperatorRepository


@dataclass(frozen=True, slots=True)
class StoredCredential:
    credential_id: str  # base64url
    operator_id: str
    role: str
    public_key: str  # COSE key, base64url
    sign_count: int
    registered_at: str
    terminal_id: str
    withdrawn_at: str | None = None


@dataclass(frozen=True, slots=True)
class StoredCard:
    card_id: int
    operator_id: str
    card_label: str
    public_key_pem: str
    issued_at: str
    issued_by: str
    withdrawn_at: str | None = None


@dataclass(frozen=True, slots=True)
class StoredTerminal:
    terminal_id: str
    lg_code: str
    description: str
    registered_at: str
    registered_by: str


@dataclass(frozen=True, slots=True)
class StoredSession:
    operator_id: str
    role: str
    terminal_id: str
    started_at: str
    last_seen_at: str
    ended_at: str | None = None
    end_reason: str | None = None


@dataclass(frozen=True, slots=True)
class StoredChallenge:
    challenge_id: str
    operator_id: str
    purpose: str
    challenge: str
    terminal_id: str
    created_at: str
    used_at: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One line of 照合ID及び操作者IDの管理簿: what happened to whom, when, by whom, why."""

    operator_id: str
    event: str
    at: str
    by_actor: str
    by_role: str
    reason: str
    detail: str = ""


class VerificationStore(Protocol):
    def add_credential(self, credential: StoredCredential) -> None: ...
    def credentials_of(self, operator_id: str) -> Sequence[StoredCredential]: ...
    def set_sign_count(self, credential_id: str, sign_count: int) -> None: ...
    def withdraw_credentials(self, operator_id: str, at: str) -> int: ...
    def add_card(
        self, *, operator_id: str, card_label: str, public_key_pem: str, at: str, by: str
    ) -> int: ...
    def active_card(self, operator_id: str) -> StoredCard | None: ...
    def withdraw_cards(self, operator_id: str, at: str) -> int: ...
    def add_terminal(self, terminal: StoredTerminal) -> None: ...
    def terminal(self, terminal_id: str) -> StoredTerminal | None: ...
    def add_session(self, session_sha256: str, session: StoredSession) -> None: ...
    def session(self, session_sha256: str) -> StoredSession | None: ...
    def live_sessions(self, operator_id: str) -> Sequence[tuple[str, StoredSession]]: ...
    def touch_session(self, session_sha256: str, at: str) -> None: ...
    def end_session(self, session_sha256: str, at: str, reason: str) -> None: ...
    def add_challenge(self, challenge: StoredChallenge) -> None: ...
    def challenge(self, challenge_id: str) -> StoredChallenge | None: ...
    def purge_challenges(self, created_before: str) -> None:
        """Forget challenges older than that (stale ones are refused anyway)."""

    def use_challenge(self, challenge_id: str, at: str) -> bool:
        """Mark it used; False when it already was (a replay, or a race lost)."""

    def append_ledger(self, entry: LedgerEntry) -> None: ...
    def ledger(self, operator_id: str | None) -> Sequence[LedgerEntry]: ...


class VerificationUnitOfWork(UnitOfWork, Protocol):
    @property
    def operators(self) -> OperatorRepository: ...

    @property
    def verification(self) -> VerificationStore: ...


@dataclass(frozen=True, slots=True)
class NewCredential:
    credential_id: str  # base64url
    public_key: str  # base64url
    sign_count: int


class RelyingParty(Protocol):
    """The WebAuthn relying party (juki.security.verification.webauthn_rp)."""

    def registration_options(
        self, operator_id: str, display_name: str, challenge: bytes, exclude: Sequence[str]
    ) -> Mapping[str, Any]: ...

    def verify_registration(
        self, response: Mapping[str, Any], challenge: bytes, origin: str
    ) -> NewCredential: ...

    def authentication_options(
        self, challenge: bytes, credential_ids: Sequence[str]
    ) -> Mapping[str, Any]: ...

    def verify_authentication(
        self,
        response: Mapping[str, Any],
        challenge: bytes,
        origin: str,
        credential: StoredCredential,
    ) -> int:
        """The credential's new sign count; `VerifierFailed` when the assertion is not good."""


class CardReader(Protocol):
    """Where the operator card is read (juki.security.verification.cards): the card signs
    `data` once `pin` opens it; `CardPinIncorrect` or `CardUnavailable` otherwise."""

    def sign(self, card_label: str, pin: str, data: bytes) -> bytes: ...

    def public_key_pem(self, card_label: str, pin: str) -> str: ...
