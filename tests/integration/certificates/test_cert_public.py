"""Public verification wherever it is mounted: the status endpoint, the 照合番号, rate limits and
caps, offline API docs, and the terminal and verification page under a node's `/registry`."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from juki import cli
from juki.certificates import services
from juki.certificates.codes import verification_code
from juki.certificates.model import CertificateKind, CertificateRequest
from juki.certificates.ratelimit import RateLimiter
from juki.certificates.verify import MAX_PAGES, MAX_PDF_BYTES, verify_pdf
from juki.core.clock import SystemClock
from juki.nodes.apps import create_public_app, create_registry_app
from juki.registry.model import Relationship
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.cert_population import CLERK, MANAGER, SUPERVISOR, CertEnv, LiveServer, person
from support.terminal_session import open_session

HOME_ELSEWHERE = "東京都稲城市東長沼2111番地"

API = "/api/v1/certificates"


class Ticks:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def on_node(env: CertEnv, limiter: RateLimiter | None = None) -> FastAPI:
    """The registry app mounted under `/registry`, as a municipality node mounts it."""
    registry = create_registry_app(env.engine, clock=env.reg.clock, limiter=limiter)
    registry.state.certificates.use(env.desk)
    node = FastAPI()
    node.mount("/registry", registry)
    return node


@pytest.fixture
def node(env: CertEnv) -> Iterator[TestClient]:
    with TestClient(on_node(env), base_url="https://testserver") as c:
        yield c


@pytest.fixture(scope="module")
def read_node(read_env: CertEnv) -> Iterator[TestClient]:
    """The mounted app on the module's shared registry (read_env), for tests that only read."""
    with TestClient(on_node(read_env), base_url="https://testserver") as c:
        yield c


@pytest.fixture
def issued(env: CertEnv) -> Any:
    return env.desk.issue(
        CLERK, CertificateRequest(CertificateKind.RESIDENCE, env.people.head.resident_code)
    )


# -- the status endpoint ------------------------------------------------------------------------


def test_status_endpoint_says_valid_voided_or_unknown_and_nothing_else(
    node: TestClient, env: CertEnv, issued: Any
) -> None:
    url = f"/registry{API}/{issued.certificate_id}/status"
    valid = node.get(url, params={"digest": issued.digest})
    assert valid.status_code == 200 and valid.json() == {"status": "valid"}
    by_code = node.get(url, params={"code": verification_code(issued.digest).lower()})
    assert by_code.json() == {"status": "valid"}
    assert node.get(url, params={"digest": "0" * 64}).json() == {"status": "unknown"}
    assert node.get(url, params={"code": "0000-0000-0000-0000"}).json() == {"status": "unknown"}
    assert node.get(url).json() == {"status": "unknown"}
    other = f"/registry{API}/00000000-0000-0000-0000-000000000000/status"
    assert node.get(other, params={"digest": issued.digest}).json() == {"status": "unknown"}
    services.void_certificate(env.desk.uow(), SUPERVISOR, issued.certificate_id, "回収")
    assert node.get(url, params={"digest": issued.digest}).json() == {"status": "voided"}
    malformed = node.get(url, params={"digest": "xyz"})
    assert malformed.status_code == 422


def test_cert_verify_url_reads_the_public_status_endpoint(
    env: CertEnv, issued: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JUKI_KEYS_DIR", env.desk.settings.keys_dir)
    for name in ("JUKI_ROOT_CERT", "JUKI_SIGNING_KEY", "JUKI_SIGNING_CERT"):
        monkeypatch.delenv(name, raising=False)
    pdf = env.tmp / "c.pdf"
    pdf.write_bytes(issued.pdf)
    with LiveServer(on_node(env)) as server:
        url = f"{server.url}/registry"
        assert cli.main(["cert", "verify", str(pdf), "--url", url, "--json"]) == 0
        assert '"status": "valid"' in capsys.readouterr().out
        services.void_certificate(env.desk.uow(), SUPERVISOR, issued.certificate_id, "回収")
        assert cli.main(["cert", "verify", str(pdf), "--url", url, "--json"]) == 1
        assert '"reason": "voided"' in capsys.readouterr().out
        assert cli.main(["cert", "verify", str(pdf), "--url", f"{server.url}/nowhere"]) == 1
        assert "status_unavailable" in capsys.readouterr().out


# -- the 照合番号 on the page --------------------------------------------------------------------


def test_page_takes_the_code_with_or_without_separators_and_in_full_width(
    read_node: TestClient, read_issued: Any
) -> None:
    code = verification_code(read_issued.digest)
    plain = code.replace("-", "")
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in plain)
    for typed in (code, plain, plain.lower(), full_width, " ".join(code.split("-"))):
        page = read_node.get(
            "/registry/verify/check",
            params={"certificate_id": read_issued.certificate_id, "d": typed},
        )
        assert page.status_code == 200, typed
        assert "発行元の記録と一致し、有効です" in page.text
    wrong = read_node.get(
        "/registry/verify/check",
        params={"certificate_id": read_issued.certificate_id, "d": "0000-0000-0000-0000"},
    )
    assert wrong.status_code == 404 and "発行されていません" in wrong.text
    qr = read_node.get(
        f"/registry/verify/{read_issued.certificate_id}", params={"d": read_issued.digest}
    )
    assert qr.status_code == 200 and "有効です" in qr.text


