"""The wiring of certificate issuance for one municipality: built once, used by every request.

`CertificateDesk` holds what is expensive to make (the loaded signing key, the renderer with its
fonts and seal image, the font coverage tables) and builds them on first use, so creating an app
or a CLI parser never touches keys or fonts.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from cryptography import x509

from juki.certificates.fonts import GlyphCoverage, ipamj_coverage
from juki.certificates.kiosk.messages import KioskAnswer, KioskRequest
from juki.certificates.kiosk.services import KioskProduction, issue_for_card_holder
from juki.certificates.kiosk.store import SqlKioskReader, SqlKioskUnitOfWork
from juki.certificates.model import CertificateRequest, CertificateStatus
from juki.certificates.ports import ContentSource, PrintSink, ProducedPdf
from juki.certificates.render import CertificateRenderer
from juki.certificates.services import (
    IssuedCertificate,
    PreparedCertificate,
    issue_certificate,
)
from juki.certificates.signing import (
    PdfCertificateSigner,
    SigningMaterial,
    load_signing_material,
    trust_roots,
)
from juki.certificates.store import SqlCertificateUnitOfWork
from juki.certificates.verify import Verdict, verify_pdf
from juki.core.clock import Clock, SystemClock
from juki.core.files import replace_private
from juki.core.ports import IdSource
from juki.core.settings import Settings
from juki.registry.store.municipality import load_municipality
from juki.security.actors import Actor


class DirectoryPrintSink:
    """Stands in for the counter printer: each certificate lands as `<id>.pdf` in a directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def print(self, pdf: bytes, name: str) -> str:
        path = self.directory / f"{Path(name).name}.pdf"
        replace_private(path, pdf)
        return str(path)


class FilePrintSink:
    """Writes the certificate to one chosen file (`juki cert issue --out FILE.pdf`)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def print(self, pdf: bytes, name: str) -> str:
        replace_private(self.path, pdf)
        return str(self.path)


class PdfProducer:
    """Render + sign. The signer must be this municipality's certificate issuer."""

    def __init__(self, renderer: CertificateRenderer, signer: PdfCertificateSigner) -> None:
        self.renderer = renderer
        self.signer = signer

    def produce(self, prepared: PreparedCertificate) -> ProducedPdf:
        issuance = prepared.issuance
        if self.signer.material.lg_code != issuance.lg_code:
            raise RuntimeError(
                f"the signing key is for {self.signer.material.lg_code}, "
                f"not the issuing municipality {issuance.lg_code}"
            )
        unsigned = self.renderer.render(
            prepared.content,
            issuance,
            prepared.digest,
            seal_png=prepared.seal_png,
            municipality_name=prepared.municipality_name,
        )
        signed = self.signer.sign(
            unsigned,
            reason=f"{prepared.content.title}の証明（{issuance.signatory}）",
            location=issuance.municipality,
        )
        return ProducedPdf(
            pdf=signed,
            sha256=hashlib.sha256(signed).hexdigest(),
            signer_sha256=self.signer.material.fingerprint,
        )


class CertificateDesk:
    def __init__(
        self,
        engine: sa.Engine,
        settings: Settings,
        *,
        clock: Clock | None = None,
        ids: IdSource | None = None,
        sink: PrintSink | None = None,
        renderer: CertificateRenderer | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.ids = ids
        self.sink: PrintSink = sink or DirectoryPrintSink(Path(settings.print_dir))
        self._renderer = renderer
        self._producer: PdfProducer | None = None
        self._lock = threading.Lock()

    def uow(self) -> SqlCertificateUnitOfWork:
        return SqlCertificateUnitOfWork(self.engine, clock=self.clock, ids=self.ids)

    def kiosk_uow(self) -> SqlKioskUnitOfWork:
        return SqlKioskUnitOfWork(self.engine, clock=self.clock, ids=self.ids)

    def answer_kiosk(
        self, by: Actor, holder_resident_code: str, request: KioskRequest
    ) -> KioskAnswer:
        """コンビニ交付: answer the relay for the card holder its card link names."""
        return issue_for_card_holder(
            self.kiosk_uow(),
            by,
            holder_resident_code,
            request,
            reader=SqlKioskReader(self.engine),
            production=KioskProduction(self.coverage, self.producer(), self.settings.public_url),
        )

    @property
    def coverage(self) -> GlyphCoverage:
        return ipamj_coverage()

    def lg_code(self) -> str:
        with self.engine.connect() as conn:
            return load_municipality(conn).lg_code

    def signing_material(self) -> SigningMaterial:
        return self.producer().signer.material

    def producer(self) -> PdfProducer:
        with self._lock:
            if self._producer is None:
                material = load_signing_material(self.settings, self.lg_code(), datetime.now(UTC))
                renderer = self._renderer or CertificateRenderer()
                self._producer = PdfProducer(renderer, PdfCertificateSigner(material))
            return self._producer

    def issue(
        self, by: Actor, request: CertificateRequest, *, sink: PrintSink | None = None
    ) -> IssuedCertificate:
        return issue_certificate(
            self.uow(),
            by,
            request,
            coverage=self.coverage,
            producer=self.producer(),
            sink=sink or self.sink,
            verify_base_url=self.settings.public_url,
        )

    def issue_wide_area(
        self,
        by: Actor,
        request: CertificateRequest,
        *,
        home_lg_code: str,
        source: ContentSource,
        sink: PrintSink | None = None,
    ) -> IssuedCertificate:
        """広域交付: the content comes from the home municipality through this node's CS."""
        from juki.certificates.wide_area import issue_wide_area_certificate

        return issue_wide_area_certificate(
            self.uow(),
            by,
            request,
            home_lg_code=home_lg_code,
            source=source,
            coverage=self.coverage,
            producer=self.producer(),
            sink=sink or self.sink,
            verify_base_url=self.settings.public_url,
        )

    def lookup(self, certificate_id: str, digest: str) -> CertificateStatus | None:
        from juki.certificates.services import certificate_status

        return certificate_status(self.uow(), certificate_id, digest)

    def digest_of(self, certificate_id: str) -> str | None:
        """The digest the register holds for a certificate id (to check a typed 照合番号
        against), or None when there is no such certificate."""
        from juki.core.errors import NotFoundError

        try:
            with self.uow() as uow:
                return uow.certificates.get(certificate_id).digest
        except NotFoundError:
            return None

    def roots(self) -> list[x509.Certificate]:
        """This registry's own root first (a standalone root lives next to its key)."""
        own = self.signing_material().root
        others = [r for r in trust_roots(self.settings) if r != own]
        return [own, *others]

    def verify(self, data: bytes) -> Verdict:
        return verify_pdf(data, self.roots(), self.lookup)
