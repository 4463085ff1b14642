"""The kiosk's devices behind small ports: the card reader and the printer.

- `CardReader`: what cards can be placed (`present`) and the one placed (`take`). The demo's
  `SoftCardReader` offers the software cards of `juki kiosk cards` (a person picks one on the
  screen); a real reader would be a PKCS#11 token (`juki.cards.pkcs11_token`) behind the same port.
- `PrintSink`: prints one copy of a certificate, or jams. `FilePrintSink` keeps each printed
  copy as `printed/<issue number>.pdf` under the kiosk's directory — the paper the customer
  takes away — and can be told to jam the next N copies (`jam_next`), as a demo and tests do.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from juki.cards.soft import SoftCardToken
from juki.cards.token import CardToken
from juki.core.errors import ValidationError


@dataclass(frozen=True, slots=True)
class PlaceableCard:
    """A card the demo reader can be given: its serial and a label to pick it by (no PIN)."""

    serial: str
    label: str
    path: Path


class CardReader(Protocol):
    def present(self) -> Sequence[PlaceableCard]: ...

    def take(self, serial: str) -> CardToken: ...


class CardNotPresent(ValidationError):
    def __init__(self) -> None:
        super().__init__(
            "card", "card_not_present", "no such card at the reader", "カードを読み取れません"
        )


class SoftCardReader:
    """DEMO: the software cards under a directory, one picked on the screen."""

    def __init__(self, cards: Sequence[PlaceableCard]) -> None:
        self._cards = {c.serial: c for c in cards}

    def present(self) -> Sequence[PlaceableCard]:
        return list(self._cards.values())

    def take(self, serial: str) -> CardToken:
        card = self._cards.get(serial)
        if card is None:
            raise CardNotPresent()
        try:
            return SoftCardToken.load(card.path)
        except (OSError, ValueError, KeyError) as exc:
            raise CardNotPresent() from exc


class PrintSink(Protocol):
    def print_copy(self, pdf: bytes, issue_number: str) -> bool:
        """True when the copy came out; False on a paper jam (the copy is spoiled)."""
        ...


class FilePrintSink:
    def __init__(self, directory: Path, jam_next: int = 0) -> None:
        self.directory = directory
        self.jam_next = jam_next
        self._lock = threading.Lock()

    def print_copy(self, pdf: bytes, issue_number: str) -> bool:
        name = re.sub(r"[^0-9A-Za-z_-]", "_", issue_number)[:64] or "copy"
        with self._lock:
            if self.jam_next > 0:
                self.jam_next -= 1
                return False
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        (self.directory / f"{name}.pdf").write_bytes(pdf)
        return True