def test_verification_page_follows_its_mount(read_node: TestClient, read_issued: Any) -> None:
    form = read_node.get("/registry/verify/")
    assert 'action="/registry/verify/check"' in form.text
    assert 'action="/registry/verify/pdf"' in form.text
    assert 'href="/verify' not in form.text and 'action="/verify' not in form.text
    status = read_node.get(
        f"/registry/verify/{read_issued.certificate_id}", params={"d": read_issued.digest}
    )
    assert 'href="/registry/verify/"' in status.text
    assert re.search(r"令和\d+年\d+月\d+日 \d+時\d\d分", status.text)  # issued at, in the era


def test_printed_certificate_carries_the_short_code(read_env: CertEnv, read_issued: Any) -> None:
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(read_issued.pdf)).pages)
    assert verification_code(read_issued.digest) in text
    assert read_issued.digest not in text


# -- limits ---------------------------------------------------------------------------------------


def test_each_client_is_rate_limited_with_retry_after(read_env: CertEnv, read_issued: Any) -> None:
    ticks = Ticks()
    limiter = RateLimiter(rate=0.5, burst=3, clock=ticks)
    url = f"/registry{API}/{read_issued.certificate_id}/status"
    with TestClient(on_node(read_env, limiter), base_url="https://testserver") as client:
        for _ in range(3):
            assert client.get(url, params={"digest": read_issued.digest}).status_code == 200
        refused = client.get(url, params={"digest": read_issued.digest})
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "2"  # one token at 0.5 a second
        assert refused.json()["type"] == "rate_limited" and refused.json()["msg_ja"]
        page = client.get("/registry/verify/check", params={"certificate_id": "x", "d": "y"})
        assert page.status_code == 429 and "秒後にもう一度" in page.text
        assert page.headers["Retry-After"] == "2"
        ticks.now += 2
        assert client.get(url, params={"digest": read_issued.digest}).status_code == 200
        assert client.get(url, params={"digest": read_issued.digest}).status_code == 429
    # Another address has its own bucket.
    assert limiter.take("192.0.2.7") == 0


def test_rate_limiter_refills_and_prices_a_pdf_higher() -> None:
    ticks = Ticks()
    limiter = RateLimiter(rate=1, burst=5, clock=ticks)
    assert limiter.take("a", 3) == 0
    assert limiter.take("a", 3) == 1.0  # two tokens left, one more second for three
    ticks.now += 1
    assert limiter.take("a", 3) == 0
    assert limiter.take("b", 5) == 0
    small = RateLimiter(rate=1, burst=2, clock=ticks, max_clients=2)
    for client in ("x", "y", "z"):
        small.take(client, 2)
    assert small.take("x", 2) == 0  # x was forgotten (oldest), so it starts with a full bucket


def test_oversized_uploads_are_refused_before_parsing(read_node: TestClient) -> None:
    big = b"%PDF-" + b"0" * (MAX_PDF_BYTES + 1)
    page = read_node.post("/registry/verify/pdf", files={"file": ("c.pdf", big, "application/pdf")})
    assert page.status_code == 413 and "ファイルが大きすぎます" in page.text
    api = read_node.post(f"/registry{API}/verification", content=big)
    assert api.status_code == 413 and api.json()["type"] == "too_large"
    empty = read_node.post("/registry/verify/pdf", data={"other": "x"})
    assert empty.status_code == 422


def test_a_pdf_with_more_pages_than_any_certificate_is_refused(read_env: CertEnv) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(MAX_PAGES + 1):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    verdict = verify_pdf(out.getvalue(), read_env.desk.roots())
    assert verdict.reason == "too_complex" and "pages" in verdict.detail


def test_a_pdf_with_more_revisions_than_a_certificate_is_refused(
    read_env: CertEnv, read_issued: Any
) -> None:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(read_issued.pdf))
    writer.update_root()  # a third revision, changing nothing
    out = io.BytesIO()
    writer.write(out)
    verdict = verify_pdf(out.getvalue(), read_env.desk.roots())
    assert verdict.reason == "too_complex" and "revisions" in verdict.detail


# -- the public listener's app ---------------------------------------------------------------


def test_public_app_serves_verification_alone(read_env: CertEnv, read_issued: Any) -> None:
    app = create_public_app(read_env.engine, read_env.desk.settings, clock=read_env.reg.clock)
    app.routes[0].app.state.certificates.use(read_env.desk)  # type: ignore[attr-defined]
    with TestClient(app, base_url="https://testserver") as client:
        status = client.get(
            f"/registry{API}/{read_issued.certificate_id}/status",
            params={"digest": read_issued.digest},
        )
        assert status.json() == {"status": "valid"}
        assert client.get("/registry/verify/").status_code == 200
        for closed in ("/registry/terminal/login", "/registry/api/v1/stats", "/registry/docs"):
            assert client.get(closed).status_code == 404, closed
        assert client.get(f"/registry{API}/wide-area/requests").status_code in (404, 405)


