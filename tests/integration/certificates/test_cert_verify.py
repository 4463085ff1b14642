"""Verification: any changed byte, a key the root does not certify, a void or unknown certificate
all fail — offline, against the registry database, and online through the public API."""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from juki import cli
from juki.certificates import services
from juki.certificates.model import CertificateKind, CertificateRequest
from juki.certificates.services import PreparedCertificate
from juki.certificates.signing import (
    ROOT_KEY_FILE,
    SIGNER_KIND,
    PdfCertificateSigner,
    SigningMaterial,
)
from juki.certificates.verify import Verdict, verify_pdf
from juki.network import pki
from support.cert_population import (
    CLERK,
    SUPERVISOR,
    CertEnv,
    LiveServer,
    cert_env,
    registry_app,
)

NOW = datetime.now(UTC)


@pytest.fixture(scope="module")
def issued(shared_env: CertEnv) -> Any:
    return shared_env.desk.issue(
        CLERK, CertificateRequest(CertificateKind.RESIDENCE, shared_env.people.head.resident_code)
    )


def check(env: CertEnv, data: bytes, *, online: bool = True) -> Verdict:
    return verify_pdf(data, env.desk.roots(), env.desk.lookup if online else None)


def test_genuine_certificate_verifies(shared_env: CertEnv, issued: Any) -> None:
    offline = check(shared_env, issued.pdf, online=False)
    assert offline.ok and offline.status == "not_checked"
    online = check(shared_env, issued.pdf)
    assert online.ok and online.status == "valid"
    assert online.certificate_id == issued.certificate_id and online.digest == issued.digest
    assert online.issuer_lg_code == "132250" and online.names == issued.content.names
    assert "132250" in (online.signer or "")


def _signature_region(pdf: bytes) -> tuple[int, int]:
    start = pdf.index(b"/Contents <") + len(b"/Contents <")
    return start, pdf.index(b">", start)


def test_flipping_any_byte_fails(shared_env: CertEnv, issued: Any) -> None:
    pdf: bytes = issued.pdf
    rng = random.Random(20250401)
    start, end = _signature_region(pdf)
    positions = set(rng.sample(range(len(pdf)), 80))
    # and where a lenient check would miss it: the signature's hex string, its zero padding,
    # its delimiters, the byte range, the trailer and the very last byte
    positions |= {start - 1, start, start + 1, end - 1, end, end + 1, end - 2, len(pdf) - 1}
    positions |= set(rng.sample(range(start, end), 15))
    positions |= set(range(end - 400, end, 67))
    byte_range = pdf.index(b"/ByteRange")
    positions |= set(range(byte_range, byte_range + 40, 3))
    trailer = pdf.rindex(b"startxref")
    positions |= set(range(trailer, len(pdf)))
    reasons: dict[str, int] = {}
    for pos in sorted(positions):
        for flip in {rng.randrange(1, 256), 0x01}:
            changed = bytearray(pdf)
            changed[pos] ^= flip
            verdict = check(shared_env, bytes(changed), online=False)
            assert not verdict.ok, f"byte {pos} ^ {flip:#x} went unnoticed"
            reasons[verdict.reason or ""] = reasons.get(verdict.reason or "", 0) + 1
    assert {"tampered", "signature_invalid", "unreadable"} <= set(reasons)


def test_hex_case_change_inside_the_signature_fails(shared_env: CertEnv, issued: Any) -> None:
    pdf: bytes = issued.pdf
    start, _ = _signature_region(pdf)
    pos = next(i for i in range(start, start + 200) if pdf[i : i + 1] in b"ABCDEF")
    changed = bytearray(pdf)
    changed[pos] = ord(chr(pdf[pos]).lower())  # the same bytes to a lenient hex decoder
    verdict = check(shared_env, bytes(changed), online=False)
    assert not verdict.ok and verdict.reason == "tampered"


