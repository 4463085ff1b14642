"""Enrolling 照合情報 and signing in at a terminal: a session needs both the operator's WebAuthn
credential (照合情報, with user verification) and their operator card opened by its PIN.

Every sign-in, good or refused, every lockout and every logout is written to the oplog in the
transaction that changes the operator's state (`OpLog.append`), with the operator, the role,
the terminal and the reason. The verification itself (the authenticator's assertion, the card's
signature) runs outside any transaction: a real card takes its time, and no write lock is held
meanwhile; the challenge is then spent with a conditional update, so it works once.

Refused, in this order: a challenge unknown, spent, stale or for another purpose; an unknown,
suspended or withdrawn operator; a locked-out one; an unregistered terminal, or one of another
municipality; an operator already signed in elsewhere (one session per operator); then the
verification — no 照合情報, one bound to another 操作者ID, an assertion that does not verify, no
card, a wrong PIN, a signature that does not verify. Only the last kind counts towards the
lockout (`rules.COUNTED`), at `LoginPolicy.max_failures` in a row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

from juki.core.errors import ValidationError
from juki.core.ports import OpLogEntry, Outcome
from juki.security.actions import perform
from juki.security.actors import Actor
from juki.security.permissions import Permission, Role
from juki.security.ports import StoredOperator
from juki.security.verification.cards import verify_card_signature
from juki.security.verification.events import OperatorEvent, note
from juki.security.verification.ports import (
    CardReader,
    RelyingParty,
    StoredChallenge,
    StoredCredential,
    StoredSession,
    VerificationUnitOfWork,
)
from juki.security.verification.rules import (
    CHALLENGE_TTL,
    COUNTED,
    CardPinIncorrect,
    CardUnavailable,
    LoginPolicy,
    LoginRefused,
    Refusal,
    VerifierFailed,
    card_message,
    new_secret,
    sha256_hex,
    validate_pin,
)

LOGIN: Final = "login"
LOGOUT: Final = "logout"
LOCKOUT: Final = "lockout"


@dataclass(frozen=True, slots=True)
class Challenge:
    """What the page passes to `navigator.credentials`, and the id to answer with."""

    challenge_id: str
    options: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SignedIn:
    secret: str  # the session cookie's value; only its hash is kept
    actor: Actor


class SessionEnded(Exception):
    """No live session: none, logged out, or ended by idleness (`reason`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _log(
    uow: VerificationUnitOfWork,
    operator_id: str,
    role: str,
    terminal_id: str,
    action: str,
    outcome: Outcome,
    detail: str,
) -> None:
    uow.oplog.append(
        OpLogEntry(
            at=uow.clock.now(),
            actor_id=operator_id[:64],
            role=role,
            terminal_id=terminal_id[:64],
            action=action,
            target=f"operator:{operator_id[:64]}",
            outcome=outcome,
            detail=detail[:500],
        )
    )


def _new_challenge(
    uow: VerificationUnitOfWork, operator_id: str, purpose: str, terminal_id: str
) -> StoredChallenge:
    # Anyone may ask for a challenge: the stale ones go, so asking cannot fill the table.
    uow.verification.purge_challenges((uow.clock.now() - 2 * CHALLENGE_TTL).isoformat())
    challenge = StoredChallenge(
        challenge_id=new_secret(),
        operator_id=operator_id[:64],
        purpose=purpose,
        challenge=bytes_to_base64url(base64url_to_bytes(new_secret())),
        terminal_id=terminal_id[:64],
        created_at=uow.clock.now().isoformat(),
    )
    uow.verification.add_challenge(challenge)
    return challenge


def _fresh(found: StoredChallenge | None, purpose: str, now: datetime) -> StoredChallenge:
    if (
        found is None
        or found.purpose != purpose
        or found.used_at is not None
        or now - datetime.fromisoformat(found.created_at) > CHALLENGE_TTL
    ):
        raise LoginRefused(Refusal.CHALLENGE)
    return found


# -- 照合情報の登録 --------------------------------------------------------------------------


def begin_enrolment(
    uow: VerificationUnitOfWork, rp: RelyingParty, operator_id: str, code: str, terminal_id: str
) -> Challenge:
    """Check the enrolment code the manager handed over; the options to create a credential."""
    with uow:
        found = uow.operators.find(operator_id[:64])
        now = uow.clock.now()
        if (
            found is None
            or found.status != "active"
            or found.enrolment_sha256 is None
            or found.enrolment_sha256 != sha256_hex(code)
            or datetime.fromisoformat(found.enrolment_expires_at or "") <= now
        ):
            role = found.role.value if found else "-"
            _log(
                uow,
                operator_id,
                role,
                terminal_id,
                Permission.REGISTER_VERIFIER.value,
                "denied",
                Refusal.ENROLMENT_CODE.value,
            )
            uow.commit()
            raise LoginRefused(Refusal.ENROLMENT_CODE)
        exclude = [c.credential_id for c in uow.verification.credentials_of(found.operator_id)]
        challenge = _new_challenge(uow, found.operator_id, "enrol", terminal_id)
        uow.commit()
    options = rp.registration_options(
        found.operator_id, found.display_name, base64url_to_bytes(challenge.challenge), exclude
    )
    return Challenge(challenge.challenge_id, options)


def finish_enrolment(
    uow: VerificationUnitOfWork,
    rp: RelyingParty,
    challenge_id: str,
    response: Mapping[str, Any],
    origin: str,
) -> StoredCredential:
    """Verify the new credential and bind it to the operator and their current 操作者ID."""
    with uow:
        challenge = uow.verification.challenge(challenge_id[:64])
        operator = uow.operators.find(challenge.operator_id) if challenge else None
    if challenge is None or operator is None:
        raise LoginRefused(Refusal.CHALLENGE)
    by = Actor(operator.operator_id, operator.role, challenge.terminal_id)

    def run(uow: VerificationUnitOfWork) -> StoredCredential:
        now = uow.clock.now()
        fresh = _fresh(uow.verification.challenge(challenge.challenge_id), "enrol", now)
        current = uow.operators.find(operator.operator_id)
        if current is None or current.enrolment_sha256 is None or current.status != "active":
            raise LoginRefused(Refusal.ENROLMENT_CODE)
        new = rp.verify_registration(response, base64url_to_bytes(fresh.challenge), origin)
        if not uow.verification.use_challenge(fresh.challenge_id, now.isoformat()):
            raise LoginRefused(Refusal.CHALLENGE)
        credential = StoredCredential(
            credential_id=new.credential_id,
            operator_id=current.operator_id,
            role=current.role.value,
            public_key=new.public_key,
            sign_count=new.sign_count,
            registered_at=now.isoformat(),
            terminal_id=fresh.terminal_id,
        )
        uow.verification.add_credential(credential)
        uow.operators.set_enrolment(current.operator_id, None, "")
        note(
            uow,
            by,
            current.operator_id,
            OperatorEvent.VERIFIER_REGISTERED,
            "enrolled",
            f"credential {new.credential_id[:16]}… for role {current.role.value}",
        )
        return credential

    return perform(
        uow,
        by,
        Permission.REGISTER_VERIFIER,
        f"operator:{operator.operator_id}",
        run,
        describe=lambda c: f"credential {c.credential_id[:16]}… for role {c.role}",
    )


# -- sign-in ---------------------------------------------------------------------------------


def begin_login(
    uow: VerificationUnitOfWork, rp: RelyingParty, operator_id: str, terminal_id: str
) -> Challenge:
    """A challenge for the operator's credentials (none for an unknown id: the page cannot
    tell an unknown operator from one without 照合情報 until the sign-in is refused)."""
    with uow:
        found = uow.operators.find(operator_id[:64])
        ids = (
            [c.credential_id for c in uow.verification.credentials_of(found.operator_id)]
            if found is not None
            else []
        )
        challenge = _new_challenge(uow, operator_id, LOGIN, terminal_id)
        uow.commit()
    return Challenge(
        challenge.challenge_id,
        rp.authentication_options(base64url_to_bytes(challenge.challenge), ids),
    )


@dataclass(frozen=True, slots=True)
class _Attempt:
    challenge: StoredChallenge
    operator: StoredOperator
    credential: StoredCredential
    card_label: str
    card_key: str


def _check_standing(
    uow: VerificationUnitOfWork,
    policy: LoginPolicy,
    home_lg_code: str,
    challenge: StoredChallenge,
    operator: StoredOperator | None,
) -> StoredOperator:
    if operator is None:
        raise LoginRefused(Refusal.UNKNOWN_OPERATOR)
    if operator.status != "active":
        raise LoginRefused(Refusal.INACTIVE)
    if operator.locked_at is not None:
        raise LoginRefused(Refusal.LOCKED)
    terminal = uow.verification.terminal(challenge.terminal_id)
    if terminal is None:
        raise LoginRefused(Refusal.UNKNOWN_TERMINAL)
    if terminal.lg_code != home_lg_code:
        raise LoginRefused(Refusal.OTHER_MUNICIPALITY)
    now = uow.clock.now()
    for _key, live in uow.verification.live_sessions(operator.operator_id):
        if policy.idle(datetime.fromisoformat(live.last_seen_at), now):
            continue  # ended as idle when this sign-in is written
        raise LoginRefused(Refusal.SESSION_EXISTS)
    return operator


def _attempt(
    uow: VerificationUnitOfWork,
    policy: LoginPolicy,
    home_lg_code: str,
    challenge_id: str,
    response: Mapping[str, Any],
) -> _Attempt:
    challenge = _fresh(uow.verification.challenge(challenge_id[:64]), LOGIN, uow.clock.now())
    operator = _check_standing(
        uow, policy, home_lg_code, challenge, uow.operators.find(challenge.operator_id)
    )
    credentials = {
        c.credential_id: c for c in uow.verification.credentials_of(operator.operator_id)
    }
    if not credentials:
        raise LoginRefused(Refusal.NO_CREDENTIAL)
    credential = credentials.get(str(response.get("id", ""))[:400])
    if credential is None:
        raise LoginRefused(Refusal.VERIFIER_FAILED)
    if credential.role != operator.role.value:
        raise LoginRefused(Refusal.CREDENTIAL_ROLE)
    card = uow.verification.active_card(operator.operator_id)
    if card is None:
        raise LoginRefused(Refusal.NO_CARD)
    return _Attempt(challenge, operator, credential, card.card_label, card.public_key_pem)


def _verify(
    rp: RelyingParty,
    reader: CardReader,
    attempt: _Attempt,
    response: Mapping[str, Any],
    pin: str,
    origin: str,
) -> int:
    """Both factors; the credential's new sign count."""
    challenge = attempt.challenge
    try:
        count = rp.verify_authentication(
            response, base64url_to_bytes(challenge.challenge), origin, attempt.credential
        )
    except VerifierFailed as exc:
        raise LoginRefused(Refusal.VERIFIER_FAILED) from exc
    message = card_message(challenge.challenge_id, challenge.challenge)
    try:
        signature = reader.sign(attempt.card_label, validate_pin(pin), message)
    except CardPinIncorrect as exc:
        raise LoginRefused(Refusal.PIN_INCORRECT) from exc
    except CardUnavailable as exc:  # not the operator's failure: not counted
        raise LoginRefused(Refusal.CARD_UNAVAILABLE) from exc
    except ValidationError as exc:  # a PIN of the wrong shape is a wrong PIN, as a card says
        raise LoginRefused(Refusal.PIN_INCORRECT) from exc
    if not verify_card_signature(attempt.card_key, message, signature):
        raise LoginRefused(Refusal.CARD_FAILED)
    return count


def _refused(
    uow: VerificationUnitOfWork,
    policy: LoginPolicy,
    challenge_id: str,
    refusal: LoginRefused,
) -> LoginRefused:
    """Write the refusal (and a lockout it causes) in a transaction of its own."""
    with uow:
        challenge = uow.verification.challenge(challenge_id[:64])
        operator_id = challenge.operator_id if challenge else "-"
        terminal = challenge.terminal_id if challenge else "-"
        found = uow.operators.find(operator_id) if challenge else None
        role = found.role.value if found else "-"
        locked_now = False
        if found is not None and refusal.reason in COUNTED:
            failures = uow.operators.count_failure(found.operator_id)
            if policy.locks_out(failures):
                locked_now = True
                uow.operators.set_lock(found.operator_id, uow.clock.now().isoformat())
                system = Actor.system("login")
                note(
                    uow,
                    system,
                    found.operator_id,
                    OperatorEvent.LOCKED_OUT,
                    f"{failures} failed sign-ins in a row",
                    refusal.reason.value,
                )
                _log(
                    uow,
                    operator_id,
                    role,
                    terminal,
                    LOCKOUT,
                    "ok",
                    f"locked after {failures} failures",
                )
        if challenge is not None:
            uow.verification.use_challenge(challenge.challenge_id, uow.clock.now().isoformat())
        _log(uow, operator_id, role, terminal, LOGIN, "denied", refusal.reason.value)
        uow.commit()
    return LoginRefused(refusal.reason, locked_now=locked_now)


def finish_login(
    uow: VerificationUnitOfWork,
    rp: RelyingParty,
    reader: CardReader,
    policy: LoginPolicy,
    home_lg_code: str,
    *,
    challenge_id: str,
    response: Mapping[str, Any],
    pin: str,
    origin: str,
) -> SignedIn:
    """Sign in with both factors at a registered terminal of `home_lg_code`."""
    try:
        with uow:
            attempt = _attempt(uow, policy, home_lg_code, challenge_id, response)
        count = _verify(rp, reader, attempt, response, pin, origin)
    except LoginRefused as refused:
        raise _refused(uow, policy, challenge_id, refused) from None
    secret = new_secret()
    operator, terminal = attempt.operator, attempt.challenge.terminal_id
    with uow:
        now = uow.clock.now()
        if not uow.verification.use_challenge(attempt.challenge.challenge_id, now.isoformat()):
            raise LoginRefused(Refusal.CHALLENGE)
        for key, live in uow.verification.live_sessions(operator.operator_id):
            uow.verification.end_session(key, now.isoformat(), "idle")
            _log(uow, operator.operator_id, live.role, live.terminal_id, LOGOUT, "ok", "idle")
        uow.verification.set_sign_count(attempt.credential.credential_id, count)
        if operator.failed_logins:
            uow.operators.set_lock(operator.operator_id, None)
        uow.verification.add_session(
            sha256_hex(secret),
            StoredSession(
                operator.operator_id,
                operator.role.value,
                terminal,
                now.isoformat(),
                now.isoformat(),
            ),
        )
        _log(
            uow,
            operator.operator_id,
            operator.role.value,
            terminal,
            LOGIN,
            "ok",
            "照合情報 and operator card",
        )
        uow.commit()
    return SignedIn(secret, Actor(operator.operator_id, Role(operator.role), terminal))


# -- the session -----------------------------------------------------------------------------


def session_actor(uow: VerificationUnitOfWork, policy: LoginPolicy, secret: str) -> Actor:
    """The operator of a live session, which this request keeps alive; `SessionEnded` when it
    has ended, idled out (ended now, logged) or its operator may no longer act."""
    key = sha256_hex(secret)
    with uow:
        session = uow.verification.session(key)
        if session is None or session.ended_at is not None:
            raise SessionEnded(session.end_reason or "ended" if session else "none")
        now = uow.clock.now()
        operator = uow.operators.find(session.operator_id)
        reason = None
        if policy.idle(datetime.fromisoformat(session.last_seen_at), now):
            reason = "idle"
        elif operator is None or operator.status != "active" or operator.locked_at:
            reason = "inactive"
        elif operator.role.value != session.role:
            reason = "transferred"
        if reason is not None:
            uow.verification.end_session(key, now.isoformat(), reason)
            _log(uow, session.operator_id, session.role, session.terminal_id, LOGOUT, "ok", reason)
            uow.commit()
            raise SessionEnded(reason)
        uow.verification.touch_session(key, now.isoformat())
        uow.commit()
    return Actor(session.operator_id, Role(session.role), session.terminal_id)


def logout(uow: VerificationUnitOfWork, secret: str) -> None:
    """The operator leaves the seat (seed 001 第16条5): the session ends, logged."""
    key = sha256_hex(secret)
    with uow:
        session = uow.verification.session(key)
        if session is None or session.ended_at is not None:
            return
        uow.verification.end_session(key, uow.clock.now().isoformat(), LOGOUT)
        _log(uow, session.operator_id, session.role, session.terminal_id, LOGOUT, "ok", "logout")
        uow.commit()
