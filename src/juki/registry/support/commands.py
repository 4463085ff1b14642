"""What a counter supervisor asks of the 支援措置 record, as frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from juki.registry.support.model import RestrainedParty, SupportKind


@dataclass(frozen=True, slots=True)
class RecordSupportMeasure:
    """支援措置の申出 and its decision: whom it protects, whom it is against, from when.

    `starts_on` is the day the municipality decided and told the applicant (the period's
    first day); None means today."""

    kind: SupportKind
    requested_on: date
    record_ids: tuple[str, ...]
    restrained: tuple[RestrainedParty, ...]
    note: str
    starts_on: date | None = None


@dataclass(frozen=True, slots=True)
class RenewSupportMeasure:
    """延長の申出: one more year from the day after the current end."""

    measure_id: str
    requested_on: date


@dataclass(frozen=True, slots=True)
class ReleaseSupportMeasure:
    """一時的な解除: the measure does not apply for this period, for this purpose."""

    measure_id: str
    released_from: date
    released_until: date
    purpose: str
    requested_on: date


@dataclass(frozen=True, slots=True)
class TerminateSupportMeasure:
    """支援措置の終了 at the protected person's request: not in force from `terminated_on`."""

    measure_id: str
    terminated_on: date
    reason: str
