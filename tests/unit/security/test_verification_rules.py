"""The sign-in rules, pure: lockout threshold, idleness, what counts as a failure, the inputs a
ledger change and a PIN must have, and which role may manage operators (seeds 001, 002)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from juki.core.clock import JST
from juki.core.errors import ValidationError
from juki.core.settings import Settings, SettingsError
from juki.security.permissions import NODE_ROLES, Permission, Role, is_allowed
from juki.security.verification.cards import (
    SHA256_DIGEST_INFO,
    digest_info,
    verify_card_signature,
)
from juki.security.verification.rules import (
    COUNTED,
    MESSAGES_JA,
    LoginPolicy,
    LoginRefused,
    Refusal,
    card_message,
    validate_pin,
    validate_reason,
)

T0 = datetime(2025, 4, 1, 9, 0, tzinfo=JST)


@given(st.integers(min_value=1, max_value=20), st.integers(min_value=0, max_value=40))
def test_lockout_comes_at_the_limit_and_not_before(limit: int, failures: int) -> None:
    assert LoginPolicy(max_failures=limit).locks_out(failures) is (failures >= limit)


def test_a_session_is_idle_at_the_limit() -> None:
    policy = LoginPolicy(idle_limit=timedelta(minutes=15))
    assert not policy.idle(T0, T0 + timedelta(minutes=14, seconds=59))
    assert policy.idle(T0, T0 + timedelta(minutes=15))


def test_only_the_operators_own_verification_failures_count() -> None:
    assert {Refusal.VERIFIER_FAILED, Refusal.PIN_INCORRECT, Refusal.CARD_FAILED} == COUNTED
    # An unregistered terminal, a second session or an unreadable card locks no one out.
    for reason in (Refusal.UNKNOWN_TERMINAL, Refusal.SESSION_EXISTS, Refusal.CARD_UNAVAILABLE):
        assert reason not in COUNTED


def test_every_refusal_has_a_japanese_message_and_a_lockout_says_so() -> None:
    assert set(MESSAGES_JA) == set(Refusal)
    refused = LoginRefused(Refusal.PIN_INCORRECT, locked_now=True)
    assert refused.message_ja == MESSAGES_JA[Refusal.LOCKED]
    assert refused.message_en == "sign-in refused: pin_incorrect"


@pytest.mark.parametrize("pin", ["123", "12345678901234567", "12 4", "１２３４", "12-4", ""])
def test_a_pin_of_the_wrong_shape_is_refused_naming_the_field(pin: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_pin(pin)
    assert refused.value.field == "pin" and "暗証番号" in refused.value.message_ja


@pytest.mark.parametrize("reason", ["", "   ", "x" * 401])
def test_a_ledger_change_needs_a_reason(reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validate_reason(reason)
    assert refused.value.field == "reason"


def test_the_card_signs_a_digest_info_bound_to_the_challenge() -> None:
    assert card_message("id-1", "abc") != card_message("id-2", "abc")
    assert digest_info(b"x")[: len(SHA256_DIGEST_INFO)] == SHA256_DIGEST_INFO
    assert len(digest_info(b"x")) == len(SHA256_DIGEST_INFO) + 32


def test_a_signature_of_another_key_or_message_does_not_verify() -> None:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    signature = key.sign(b"challenge", padding.PKCS1v15(), hashes.SHA256())
    assert verify_card_signature(pem, b"challenge", signature)
    assert not verify_card_signature(pem, b"challengf", signature)


def test_operator_management_belongs_to_the_roles_the_seeds_name() -> None:
    # 002 第13条: アクセス管理責任者 keeps 照合ID・操作者ID; 001 第7条: 暗証番号管理者 the cards.
    assert is_allowed(Role.ACCESS_MANAGER, Permission.MANAGE_OPERATORS)
    assert is_allowed(Role.PIN_MANAGER, Permission.ISSUE_OPERATOR_CARD)
    assert not is_allowed(Role.ACCESS_MANAGER, Permission.ISSUE_OPERATOR_CARD)
    assert not is_allowed(Role.PIN_MANAGER, Permission.MANAGE_OPERATORS)
    assert is_allowed(Role.SYSTEM_ADMINISTRATOR, Permission.REGISTER_TERMINAL)
    for role in (Role.GENERAL_SUPERVISOR, Role.SECURITY_CHIEF, Role.SECURITY_OFFICER):
        assert is_allowed(role, Permission.VIEW_OPERATOR_LEDGER)
        assert not is_allowed(role, Permission.VIEW_RECORD)  # oversight reads no record
    for role in Role:
        assert is_allowed(role, Permission.REGISTER_VERIFIER) is (role not in NODE_ROLES)
    assert not is_allowed(Role.COUNTER_CLERK, Permission.CLEAR_LOCKOUT)


def test_sign_in_settings_come_from_the_environment_and_are_checked() -> None:
    s = Settings.from_env(
        {
            "JUKI_TOKEN": "juki_t",
            "JUKI_PKCS11_MODULE": "/opt/card.so",
            "JUKI_WEBAUTHN_RP_ID": "terminal.example",
            "JUKI_LOGIN_MAX_FAILURES": "3",
            "JUKI_IDLE_MINUTES": "10",
        }
    )
    assert (s.operator_token, s.pkcs11_module, s.webauthn_rp_id) == (
        "juki_t",
        "/opt/card.so",
        "terminal.example",
    )
    assert (s.login_max_failures, s.idle_minutes) == (3, 10)
    assert "juki_t" not in repr(s)
    with pytest.raises(SettingsError, match="JUKI_IDLE_MINUTES"):
        Settings.from_env({"JUKI_IDLE_MINUTES": "0"})
