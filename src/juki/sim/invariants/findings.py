"""What a failed check produces: a `Violation`, and `Found`, which collects them per invariant.

One broken invariant tends to break it for many people at once; `Found` keeps the first
`MAX_PER_INVARIANT` of each kind with their trace keys and only counts the rest, so a report
stays readable and the trails printed are those of the first cases.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

MAX_PER_INVARIANT: Final = 5  # violations of one kind reported; the rest are counted


@dataclass(frozen=True, slots=True)
class Violation:
    invariant: str
    detail: str
    subjects: tuple[str, ...] = ()

    def as_json(self, at: str, trail: Sequence[str]) -> dict[str, Any]:
        return {"invariant": self.invariant, "at": at, "detail": self.detail, "trail": list(trail)}


@dataclass
class Found:
    violations: list[Violation] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, invariant: str, detail: str, *subjects: str) -> None:
        self.counts[invariant] += 1
        if self.counts[invariant] <= MAX_PER_INVARIANT:
            self.violations.append(Violation(invariant, detail, tuple(subjects)))

    def summary(self) -> list[Violation]:
        out = list(self.violations)
        for name, n in sorted(self.counts.items()):
            if n > MAX_PER_INVARIANT:
                out.append(Violation(name, f"… and {n - MAX_PER_INVARIANT} more like these"))
        return out
