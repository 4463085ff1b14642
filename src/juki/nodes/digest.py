"""A digest of one municipality's identity_info (or 附票本人確認情報) as a level holds it: how
many, and a hash of all of them. Its own module, light to import: `juki network check` compares
the digests every node reports without loading what computes them (`juki.nodes.identity`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Digest:
    lg_code: str
    count: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"lg_code": self.lg_code, "count": self.count, "sha256": self.sha256}
