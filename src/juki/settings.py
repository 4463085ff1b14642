"""One settings object, read from the environment (`JUKI_*`), SQLite by default."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.engine import make_url

DEFAULT_DB = "sqlite:///var/juki.db"


@dataclass(frozen=True, slots=True)
class Settings:
    db_url: str = DEFAULT_DB
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            db_url=env.get("JUKI_DB", DEFAULT_DB),
            log_level=env.get("JUKI_LOG_LEVEL", "INFO").upper(),
        )

    def __repr__(self) -> str:
        # A PostgreSQL URL may carry a password: never print it.
        return f"Settings(db_url={masked_url(self.db_url)!r}, log_level={self.log_level!r})"


def masked_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
