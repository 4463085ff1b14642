"""`juki kiosk stress`: N whole kiosk sessions against a running network, C at once.

Each session takes a card of `juki kiosk cards` (DEMO ONLY), connects to the national node's
relay with the demo store's client certificate (`HttpRelay`), authenticates with the card's PIN,
asks its municipality for a residence certificate and, if one comes back, checks the printed
page against the card that asked: the PDF must verify under the network root
(`juki.certificates.verify.verify_pdf`), be issued by the card's municipality and name the card
holder; anything else counts as `wrong_person`. With `--faults timeouts`, a random quarter of
the relay calls get a client timeout too short to be answered: the session sees a `HopTimeout`,
aborts, and the relay is told to abandon (counted in `aborted`).

At the end, `relay_retained_bytes` is the number of bytes of the residents' data found in the
relay's own storage on the national node: its issuance record (`kiosk_issuances`) and the oplog
entries the stores' calls made — the residents' names, resident codes, card serials, the
certificate ids and issue numbers, and slices of every PDF printed. The card CA's tables and the
national identity index hold residents' data by design and are not the relay's.
"""

from __future__ import annotations

import json
import random
import ssl
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx
import sqlalchemy as sa

from juki.cards.soft import SoftCardToken
from juki.certificates.verify import verify_pdf
from juki.core.clock import SystemClock
from juki.core.errors import DomainRuleError
from juki.kiosk.http_relay import HttpRelay
from juki.kiosk.ports import HopTimeout
from juki.kiosk.session import KioskSession, KioskStop
from juki.network import pki
from juki.network.directory import NodeKind
from juki.nodes.config import NetworkFiles
from juki.nodes.kiosk_demo import DEMO_STORE, KioskFiles
from juki.nodes.tables import kiosk_issuances
from juki.security.tables import oplog
from juki.storage.engine import make_engine

FAULT_TIMEOUT_S = 0.0005  # no relay answers in half a millisecond
FAULT_SHARE = 0.25
TIMEOUT_S = 30.0


class FaultyRelay(HttpRelay):
    """`HttpRelay` whose calls, at random, get a client timeout nothing can meet."""

    def __init__(self, client: httpx.Client, rng: random.Random, share: float) -> None:
        super().__init__(client, TIMEOUT_S)
        self.rng, self.share = rng, share

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        self.timeout = FAULT_TIMEOUT_S if self.rng.random() < self.share else TIMEOUT_S
        return super()._call(method, path, body)


@dataclass
class Tally:
    sessions: int = 0
    printed: int = 0
    refused: int = 0
    aborted: int = 0
    wrong_person: int = 0
    errors: list[str] = field(default_factory=list)
    needles: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, what: str, needles: set[str], error: str = "") -> None:
        with self.lock:
            self.sessions += 1
            setattr(self, what, getattr(self, what) + 1)
            self.needles |= needles
            if error and len(self.errors) < 10:
                self.errors.append(error)


def _client(files: NetworkFiles, kiosk: KioskFiles, url: str) -> httpx.Client:
    context = ssl.create_default_context(cafile=str(files.root_certificate))
    context.load_cert_chain(str(kiosk.store_certificate), str(kiosk.store_key))
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    return httpx.Client(base_url=url, verify=context, limits=limits, timeout=TIMEOUT_S)


def _holds(names: tuple[str, ...], holder: str) -> bool:
    want = "".join(holder.split())
    return any("".join(n.split()).startswith(want) for n in names)


@dataclass(frozen=True)
class Run:
    kiosk: KioskFiles
    client: httpx.Client
    root: Any
    faults: bool
    tally: Tally