# -- API docs offline ---------------------------------------------------------------------------


def test_api_docs_are_served_by_juki_under_the_mount(read_node: TestClient) -> None:
    docs = read_node.get("/registry/docs")
    assert docs.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets and all(a.startswith("/registry/docs-assets/") for a in assets), assets
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text
    for asset in assets:
        assert read_node.get(asset).status_code == 200, asset
    assert "'/registry/openapi.json'" in docs.text or '"/registry/openapi.json"' in docs.text
    assert read_node.get("/registry/openapi.json").status_code == 200


def same_name_household(env: CertEnv) -> tuple[Any, Any, Any]:
    """A householder living with his father and his son, both named 中村　健."""
    head = env.reg.move_in(
        person("中村", "誠", "ナカムラ", "マコト", date(1975, 6, 1)), address=HOME_ELSEWHERE
    )
    father = env.reg.move_in(
        person("中村", "健", "ナカムラ", "ケン", date(1948, 2, 11)),
        join=(head.household_id, Relationship.FATHER),
        address=HOME_ELSEWHERE,
    )
    son = env.reg.move_in(
        person("中村", "健", "ナカムラ", "ケン", date(2001, 4, 2)),
        join=(head.household_id, Relationship.CHILD),
        address=HOME_ELSEWHERE,
    )
    return head, father, son


# -- the counter terminal under /registry ---------------------------------------------------


def _sign_in(client: TestClient, env: CertEnv, role: Role = Role.COUNTER_CLERK) -> str:
    token = create_operator(
        SqlUnitOfWork(env.engine), MANAGER, f"op-{role.value}", "窓口 花子", role
    )
    open_session(client, env.engine, token, "T-01", base="/registry/terminal", clock=SystemClock())
    return "/registry/terminal/"


def test_terminal_links_redirects_and_cookies_follow_the_mount(
    node: TestClient, env: CertEnv
) -> None:
    assert node.get("/registry/terminal/", follow_redirects=False).headers["location"] == (
        "/registry/terminal/login"
    )
    form = node.get("/registry/terminal/login")
    assert "Path=/registry/terminal" in form.headers["set-cookie"]
    assert 'action="/registry/terminal/login"' in form.text
    assert _sign_in(node, env) == "/registry/terminal/"
    home = node.get("/registry/terminal/")
    hrefs = re.findall(r'(?:href|action)="([^"#]+)"', home.text)
    assert hrefs and all(h.startswith("/registry/terminal/") for h in hrefs), hrefs
    head = env.people.head
    search = node.get("/registry/terminal/residents", params={"code": head.resident_code})
    assert re.search(r"<td>(昭和|平成|令和|大正)(元|\d+)年\d+月\d+日</td>", search.text)
    csrf = re.search(r'name="csrf" value="([^"]+)"', home.text)
    assert csrf is not None
    issued = node.post(
        "/registry/terminal/certificates",
        data={
            "csrf": csrf.group(1),
            "resident_code": head.resident_code,
            "kind": "residence",
            "members": head.resident_code,
            "copies": "1",
            "requester": "self",
        },
        follow_redirects=False,
    )
    assert issued.status_code == 303
    assert issued.headers["location"].startswith("/registry/terminal/certificates/")
    result = node.get(issued.headers["location"])
    assert re.search(r"<td>令和\d+年\d+月\d+日 \d+時\d\d分</td>", result.text)
    out = node.post(
        "/registry/terminal/logout", data={"csrf": csrf.group(1)}, follow_redirects=False
    )
    assert out.headers["location"] == "/registry/terminal/login"
    assert "Path=/registry/terminal" in out.headers["set-cookie"]


def test_confirm_screen_tells_apart_members_with_the_same_name(
    node: TestClient, env: CertEnv
) -> None:
    head, twin_a, twin_b = same_name_household(env)
    _sign_in(node, env)
    home = node.get("/registry/terminal/")
    csrf = re.search(r'name="csrf" value="([^"]+)"', home.text)
    assert csrf is not None
    confirm = node.post(
        "/registry/terminal/certificates/confirm",
        data={
            "csrf": csrf.group(1),
            "resident_code": head.resident_code,
            "kind": "residence",
            "members": [twin_a.resident_code, twin_b.resident_code],
            "copies": "1",
            "requester": "self",
        },
    )
    assert confirm.status_code == 200
    persons = confirm.text[confirm.text.index('id="persons"') :]
    persons = persons[: persons.index("</ul>")]
    lines = re.findall(r"<li>(.*?)</li>", persons)
    assert len(lines) == 2 and lines[0] != lines[1]
    for twin, line in zip((twin_a, twin_b), lines, strict=True):
        assert twin.full_name in line
        assert twin.resident_code[-4:] in line
        assert twin.relationship.label_ja in line
    assert "同じ氏名の方がいます" in confirm.text
