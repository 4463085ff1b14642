"""Digest comparison: does every level hold the same identity_info for each municipality?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from juki.nodes.digest import Digest


@dataclass(frozen=True, slots=True)
class Disagreement:
    lg_code: str
    level: str  # "prefecture" or "national"
    node_id: str
    expected: Digest
    found: Digest | None

    def describe(self) -> str:
        found = f"{self.found.count} records, {self.found.sha256[:12]}" if self.found else "nothing"
        return (
            f"{self.lg_code}: {self.level} {self.node_id} holds {found}; the municipality holds "
            f"{self.expected.count} records, {self.expected.sha256[:12]}"
        )


def compare(
    municipal: Mapping[str, Digest],
    prefectural: Mapping[str, tuple[str, Mapping[str, Digest]]],
    national: tuple[str, Mapping[str, Digest]],
) -> list[Disagreement]:
    """`prefectural` maps each lg_code to (its prefecture's id, that prefecture's digests)."""
    out: list[Disagreement] = []
    national_id, national_digests = national
    for lg_code, expected in sorted(municipal.items()):
        pref_id, pref_digests = prefectural[lg_code]
        for level, node_id, digests in (
            ("prefecture", pref_id, pref_digests),
            ("national", national_id, national_digests),
        ):
            found = digests.get(lg_code)
            if found != expected:
                out.append(Disagreement(lg_code, level, node_id, expected, found))
    return out


FUHYO_LEVEL_SUFFIX = " (附票本人確認情報)"


def fuhyo_disagreements(found: list[Disagreement]) -> list[Disagreement]:
    """Disagreements of the 附票本人確認情報's digests (附票連携), named as such: a repair
    snapshot of the municipality resends both sets."""
    return [replace(d, level=d.level + FUHYO_LEVEL_SUFFIX) for d in found]
