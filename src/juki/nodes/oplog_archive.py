"""Closed months of the operation log: sealed as signed archives, removed after seven years.

`export_month` writes one closed month (a month before the current one, in Japan time) as a JSON
archive signed with the node's key, carrying its certificate: the entries with their hashes, the
hash the month's first entry follows (its anchor) and the last; `verify_archive` checks it with
nothing but the file (and, given the network's root certificate, that the signer is a node of
it). Exporting seals the month in the database (`oplog_seals`: its first and last entry, the last
hash, the archive's SHA-256). `prune` removes the entries of sealed months that ended more than
seven years ago, and only those (seed 001: 操作履歴 kept seven years); the seal of the newest
pruned month is where the stored chain then begins.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

import sqlalchemy as sa
from cryptography import x509

from juki.core.clock import JST
from juki.core.errors import PermissionDeniedError, ValidationError
from juki.core.ports import OpLogEntry, Outcome
from juki.network import pki
from juki.security.actors import Actor
from juki.security.chain import HASHED, Anchor, first_break
from juki.security.oplog_verify import chain_rows, verify_chain
from juki.security.permissions import Permission, authorize
from juki.security.store import append_entry
from juki.security.tables import oplog, oplog_seals

FORMAT: Final = "juki-oplog-archive-v1"
RETENTION_YEARS: Final = 7


class ArchiveError(Exception):
    """An archive or a request about one that cannot be honoured, with the reason."""


def parse_month(text: str) -> date:
    try:
        first = datetime.strptime(text, "%Y-%m").date()
    except ValueError as exc:
        raise ValidationError(
            "month", "format", "month must be YYYY-MM", "月は YYYY-MM の形式で指定してください"
        ) from exc
    return first


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def _canonical(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True, slots=True)
class Sealed:
    month: str
    first_seq: int
    last_seq: int
    last_hash: str
    archive_sha256: str
    entries: int


def _month_range(conn: sa.Connection, month: str) -> tuple[int, int]:
    c = oplog.c
    low, high = conn.execute(
        sa.select(sa.func.min(c.seq), sa.func.max(c.seq)).where(c.at.startswith(month))
    ).one()
    if low is None:
        raise ArchiveError(f"the oplog holds no entries of {month}")
    return int(low), int(high)


def _archive(
    conn: sa.Connection, month: str, key: pki.PrivateKey, cert: x509.Certificate
) -> dict[str, Any]:
    first_seq, last_seq = _month_range(conn, month)
    entries = list(chain_rows(conn, first_seq - 1, last_seq))
    strays = [e["seq"] for e in entries if not str(e["at"]).startswith(month)]
    if strays or len(entries) != last_seq - first_seq + 1:
        raise ArchiveError(f"the entries of {month} are not one unbroken run (see {strays[:3]})")
    document: dict[str, Any] = {
        "format": FORMAT,
        "month": month,
        "node_id": pki.named_in(cert).node_id,
        "anchor": {"seq": first_seq - 1, "entry_hash": entries[0]["prev_hash"]},
        "last": {"seq": last_seq, "entry_hash": entries[-1]["entry_hash"]},
        "entries": entries,
        "certificate": pki.cert_to_pem(cert).decode(),
    }
    signature = pki.sign(key, _canonical(document))
    return document | {"signature": base64.b64encode(signature).decode()}


def export_month(
    engine: sa.Engine,
    month: str,
    key: pki.PrivateKey,
    cert: x509.Certificate,
    by: Actor,
    now: datetime,
) -> tuple[bytes, Sealed]:
    """The signed archive of a closed month, and its seal (kept, and logged, in one
    transaction). A chain that does not verify is not sealed."""
    try:
        authorize(by.actor_id, by.role, Permission.EXPORT_OPLOG)
    except PermissionDeniedError as exc:
        _refused(engine, by, now, "export_oplog", month, str(exc))
        raise
    first = parse_month(month)
    if _next_month(first) > now.astimezone(JST).date():
        raise ArchiveError(f"{month} is not closed yet: only past months are sealed")
    with engine.begin() as conn:
        broken = verify_chain(conn)
        if broken is not None:
            raise ArchiveError(f"the chain does not verify ({broken.detail}); nothing sealed")
        document = _archive(conn, month, key, cert)
        data = json.dumps(document, ensure_ascii=False, indent=1).encode() + b"\n"
        sealed = Sealed(
            month,
            document["anchor"]["seq"] + 1,
            document["last"]["seq"],
            document["last"]["entry_hash"],
            hashlib.sha256(data).hexdigest(),
            len(document["entries"]),
        )
        existing = conn.execute(
            sa.select(oplog_seals.c.last_hash).where(oplog_seals.c.month == month)
        ).scalar_one_or_none()
        if existing is None:
            conn.execute(
                oplog_seals.insert().values(
                    month=month,
                    first_seq=sealed.first_seq,
                    last_seq=sealed.last_seq,
                    last_hash=sealed.last_hash,
                    archive_sha256=sealed.archive_sha256,
                    sealed_at=now.isoformat(),
                )
            )
        elif existing != sealed.last_hash:
            raise ArchiveError(f"{month} was sealed with another last hash than it has now")
        _log(conn, by, now, "export_oplog", month, f"{sealed.entries} entries")
    return data, sealed


def _refused(engine: sa.Engine, by: Actor, now: datetime, action: str, target: str, d: str) -> None:
    """A refused export or prune, in a transaction of its own."""
    with engine.begin() as conn:
        _log(conn, by, now, action, target, d, "denied")


def _log(
    conn: sa.Connection,
    by: Actor,
    now: datetime,
    action: str,
    target: str,
    d: str,
    outcome: Outcome = "ok",
) -> None:
    append_entry(
        conn,
        OpLogEntry(
            at=now,
            actor_id=by.actor_id,
            role=by.role.value,
            terminal_id=by.terminal_id,
            action=action,
            target=target,
            outcome=outcome,
            detail=d,
            purpose=by.purpose,
        ),
    )


@dataclass(frozen=True, slots=True)
class ArchiveCheck:
    month: str
    node_id: str
    entries: int
    problem: str | None

    @property
    def holds(self) -> bool:
        return self.problem is None


def verify_archive(data: bytes, root: x509.Certificate | None = None) -> ArchiveCheck:
    """An archive on its own: its signature by the certificate it carries (issued by `root`
    when given), and its entries chained from its anchor to its last entry."""
    try:
        document = json.loads(data)
        signature = base64.b64decode(document.pop("signature"), validate=True)
        cert = pki.cert_from_pem(document["certificate"])
        month, node_id = str(document["month"]), str(document["node_id"])
        entries = document["entries"]
        anchor = Anchor(int(document["anchor"]["seq"]), str(document["anchor"]["entry_hash"]))
        last = (int(document["last"]["seq"]), str(document["last"]["entry_hash"]))
        if document["format"] != FORMAT or not isinstance(entries, list):
            raise ValueError("not a juki oplog archive")
        missing = [k for e in entries for k in (*HASHED, "entry_hash") if k not in e]
        if missing:
            raise ValueError(f"an entry lacks {missing[0]}")
    except (ValueError, KeyError, TypeError) as exc:
        return ArchiveCheck("", "", 0, f"unreadable archive: {exc}")
    if not pki.verify(pki.public_key_of(cert), signature, _canonical(document)):
        return ArchiveCheck(month, node_id, len(entries), "the signature does not verify")
    if pki.named_in(cert).node_id != node_id:
        return ArchiveCheck(month, node_id, len(entries), "signed by another node's key")
    if root is not None:
        try:
            pki.check_issued_by(cert, root, datetime.now(JST))
        except ValueError as exc:
            return ArchiveCheck(month, node_id, len(entries), f"certificate: {exc}")
    broken = first_break(entries, anchor, last)
    problem = None if broken is None else f"{broken.problem} at entry {broken.seq}: {broken.detail}"
    return ArchiveCheck(month, node_id, len(entries), problem)


def prune(engine: sa.Engine, before: str, by: Actor, now: datetime) -> list[str]:
    """Remove the entries of every sealed month before `before`; refuse if any such month
    ended less than seven years ago or was never sealed. The months pruned."""
    try:
        authorize(by.actor_id, by.role, Permission.PRUNE_OPLOG)
    except PermissionDeniedError as exc:
        _refused(engine, by, now, "prune_oplog", f"..{before}", str(exc))
        raise
    limit = parse_month(before)
    today = now.astimezone(JST).date()
    cutoff = date(today.year - RETENTION_YEARS, today.month, 1)
    if limit > cutoff:
        raise ArchiveError(
            f"entries are kept seven years: months before {cutoff:%Y-%m} may be pruned, "
            f"not those before {before}"
        )
    s = oplog_seals.c
    with engine.begin() as conn:
        head_of_range = f"{before}-01"
        months = sorted(
            {
                str(at)[:7]
                for (at,) in conn.execute(
                    sa.select(oplog.c.at).where(oplog.c.at < head_of_range).distinct()
                )
            }
        )
        seals = {
            r.month: r for r in conn.execute(sa.select(oplog_seals).where(s.month.in_(months)))
        }
        unsealed = [m for m in months if m not in seals]
        if unsealed:
            raise ArchiveError(f"not exported and sealed yet: {', '.join(unsealed)}")
        for month in months:
            seal = seals[month]
            conn.execute(oplog.delete().where(oplog.c.seq.between(seal.first_seq, seal.last_seq)))
            conn.execute(
                oplog_seals.update().where(s.month == month).values(pruned_at=now.isoformat())
            )
        if months:
            _log(conn, by, now, "prune_oplog", f"..{before}", ", ".join(months))
    return months