def _one(card: dict[str, str], run: Run, seed: int) -> None:
    kiosk, client, root, faults, tally = run.kiosk, run.client, run.root, run.faults, run.tally
    rng = random.Random(seed)
    relay = FaultyRelay(client, rng, FAULT_SHARE if faults else 0.0)
    needles = {card["serial"], card["resident_code"], "".join(card["name"].split())}
    token = SoftCardToken.load(kiosk.card(card["serial"]))
    try:
        session = KioskSession.start(relay, root, store_id=DEMO_STORE, clock=SystemClock())
        session.authenticate(token, card["pin"])
        session.choose(card["lg_code"], "residence", copies=1)
        result = session.request()
    except KioskStop as exc:
        tally.add("aborted" if exc.rule == "aborted" else "refused", needles, exc.rule)
        return
    except (HopTimeout, DomainRuleError) as exc:
        tally.add("refused", needles, f"{type(exc).__name__}: {exc}"[:200])
        return
    if result.outcome != "issued" or result.pdf is None:
        session.finish()
        tally.add("refused", needles, result.refusal_code or "refused")
        return
    pdf = result.pdf
    needles |= {result.certificate_id or "", *result.issue_numbers}
    needles |= {pdf[i : i + 32].hex() for i in (len(pdf) // 3, len(pdf) // 2)}
    verdict = verify_pdf(pdf, [root])
    right = (
        verdict.ok
        and verdict.issuer_lg_code == card["lg_code"]
        and _holds(verdict.names, card["name"])
    )
    session.finish()
    tally.add("printed" if right else "wrong_person", needles, "" if right else str(verdict.reason))


def retained_bytes(engine: sa.Engine, needles: set[str]) -> int:
    """Bytes of the needles found in the relay's own rows (issuances, the stores' oplog)."""
    o = oplog.c
    with engine.connect() as conn:
        rows = [repr(tuple(r)) for r in conn.execute(sa.select(kiosk_issuances))]
        rows += [
            repr(tuple(r)) for r in conn.execute(sa.select(oplog).where(o.role == "kiosk_store"))
        ]
    text = "\n".join(rows)
    return sum(len(n.encode()) * text.count(n) for n in needles if len(n) >= 4)


def run(
    files: NetworkFiles,
    sessions: int,
    concurrency: int,
    faults: bool,
    seed: int = 0,
    progress: TextIO | None = None,
) -> dict[str, Any]:
    """`progress`: where to say, every tenth of the sessions, how many are done."""
    kiosk = KioskFiles(files.root)
    cards: list[dict[str, str]] = json.loads(kiosk.manifest.read_text())
    if not cards:
        raise ValueError("no demo cards: run `juki kiosk cards --dir DIR` first")
    national = next(c for c in files.configs() if c.kind is NodeKind.NATIONAL)
    root = pki.cert_from_pem(files.root_certificate.read_bytes())
    tally = Tally()
    seeds = [random.Random(seed + i).randrange(2**32) for i in range(sessions)]
    # at most one session per card at a time: a card is one piece of plastic
    locks = {c["serial"]: threading.Lock() for c in cards}

    def session(i: int) -> None:
        card = cards[i % len(cards)]
        with locks[card["serial"]]:
            _one(card, Run(kiosk, client, root, faults, tally), seeds[i])

    client = _client(files, kiosk, national.endpoint)
    with client, ThreadPoolExecutor(max_workers=concurrency) as pool:
        step = max(1, sessions // 10)
        for k, _ in enumerate(pool.map(session, range(sessions)), 1):
            if progress is not None and (k % step == 0 or k == sessions):
                print(f"セッション {k}/{sessions} (sessions done)", file=progress, flush=True)
    engine = make_engine(national.db)
    try:
        retained = retained_bytes(engine, tally.needles)
    finally:
        engine.dispose()
    return {
        "sessions": tally.sessions,
        "printed": tally.printed,
        "refused": tally.refused,
        "aborted": tally.aborted,
        "wrong_person": tally.wrong_person,
        "relay_retained_bytes": retained,
        "faults": "timeouts" if faults else "none",
        "concurrency": concurrency,
        "examples": tally.errors,
    }
