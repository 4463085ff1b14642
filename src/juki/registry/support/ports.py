"""What the 支援措置 services need from storage, as a protocol: domain code stays free of I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from juki.registry.support.model import SupportMeasure


class SupportMeasureRepository(Protocol):
    """Measures, read by id or by the records they protect. `save` applies only to the version
    this transaction read (`ConcurrentChangeError` otherwise)."""

    def get(self, measure_id: str) -> SupportMeasure: ...

    def for_records(self, record_ids: Iterable[str]) -> Sequence[SupportMeasure]: ...

    def add(self, measure: SupportMeasure) -> None: ...

    def save(self, measure: SupportMeasure) -> None: ...
