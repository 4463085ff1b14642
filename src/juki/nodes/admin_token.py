"""A node's admin token ends: it expires, and `juki network admin-token` replaces or revokes it.

node.json keeps the token's SHA-256, its expiry and the digests of the tokens revoked before
it; the token itself is only in `DIR/<id>/admin-token` (0600). A running node re-reads its
node.json when the file changes, so a rotation or revocation takes effect at once, without a
restart. A configuration written before tokens had an expiry has none until its first rotation.
"""

from __future__ import annotations

import dataclasses
import hmac
import os
from datetime import datetime, timedelta
from typing import Final, Literal

from juki.core.clock import Clock
from juki.core.files import replace_private
from juki.core.settings import DEFAULT_ADMIN_TOKEN_DAYS
from juki.nodes.config import ADMIN_TOKEN_FILE, NODE_FILE, ConfigError, NetworkFiles, NodeConfig
from juki.security.operators import MAX_TOKEN_LEN, new_token, token_sha256

AdminRefusal = Literal["unknown", "expired", "revoked"]
MAX_KEPT_REVOCATIONS: Final = 50


class AdminTokenCheck:
    """Whether a bearer token is this node's admin token now, and if not, why."""

    def __init__(self, config: NodeConfig, clock: Clock) -> None:
        self._config = config
        self._clock = clock
        path = config.directory / NODE_FILE
        self._path = path if path.exists() else None
        self._stamp = self._stat()

    def _stat(self) -> tuple[int, int] | None:
        if self._path is None:
            return None
        try:
            st = os.stat(self._path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _current(self) -> NodeConfig:
        stamp = self._stat()
        if stamp is not None and stamp != self._stamp and self._path is not None:
            try:
                self._config = NodeConfig.load(self._path)
                self._stamp = stamp
            except ConfigError:
                pass  # half-written: keep the last good one, read it again next time
        return self._config

    def refusal(self, token: str) -> AdminRefusal | None:
        if not token or len(token) > MAX_TOKEN_LEN:
            return "unknown"
        config = self._current()
        digest = token_sha256(token)
        if not hmac.compare_digest(digest, config.admin_token_sha256):
            revoked = any(hmac.compare_digest(digest, d) for d in config.revoked_admin_tokens)
            return "revoked" if revoked else "unknown"
        expires = config.admin_token_expires_at
        if expires and datetime.fromisoformat(expires) <= self._clock.now():
            return "expired"
        return None


def rotate_admin_token(
    files: NetworkFiles,
    node_id: str,
    clock: Clock,
    *,
    days: int = DEFAULT_ADMIN_TOKEN_DAYS,
    revoke_only: bool = False,
) -> str | None:
    """Revoke the node's admin token and (unless `revoke_only`) write a new one, valid for
    `days`; return the new token, or None when only revoked (the console then has none)."""
    if not 1 <= days <= 366:
        raise ConfigError("--days: an admin token is valid for 1 to 366 days")
    path = files.node_file(node_id)
    config = NodeConfig.load(path)
    revoked = (config.admin_token_sha256, *config.revoked_admin_tokens)[:MAX_KEPT_REVOCATIONS]
    token = None if revoke_only else new_token()
    updated = dataclasses.replace(
        config,
        # A revoked node has no admin token: a digest no token hashes to (not hex).
        admin_token_sha256=token_sha256(token) if token else "revoked",
        admin_token_expires_at=(
            (clock.now() + timedelta(days=days)).isoformat() if token else clock.now().isoformat()
        ),
        revoked_admin_tokens=tuple(d for d in revoked if d != "revoked"),
    )
    token_file = path.parent / ADMIN_TOKEN_FILE
    replace_private(token_file, (token + "\n").encode() if token else b"")
    replace_private(path, updated.to_text().encode("utf-8"))
    return token
