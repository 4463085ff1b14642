"""本人通知's repository in memory, over the fake tables, for the services' unit tests.

`FakeSelfNotices` answers `juki.certificates.requests_store.SqlSelfNotices`'s queries over the
rows that store's own mappers write; `FakeSelfNoticeUnitOfWork` is the registry's fake unit of
work with it beside. `tests/integration/certificates/test_cert_self_notice_contract.py` holds
it to the SQL store on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa

from juki.certificates.requests_store import (
    already_registered,
    notice_from_row,
    notice_row,
    registration_from_row,
    registration_row,
)
from juki.certificates.self_notice import SelfNotice, SelfNoticeRegistration
from juki.core.errors import NotFoundError
from support.fakedb import FakeConnection
from support.fakes import FakeRegistryUnitOfWork

if TYPE_CHECKING:
    from juki.certificates.ports import SelfNoticeUnitOfWork

REGISTRATIONS = "self_notice_registrations"
NOTICES = "self_notices"
FUHYO = "fuhyo_entries"


class FakeSelfNotices:
    def __init__(self, conn: FakeConnection) -> None:
        self._conn = conn

    def live_registrations(
        self, resident_codes: Sequence[str]
    ) -> Mapping[str, SelfNoticeRegistration]:
        wanted = set(resident_codes)
        return {
            row["resident_code"]: registration_from_row(row)
            for row in self._conn.tx.scan(REGISTRATIONS)
            if row["resident_code"] in wanted and row["withdrawn_at"] is None
        }

    def on_fuhyo(self, resident_code: str) -> bool:
        return any(r["resident_code"] == resident_code for r in self._conn.tx.scan(FUHYO))

    def add_registration(self, registration: SelfNoticeRegistration) -> None:
        try:
            self._conn.tx.insert(REGISTRATIONS, registration_row(registration))
        except sa.exc.IntegrityError:
            raise already_registered() from None

    def end_registration(self, registration_id: str, at: str, by: str) -> None:
        row = self._conn.tx.get(REGISTRATIONS, registration_id)
        if row is not None and row["withdrawn_at"] is None:
            self._conn.tx.update(REGISTRATIONS, {**row, "withdrawn_at": at, "withdrawn_by": by})

    def add_notice(self, notice: SelfNotice) -> None:
        self._conn.tx.insert(NOTICES, notice_row(notice))

    def notices(self, *, pending: bool, limit: int) -> Sequence[SelfNotice]:
        rows = sorted(
            (r for r in self._conn.tx.scan(NOTICES) if not pending or r["sent_at"] is None),
            key=lambda r: (r["created_at"], r["notice_id"]),
        )
        return [notice_from_row(r) for r in rows[:limit]]

    def get_notice(self, notice_id: str) -> SelfNotice:
        row = self._conn.tx.get(NOTICES, notice_id)
        if row is None:
            raise NotFoundError("self_notice", notice_id[:36])
        return notice_from_row(row)

    def mark_sent(self, notice_id: str, at: str, by: str) -> None:
        row = self._conn.tx.get(NOTICES, notice_id)
        if row is not None and row["sent_at"] is None:
            self._conn.tx.update(NOTICES, {**row, "sent_at": at, "sent_by": by})


class FakeSelfNoticeUnitOfWork(FakeRegistryUnitOfWork):
    """The registry's fake unit of work with 本人通知's repository on the same connection."""

    @property
    def self_notices(self) -> FakeSelfNotices:
        return FakeSelfNotices(self.connection)


if TYPE_CHECKING:
    _conforms: type[SelfNoticeUnitOfWork] = FakeSelfNoticeUnitOfWork
