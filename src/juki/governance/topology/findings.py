"""A finding of the topology audit, and the audit's result as the CLI prints it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from juki.governance.topology.remedies import Text


class Severity(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


SEVERITY_ORDER = {Severity.HIGH: 0, Severity.MEDIUM: 1, Severity.LOW: 2}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    case: int | None
    path: tuple[str, ...]
    summary: Text
    remedy: Text
    source: str | None = None
    target: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "case": self.case,
            "path": list(self.path),
            "source": self.source,
            "target": self.target,
            "summary": {"en": self.summary.en, "ja": self.summary.ja},
            "remedy": {"en": self.remedy.en, "ja": self.remedy.ja},
        }


@dataclass(frozen=True)
class AuditResult:
    municipality: str
    findings: tuple[Finding, ...]

    @property
    def has_high(self) -> bool:
        return any(f.severity == Severity.HIGH for f in self.findings)

    @classmethod
    def of(cls, municipality: str, findings: Iterable[Finding]) -> AuditResult:
        """The findings in their order: most severe first, then by case and path."""
        key = sorted(
            findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.case or 9, f.code, f.path)
        )
        return cls(municipality, tuple(key))

    def as_json(self) -> dict[str, Any]:
        return {
            "municipality": self.municipality,
            "high": self.has_high,
            "findings": [f.as_json() for f in self.findings],
        }
