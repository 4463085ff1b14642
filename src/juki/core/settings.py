"""One settings object, read from the environment (`JUKI_*`) once, at the entry point
(`juki.cli.main`), and handed down; SQLite by default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_DB = "sqlite:///var/juki.db"
DEFAULT_KEYS_DIR = "var/keys"
DEFAULT_PRINT_DIR = "var/print"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
# How long a new bearer token works (operators' and a node's admin token) unless a command says
# otherwise; `juki operator revoke` ends an operator's token at once, `juki operator token`
# issues a new one.
DEFAULT_OPERATOR_TOKEN_DAYS = 90
DEFAULT_ADMIN_TOKEN_DAYS = 365
# Terminal sign-in (juki.security.verification.rules holds the same defaults).
DEFAULT_LOGIN_MAX_FAILURES = 5
DEFAULT_IDLE_MINUTES = 15
DEFAULT_WEBAUTHN_RP_ID = "localhost"
# 仮登録 → 本登録: an operator's change waits for a supervisor's approval (on unless the
# municipality turns it off: docs/operators.md), and the edit lock it takes lasts this long.
DEFAULT_EDIT_LOCK_MINUTES = 30
# A provisional change no supervisor decided within this many days expires (期限切れ), with a
# trace saying so: the record it was entered against has likely moved on.
DEFAULT_PENDING_CHANGE_DAYS = 14
# The kiosk relay (national node): kiosk requests in flight at once per municipality, the rest
# waiting their turn (juki.nodes.kiosk_admission, docs/kiosk.md "Capacity"); 1 because a
# certificate server renders one page at a time (its renderer is one per process).
DEFAULT_KIOSK_SLOTS = 1


@dataclass(frozen=True, slots=True)
class Settings:
    db_url: str = DEFAULT_DB
    log_level: str = "INFO"
    # Certificates: the municipality's certificate-issuing key and certificate, and the national
    # root that certifies it (PEM paths). Unset for a standalone registry: a local root and key
    # are then created under `keys_dir/<lg_code>/` on first use (see docs/certificates.md).
    signing_key: str | None = None
    signing_cert: str | None = None
    root_cert: str | None = None
    keys_dir: str = DEFAULT_KEYS_DIR
    print_dir: str = DEFAULT_PRINT_DIR  # the print sink: where "printed" certificates land
    public_url: str = DEFAULT_PUBLIC_URL  # base of the verification page the QR code points at
    # The credential of every command that reads or changes personal data: an operator's token
    # from `juki operator token` (`--token` or JUKI_TOKEN; a secret).
    operator_token: str | None = None
    operator_token_days: int = DEFAULT_OPERATOR_TOKEN_DAYS
    admin_token_days: int = DEFAULT_ADMIN_TOKEN_DAYS
    # Operator verification at the terminal: the operator card's PKCS#11 module (SoftHSM2, or
    # OpenSC's module for a smart card), the WebAuthn relying party's id (the terminal's host
    # name), failures before a lockout, and minutes of idleness before a logout.
    pkcs11_module: str | None = None
    webauthn_rp_id: str = DEFAULT_WEBAUTHN_RP_ID
    login_max_failures: int = DEFAULT_LOGIN_MAX_FAILURES
    idle_minutes: int = DEFAULT_IDLE_MINUTES
    change_review: bool = True
    edit_lock_minutes: int = DEFAULT_EDIT_LOCK_MINUTES
    pending_change_days: int = DEFAULT_PENDING_CHANGE_DAYS
    kiosk_slots: int = DEFAULT_KIOSK_SLOTS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            db_url=env.get("JUKI_DB", DEFAULT_DB),
            log_level=env.get("JUKI_LOG_LEVEL", "INFO").upper(),
            signing_key=env.get("JUKI_SIGNING_KEY") or None,
            signing_cert=env.get("JUKI_SIGNING_CERT") or None,
            root_cert=env.get("JUKI_ROOT_CERT") or None,
            keys_dir=env.get("JUKI_KEYS_DIR", DEFAULT_KEYS_DIR),
            print_dir=env.get("JUKI_PRINT_DIR", DEFAULT_PRINT_DIR),
            public_url=env.get("JUKI_PUBLIC_URL", DEFAULT_PUBLIC_URL).rstrip("/"),
            operator_token=env.get("JUKI_TOKEN") or None,
            operator_token_days=_days(env, "JUKI_OPERATOR_TOKEN_DAYS", DEFAULT_OPERATOR_TOKEN_DAYS),
            admin_token_days=_days(env, "JUKI_ADMIN_TOKEN_DAYS", DEFAULT_ADMIN_TOKEN_DAYS),
            pkcs11_module=env.get("JUKI_PKCS11_MODULE") or None,
            webauthn_rp_id=env.get("JUKI_WEBAUTHN_RP_ID", DEFAULT_WEBAUTHN_RP_ID),
            login_max_failures=_count(
                env, "JUKI_LOGIN_MAX_FAILURES", DEFAULT_LOGIN_MAX_FAILURES, 1, 20
            ),
            idle_minutes=_count(env, "JUKI_IDLE_MINUTES", DEFAULT_IDLE_MINUTES, 1, 240),
            change_review=_switch(env, "JUKI_CHANGE_REVIEW", True),
            edit_lock_minutes=_count(
                env, "JUKI_EDIT_LOCK_MINUTES", DEFAULT_EDIT_LOCK_MINUTES, 1, 480
            ),
            pending_change_days=_count(
                env, "JUKI_PENDING_CHANGE_DAYS", DEFAULT_PENDING_CHANGE_DAYS, 1, 365
            ),
            kiosk_slots=_count(env, "JUKI_KIOSK_SLOTS", DEFAULT_KIOSK_SLOTS, 1, 64),
        )

    def __repr__(self) -> str:
        # A PostgreSQL URL may carry a password: never print it. Key paths are not secrets.
        return (
            f"Settings(db_url={masked_url(self.db_url)!r}, log_level={self.log_level!r}, "
            f"signing_key={self.signing_key!r}, signing_cert={self.signing_cert!r}, "
            f"root_cert={self.root_cert!r}, keys_dir={self.keys_dir!r}, "
            f"print_dir={self.print_dir!r}, public_url={self.public_url!r}, "
            f"operator_token={'***' if self.operator_token else None}, "
            f"operator_token_days={self.operator_token_days}, "
            f"admin_token_days={self.admin_token_days}, "
            f"pkcs11_module={self.pkcs11_module!r}, webauthn_rp_id={self.webauthn_rp_id!r}, "
            f"login_max_failures={self.login_max_failures}, idle_minutes={self.idle_minutes}, "
            f"change_review={self.change_review}, edit_lock_minutes={self.edit_lock_minutes}, "
            f"pending_change_days={self.pending_change_days}, kiosk_slots={self.kiosk_slots})"
        )


class SettingsError(ValueError):
    """An environment variable holds a value juki cannot use; the message names it."""


def _days(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 366:
        raise SettingsError(f"{name}: a whole number of days from 1 to 366 is required")
    return int(raw)


def _count(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:  # not '²'
        raise SettingsError(f"{name}: a whole number from {low} to {high} is required")
    return int(raw)


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in {"on", "off"}:
        raise SettingsError(f"{name}: `on` or `off` is required")
    return raw == "on"


def masked_url(url: str) -> str:
    # Imported here: settings are read by every command, SQLAlchemy is needed by few of them.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError, TypeError):
        return "(not a database URL)"  # and not echoed: it may hold a password
