"""Certificates through juki next to the raw limit, measured in the same run.

* **raw**: the same kind of page (one person's 住民票の写し) laid out by WeasyPrint in IPAmj明朝 and
  signed by pyhanko with a loaded key — nothing else;
* **juki**: `CertificateDesk.issue` for random residents of a seeded registry: authorise, read
  the snapshot in one transaction, apply the content rules, check every character against the
  font, take issue numbers, record the certificate, its register line and the oplog entry,
  render, sign, write the PDF to the print sink and mark it printed — serially, and from
  several threads at once;
* **verify**: the full offline check of one PDF (signature, chain, container, digest).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from bench.common import Backend, backends, table
from juki.certificates.content import build_content
from juki.certificates.desk import CertificateDesk
from juki.certificates.document import digest_of
from juki.certificates.model import CertificateKind, CertificateRequest, Issuance, Snapshot
from juki.certificates.render import CertificateRenderer
from juki.certificates.signing import PdfCertificateSigner, load_signing_material
from juki.certificates.verify import verify_pdf
from juki.core.clock import JST, FixedClock
from juki.core.settings import Settings
from juki.population.seeding import seed_registry
from juki.registry.model import Municipality, Relationship, ResidentRecord, Sex
from juki.registry.tables import resident_records
from juki.security.actors import Actor
from juki.security.permissions import Role
from juki.storage.engine import make_engine

CLERK = Actor("bench", Role.COUNTER_CLERK, "B01")
SEEDER = Actor("bench", Role.OPERATIONS_MANAGER, "bench")


def raw_render_sign(renderer: CertificateRenderer, signer: PdfCertificateSigner, n: int) -> float:
    """Pages/s for WeasyPrint + pyhanko alone, on a page like the ones juki issues."""
    now = datetime(2025, 4, 1, 10, 0, tzinfo=JST)
    person = ResidentRecord(
        record_id="r",
        lg_code="132250",
        resident_code="24727059608",
        family_name="山田",
        given_name="太郎",
        family_name_kana="ヤマダ",
        given_name_kana="タロウ",
        birth_date=datetime(1980, 5, 5).date(),
        sex=Sex.MALE,
        household_id="h",
        relationship=Relationship.HOUSEHOLDER,
        resident_since=now.date(),
        address="東京都稲城市東長沼1丁目1番1号",
        address_since=now.date(),
    )
    snapshot = Snapshot(Municipality("132250", "東京都", "稲城市"), person, (person,), None, now)
    content = build_content(CertificateRequest(CertificateKind.RESIDENCE, "24727059608"), snapshot)
    start = time.perf_counter()
    for i in range(n):
        issuance = Issuance(
            certificate_id=f"00000000-0000-0000-0000-{i:012d}",
            lg_code="132250",
            municipality="東京都稲城市",
            signatory="東京都稲城市長",
            issued_at=now.isoformat(),
            issued_on="2025-04-01",
            terminal_id="B01",
            issue_numbers=(f"20250401-132250-B01-{i:06d}",),
            verify_base_url="http://127.0.0.1:8000",
        )
        pdf = renderer.render(
            content, issuance, digest_of(content, issuance), municipality_name="稲城市"
        )
        signer.sign(pdf, reason="bench", location="bench")
    return n / (time.perf_counter() - start)


def raw_page(
    renderer: CertificateRenderer, signer: PdfCertificateSigner, n: int
) -> tuple[float, float]:
    """(pages/s, CPU ms a page): a page's wall-clock time over its CPU time is how much the
    machine's other work stretched it in this run."""
    cpu = time.process_time()
    rate = raw_render_sign(renderer, signer, n)
    return rate, (time.process_time() - cpu) / n * 1000


def run_backend(
    backend: Backend, residents: int, n: int, threads: int, tmp: Path
) -> tuple[list[list[object]], bytes, CertificateDesk]:
    clock = FixedClock(datetime(2025, 4, 1, 9, 0, tzinfo=JST))
    engine = make_engine(backend.new_url())
    seed_registry(engine, lg_code="132250", residents=residents, seed=1, by=SEEDER, clock=clock)
    with engine.connect() as conn:
        codes = list(
            conn.execute(
                sa.select(resident_records.c.resident_code, resident_records.c.support_measure)
                .where(resident_records.c.status == "active")
                .limit(5000)
            )
        )
    eligible = [code for code, support in codes if not support]
    settings = Settings(
        keys_dir=str(tmp / backend.name / "keys"),
        print_dir=str(tmp / backend.name / "print"),
    )
    desk = CertificateDesk(engine, settings, clock=clock)
    rng = random.Random(1)

    def one(_: int) -> bytes:
        code = rng.choice(eligible)
        return desk.issue(CLERK, CertificateRequest(CertificateKind.RESIDENCE, code)).pdf

    pdf = one(0)  # warm up: keys, fonts, seal image
    start = time.perf_counter()
    for i in range(n):
        pdf = one(i)
    serial = n / (time.perf_counter() - start)
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, range(n)))
    parallel = n / (time.perf_counter() - start)
    rows: list[list[object]] = [
        [backend.name, "issue (serial)", serial],
        [backend.name, f"issue ({threads} threads)", parallel],
    ]
    return rows, pdf, desk


def main(residents: int, n: int, which: str, threads: int = 8) -> None:
    print(
        f"certificates: {residents:,} residents seeded, {n} certificates each way "
        "(one person's 住民票の写し, 1 page)"
    )
    with tempfile.TemporaryDirectory(prefix="juki-bench-certs-") as tmpdir:
        tmp = Path(tmpdir)
        material = load_signing_material(
            Settings(keys_dir=str(tmp / "raw-keys")), "132250", datetime.now(UTC)
        )
        renderer = CertificateRenderer()
        signer = PdfCertificateSigner(material)
        raw_render_sign(renderer, signer, 3)  # warm up
        raw, raw_cpu_ms = raw_page(renderer, signer, n)
        rows: list[list[object]] = []
        with backends(which) as found:
            for backend in found:
                backend_rows, pdf, desk = run_backend(backend, residents, n, threads, tmp)
                roots = desk.roots()
                start = time.perf_counter()
                for _ in range(n):
                    assert verify_pdf(pdf, roots).ok
                verify = n / (time.perf_counter() - start)
                rows += [[*r, raw, r[2] / raw] for r in backend_rows]  # type: ignore[operator]
                rows.append([backend.name, "verify (offline)", verify, "-", "-"])
                desk.engine.dispose()
    print(table(["backend", "flow", "certificates/s", "raw render+sign/s", "ratio"], rows))
    print(
        "raw = WeasyPrint layout of the same page in IPAmj明朝 + pyhanko PAdES signature with a "
        "loaded key; rendering is CPU-bound Python, so threads add little on top of serial. "
        f"A raw page: {raw_cpu_ms:.0f} ms of CPU, {1000 / raw:.0f} ms of wall clock "
        f"(load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main(2_000, 50, "sqlite")