def test_appended_or_truncated_files_fail(shared_env: CertEnv, issued: Any) -> None:
    for data in (issued.pdf + b"\n%extra", issued.pdf[:-10], issued.pdf[: len(issued.pdf) // 2]):
        assert not check(shared_env, data, online=False).ok
    assert check(shared_env, b"hello", online=False).reason == "not_pdf"
    assert check(shared_env, b"%PDF-" + b"0" * (9 * 1024 * 1024), online=False).reason == (
        "too_large"
    )


def _prepared(env: CertEnv) -> PreparedCertificate:
    return services.prepare_certificate(
        env.desk.uow(),
        CLERK,
        CertificateRequest(CertificateKind.RESIDENCE, env.people.wife.resident_code),
        coverage=env.desk.coverage,
        verify_base_url="http://verify.test",
    )


def _sign_with(env: CertEnv, prepared: PreparedCertificate, material: SigningMaterial) -> bytes:
    """Render the prepared certificate and sign it with `material`, whoever that names."""
    unsigned = env.desk.producer().renderer.render(
        prepared.content,
        prepared.issuance,
        prepared.digest,
        municipality_name=prepared.municipality_name,
    )
    return PdfCertificateSigner(material).sign(unsigned, reason="test", location="test")


def test_a_key_the_root_does_not_certify_fails(shared_env: CertEnv) -> None:
    prepared = _prepared(shared_env)
    other_root_key, other_root = pki.create_root(NOW, name="juki standalone root 132250")
    key = pki.generate_key()
    cert = pki.issue_certificate(
        other_root_key,
        other_root,
        node_id="132250",
        kind=SIGNER_KIND,
        public_key=key.public_key(),
        now=NOW,
    )
    forged = _sign_with(shared_env, prepared, SigningMaterial(key, cert, other_root, "test"))
    verdict = check(shared_env, forged, online=False)
    assert not verdict.ok and verdict.reason == "untrusted_signer"
    # … though a verifier who trusted that other root would accept it
    assert verify_pdf(forged, [other_root]).ok


def _root_key(env: CertEnv) -> Any:
    path = Path(env.desk.settings.keys_dir) / "132250" / ROOT_KEY_FILE
    return pki.key_from_pem(path.read_bytes())


@pytest.mark.parametrize(("node", "kind"), [("132250", "municipality"), ("142051", SIGNER_KIND)])
def test_a_certified_key_of_the_wrong_kind_or_municipality_fails(
    shared_env: CertEnv, node: str, kind: str
) -> None:
    root = shared_env.desk.signing_material().root
    key = pki.generate_key()
    cert = pki.issue_certificate(
        _root_key(shared_env), root, node_id=node, kind=kind, public_key=key.public_key(), now=NOW
    )
    pdf = _sign_with(shared_env, _prepared(shared_env), SigningMaterial(key, cert, root, "test"))
    verdict = check(shared_env, pdf, online=False)
    assert not verdict.ok and verdict.reason == "wrong_signer"


def test_another_validly_signed_file_for_the_same_certificate_is_not_this_file(
    shared_env: CertEnv,
) -> None:
    prepared = _prepared(shared_env)  # recorded, but never printed by the desk
    first = shared_env.desk.producer().produce(prepared)
    with shared_env.desk.uow() as uow:
        import dataclasses

        record = uow.certificates.get(prepared.record.certificate_id)
        uow.certificates.save(dataclasses.replace(record, pdf_sha256=first.sha256))
        uow.commit()
    second = shared_env.desk.producer().produce(prepared)  # same content, signed again
    assert check(shared_env, first.pdf).ok
    verdict = check(shared_env, second.pdf)
    assert not verdict.ok and verdict.reason == "not_this_file"


def test_voided_and_unknown_certificates_fail_online(shared_env: CertEnv, tmp_path: Path) -> None:
    result = shared_env.desk.issue(
        CLERK, CertificateRequest(CertificateKind.RESIDENCE, shared_env.people.head.resident_code)
    )
    services.void_certificate(shared_env.desk.uow(), SUPERVISOR, result.certificate_id, "誤交付")
    offline = check(shared_env, result.pdf, online=False)
    assert offline.ok  # the file itself is intact: only the registry knows it is void
    verdict = check(shared_env, result.pdf)
    assert not verdict.ok and verdict.reason == "voided" and verdict.status == "void"
    elsewhere = cert_env(f"sqlite:///{tmp_path}/other.db", tmp_path)
    try:
        verdict = verify_pdf(result.pdf, shared_env.desk.roots(), elsewhere.desk.lookup)
        assert not verdict.ok and verdict.reason == "unknown_certificate"
    finally:
        elsewhere.engine.dispose()


# -- juki cert verify ---------------------------------------------------------------------------


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def keys_env(shared_env: CertEnv, monkeypatch: pytest.MonkeyPatch) -> CertEnv:
    """`juki cert verify` finds the standalone root where the registry keeps it."""
    monkeypatch.setenv("JUKI_KEYS_DIR", shared_env.desk.settings.keys_dir)
    monkeypatch.delenv("JUKI_ROOT_CERT", raising=False)
    return shared_env


def test_cli_verify_exit_codes(
    keys_env: CertEnv, issued: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.pdf"
    good.write_bytes(issued.pdf)
    code, out, _ = run_cli(["cert", "verify", str(good)], capsys)
    assert code == 0 and "VALID" in out and issued.certificate_id in out
    assert "status not checked" in out
    db = str(keys_env.engine.url)
    code, out, _ = run_cli(["cert", "verify", str(good), "--json", "--db", db], capsys)
    assert code == 0
    verdict = json.loads(out)
    assert verdict["ok"] and verdict["status"] == "valid" and verdict["names"]
    bad = tmp_path / "bad.pdf"
    changed = bytearray(issued.pdf)
    changed[len(changed) // 3] ^= 0x40
    bad.write_bytes(bytes(changed))
    code, out, _ = run_cli(["cert", "verify", str(bad)], capsys)
    assert code == 1 and "NOT VALID" in out
    code, _, err = run_cli(["cert", "verify", str(tmp_path / "missing.pdf")], capsys)
    assert code == 1 and "cannot read" in err
    _, other_root = pki.create_root(NOW)
    root_file = tmp_path / "other-root.pem"
    root_file.write_bytes(pki.cert_to_pem(other_root))
    code, out, _ = run_cli(["cert", "verify", str(good), "--root", str(root_file)], capsys)
    assert code == 1 and "untrusted_signer" in out


def test_cli_verify_online_sees_voiding(
    keys_env: CertEnv, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = keys_env.desk.issue(
        CLERK, CertificateRequest(CertificateKind.RESIDENCE, keys_env.people.wife.resident_code)
    )
    path = tmp_path / "c.pdf"
    path.write_bytes(result.pdf)
    with LiveServer(registry_app(keys_env)) as server:
        code, out, _ = run_cli(["cert", "verify", str(path), "--url", server.url], capsys)
        assert code == 0 and "status:         valid" in out
        services.void_certificate(keys_env.desk.uow(), SUPERVISOR, result.certificate_id, "回収")
        code, out, _ = run_cli(["cert", "verify", str(path), "--url", server.url, "--json"], capsys)
        assert code == 1 and json.loads(out)["reason"] == "voided"
    code, out, _ = run_cli(["cert", "verify", str(path), "--url", "http://127.0.0.1:9"], capsys)
    assert code == 1 and "status_unavailable" in out


def test_pdf_text_is_still_readable_after_signing(issued: Any) -> None:
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(issued.pdf)).pages[0].extract_text()
    assert issued.issue_numbers[0] in text
