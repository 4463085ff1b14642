"""The kiosk tests' one signing key and renderer (loading a key costs more than a test)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from juki.certificates.desk import PdfProducer
from juki.certificates.fonts import ipamj_coverage
from juki.certificates.kiosk.services import KioskProduction
from juki.certificates.signing import PdfCertificateSigner, load_signing_material
from juki.core.settings import Settings
from support.cert_population import INAGI, shared_renderer


@pytest.fixture(scope="session")
def production(tmp_path_factory: pytest.TempPathFactory) -> KioskProduction:
    """Renders and signs as 稲城市 with keys made once for the session."""
    keys = tmp_path_factory.mktemp("kiosk-keys")
    settings = Settings(keys_dir=str(keys), print_dir=str(keys), public_url="http://verify.test")
    material = load_signing_material(settings, INAGI.lg_code, datetime.now(UTC))
    producer = PdfProducer(shared_renderer(), PdfCertificateSigner(material))
    return KioskProduction(ipamj_coverage(), producer, settings.public_url)
