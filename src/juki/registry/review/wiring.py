"""The municipality's review settings, read from its Settings (the one place they meet)."""

from __future__ import annotations

from juki.core.settings import Settings
from juki.registry.review.model import ReviewPolicy


def review_policy(settings: Settings) -> ReviewPolicy:
    return ReviewPolicy(
        review=settings.change_review,
        lock_minutes=settings.edit_lock_minutes,
        idle_minutes=settings.idle_minutes,
        pending_days=settings.pending_change_days,
    )
