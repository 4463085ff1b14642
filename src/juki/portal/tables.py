"""The portal's one table, kept at the card holder's municipality: the requests to correct
(訂正の申出) a record that residents file through the portal. The counter handles them
(`juki.registry.corrections`, the terminal's 訂正の申出 screen), so the table lives with the
registry; it is named here too, for the portal's side."""

from __future__ import annotations

from juki.registry.tables import correction_requests

__all__ = ["correction_requests"]
