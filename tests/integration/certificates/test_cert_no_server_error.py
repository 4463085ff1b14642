"""No input to the counter terminal or the public verification listener gives a 500, on SQLite or
PostgreSQL (issue 10 §4).

Two hypothesis properties, against a populated 稲城市 with a certificate issued:

- the counter terminal (`juki.certificates.terminal`, as the registry app mounts it, with a CS
  that cannot reach any home municipality so the 広域交付 screens run as on a node): every
  screen, with any subset of its form fields and query parameters, each repeated or not and
  holding anything — NUL, noncharacters, lone surrogates' bytes, huge strings, dates out of
  range, real resident codes and certificate ids — with the right CSRF token, a wrong one or
  none, signed in, signed out or with cookies of junk. Every answer is a page or a redirect,
  and every 4xx is an HTML page;
- the public listener (`create_public_app`: status endpoint, verification API and page): any
  path, query string and upload — bytes, a real certificate PDF cut short or with bytes
  flipped, multipart forms of any shape — is answered below 500.

Both reach the database (sessions, the register, the oplog), so both run on both databases.
The apps raise instead of answering 500 here, so hypothesis shrinks the failing request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from juki.certificates.codes import verification_code
from juki.certificates.model import CertificateKind, CertificateRequest
from juki.certificates.ports import SuppliedContent, WideAreaAsk
from juki.certificates.ratelimit import RateLimiter
from juki.certificates.terminal.session import LOGIN_COOKIE, SESSION_COOKIE, TERMINAL_COOKIE
from juki.certificates.wide_area import WideAreaRefused
from juki.nodes.apps import create_public_app, create_registry_app
from juki.security.actors import Actor
from juki.security.operators import create_operator
from juki.security.permissions import Role
from juki.security.uow import SqlUnitOfWork
from support.cert_population import CLERK, CertEnv, cert_env
from support.no500 import ODD_STRINGS
from support.pgserver import DatabasePool
from support.terminal_session import session_secret

EXAMPLES = 40  # per property and database in CI; `make test-slow`: 600
SLOW_EXAMPLES = 600
NONCE = "n" * 32


class Unreachable:
    """A CS that reaches no home municipality: the 広域交付 screens run as on a node."""

    def fetch(self, ask: WideAreaAsk) -> SuppliedContent:
        raise WideAreaRefused(
            "from_lg_code",
            "home_unreachable",
            "the home municipality cannot be reached",
            "住所地市区町村に接続できません",
        )


@dataclass
class Counter:
    env: CertEnv
    terminal: TestClient
    public: TestClient
    token: str
    csrf: str
    routes: list[tuple[str, str, list[str], list[str], list[str]]]  # method, path, path/query/form
    pool: list[str]
    pdf: bytes


def terminal_routes(app: FastAPI) -> list[tuple[str, str, list[str], list[str], list[str]]]:
    """Every screen of the terminal with the names of its path, query and form parameters."""
    terminal = next(r.app for r in app.routes if getattr(r, "path", "") == "/terminal")
    out = []
    for route in terminal.routes:
        if not isinstance(route, APIRoute):
            continue
        names = {kind: sorted(_params(route.dependant, kind)) for kind in ("path", "query", "body")}
        for method in sorted(route.methods):
            out.append((method, route.path, names["path"], names["query"], names["body"]))
    return sorted(out)


def _params(dependant: Dependant, kind: str) -> set[str]:
    """The names of a route's `kind` parameters, its dependencies' included."""
    found = {p.name for p in getattr(dependant, f"{kind}_params")}
    for sub in dependant.dependencies:
        found |= _params(sub, kind)
    return found


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    ids=["sqlite", "postgres"],
)
def counter(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Counter]:
    tmp: Path = tmp_path_factory.mktemp("no500_counter")
    pool: DatabasePool | None = None
    if request.param == "postgres":
        pool = request.getfixturevalue("pg_pool")
        url = pool.take()
    else:
        url = f"sqlite:///{tmp}/registry.db"
    env = cert_env(url, tmp)
    people = env.people
    issued = env.desk.issue(
        CLERK, CertificateRequest(CertificateKind.RESIDENCE, people.head.resident_code)
    )
    token = create_operator(
        SqlUnitOfWork(env.engine, clock=env.reg.clock),
        Actor("admin", Role.OPERATIONS_MANAGER, "console"),
        "no500-supervisor",
        "検証 三郎",
        Role.REGISTRY_SUPERVISOR,
    )
    registry = create_registry_app(env.engine, clock=env.reg.clock, wide_area=Unreachable())
    registry.state.certificates.use(env.desk)
    public = create_public_app(
        env.engine, env.desk.settings, clock=env.reg.clock, limiter=RateLimiter(rate=1e9, burst=1e9)
    )
    next(
        r.app for r in public.routes if getattr(r, "path", "") == "/registry"
    ).state.certificates.use(env.desk)
    terminal = TestClient(registry)
    # the session's secret stands for the token from here on: the sign-in's two factors are
    # tested in tests/integration/security; this drives the screens behind it
    token = session_secret(env.engine, token, "T-fuzz", env.reg.clock)
    terminal.cookies.set(SESSION_COOKIE, token)
    terminal.cookies.set(TERMINAL_COOKIE, "T-fuzz")
    csrf = re.search(r'name="csrf" value="([^"]+)"', terminal.get("/terminal/").text)
    assert csrf
    records = [getattr(people, name) for name in vars(people)]
    strings = sorted(
        {r.resident_code for r in records}
        | {issued.certificate_id, issued.digest, verification_code(issued.digest)}
        | {"132250", "142051", "residence", "seal", "all", "chosen", "self", "third_party"}
    )
    try:
        yield Counter(
            env,
            terminal,
            TestClient(public),
            token,
            csrf.group(1),
            terminal_routes(registry),
            strings,
            issued.pdf,
        )
    finally:
        env.engine.dispose()
        if pool is not None:
            pool.give_back(url)


def texts(pool: list[str], *, huge: bool = True) -> st.SearchStrategy[str]:
    """Any string a field may be sent; `huge` ones (far past every field's limit) only where
    a client can send them: in a body, not in a URL (httpx refuses a URL past 64 KiB)."""
    big = ["x" * 5000, "山" * 3000] if huge else ["x" * 700]
    return st.one_of(
        st.sampled_from(pool),
        st.sampled_from(ODD_STRINGS),
        st.text(max_size=30),
        st.sampled_from([*big, "1", "0", "-1", "10", "99", "on", "true"]),
        st.dates().map(str),
    )


def encode(value: str) -> str:
    """Percent-encoded UTF-8, a lone surrogate as the bytes a browser could never send."""
    return quote(value.encode("utf-8", "surrogatepass"), safe="")


# -- the counter terminal ---------------------------------------------------------------------


@dataclass(frozen=True)
class Screen:
    method: str
    path: str
    query: list[tuple[str, str]]
    form: list[tuple[str, str]]
    who: str  # signed_in, anonymous, junk
    content_type: str


def screens(c: Counter) -> st.SearchStrategy[Screen]:
    in_body, in_url = texts(c.pool), texts(c.pool, huge=False)

    def fields(names: list[str], csrf: bool) -> st.SearchStrategy[list[tuple[str, str]]]:
        offered = [*names, "junk", "\x00"]
        values = in_body if csrf else in_url
        pairs = st.lists(st.tuples(st.sampled_from(offered), values), max_size=8)
        if not csrf:
            return pairs
        token = st.sampled_from([c.csrf, c.csrf, c.csrf, "", "0" * 64, c.csrf + "\x00"])
        sent = st.sampled_from([True, True, True, False])  # or no CSRF field at all
        return st.tuples(sent, token, pairs).map(lambda t: [("csrf", t[1])] * t[0] + t[2])

    @st.composite
    def screen(draw: st.DrawFn) -> Screen:
        method, path, path_names, query_names, form_names = draw(st.sampled_from(c.routes))
        for name in path_names:
            value = draw(st.one_of(st.sampled_from(c.pool), in_url))
            path = path.replace("{" + name + "}", encode(value))
        return Screen(
            method,
            path,
            draw(fields(query_names, csrf=False)),
            draw(fields(form_names, csrf=method == "POST")),
            draw(st.sampled_from(["signed_in", "signed_in", "signed_in", "anonymous", "junk"])),
            draw(
                st.sampled_from(
                    ["application/x-www-form-urlencoded"] * 4
                    + ["multipart/form-data; boundary=x", "text/plain", ""]
                )
            ),
        )

    return screen()


def cookies_for(c: Counter, who: str) -> str:
    if who == "signed_in":
        return f"{SESSION_COOKIE}={c.token}; {TERMINAL_COOKIE}=T-fuzz; {LOGIN_COOKIE}={NONCE}"
    if who == "junk":
        return f'{SESSION_COOKIE}={"x" * 900}; {TERMINAL_COOKIE}="a b"; {LOGIN_COOKIE}=%00'
    return f"{LOGIN_COOKIE}={NONCE}"


def visit(c: Counter, s: Screen) -> Any:
    query = "&".join(f"{encode(k)}={encode(v)}" for k, v in s.query)
    body = "&".join(f"{encode(k)}={encode(v)}" for k, v in s.form).encode("ascii")
    headers = {"Cookie": cookies_for(c, s.who)}
    if s.content_type:
        headers["Content-Type"] = s.content_type
    c.terminal.cookies.clear()
    url = f"/terminal{s.path}" + (f"?{query}" if query else "")
    return c.terminal.request(
        s.method,
        url,
        content=body if s.method == "POST" else None,
        headers=headers,
        follow_redirects=False,
    )


FORM = "application/x-www-form-urlencoded"
# What the property found, kept as examples it always tries first.
PINNED_SCREENS = (
    Screen("POST", "/certificates//spoiled", [], [], "signed_in", FORM),  # no screen: was JSON
    # hmac.compare_digest refuses non-ASCII str: a CSRF token or a sign-in nonce was a 500
    Screen("POST", "/logout", [], [("csrf", "山")], "signed_in", FORM),
    Screen(
        "POST",
        "/login",
        [],
        [("token", "t"), ("terminal", "T1"), ("nonce", "é")],
        "anonymous",
        FORM,
    ),
)


def drive_terminal(c: Counter, examples: int) -> None:
    @settings(max_examples=examples, suppress_health_check=list(HealthCheck), database=None)
    @given(s=screens(c))
    def run(s: Screen) -> None:
        response = visit(c, s)
        assert response.status_code < 500, response.text[:500]
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("text/html"), response.text[:300]

    for pinned in PINNED_SCREENS:
        run = example(s=pinned)(run)
    run()


def test_the_terminal_answers_any_form_with_a_page(counter: Counter) -> None:
    assert len(counter.routes) >= 15
    drive_terminal(counter, EXAMPLES)


@pytest.mark.slow
def test_the_terminal_answers_any_form_with_a_page_long_run(counter: Counter) -> None:
    drive_terminal(counter, SLOW_EXAMPLES)


# -- the public verification listener ---------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    method: str
    path: str
    query: list[tuple[str, str]]
    body: bytes
    content_type: str


def mutated(pdf: bytes) -> st.SearchStrategy[bytes]:
    """A real certificate, cut short, with bytes flipped, or with bytes of junk put in."""
    size = len(pdf)
    return st.one_of(
        st.just(pdf),
        st.integers(0, size).map(lambda n: pdf[:n]),
        st.lists(
            st.tuples(st.integers(0, size - 1), st.integers(0, 255)), min_size=1, max_size=8
        ).map(lambda flips: _flip(pdf, flips)),
        st.tuples(st.integers(0, size), st.binary(max_size=64)).map(
            lambda t: pdf[: t[0]] + t[1] + pdf[t[0] :]
        ),
    )


def _flip(pdf: bytes, flips: list[tuple[int, int]]) -> bytes:
    data = bytearray(pdf)
    for at, value in flips:
        data[at] = value
    return bytes(data)


def multipart(content: bytes, name: str = "file") -> bytes:
    return (
        b'--x\r\nContent-Disposition: form-data; name="'
        + name.encode("utf-8", "surrogatepass")
        + b'"; filename="c.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        + content
        + b"\r\n--x--\r\n"
    )


def asks(c: Counter) -> st.SearchStrategy[Ask]:
    values = texts(c.pool, huge=False)
    ids = st.one_of(st.sampled_from(c.pool), values)
    query = st.lists(
        st.tuples(st.sampled_from(["d", "digest", "code", "certificate_id", "x"]), values),
        max_size=4,
    )
    pdfs = st.one_of(mutated(c.pdf), st.binary(max_size=300))

    @st.composite
    def ask(draw: st.DrawFn) -> Ask:
        kind = draw(
            st.sampled_from(["status", "verification", "page", "check", "qr", "api_pdf", "pdf"])
        )
        cid = encode(draw(ids))
        if kind in ("status", "verification"):
            return Ask("GET", f"/registry/api/v1/certificates/{cid}/{kind}", draw(query), b"", "")
        if kind in ("page", "check"):
            path = "/registry/verify/" + ("check" if kind == "check" else "")
            return Ask("GET", path, draw(query), b"", "")
        if kind == "qr":
            return Ask("GET", f"/registry/verify/{cid}", draw(query), b"", "")
        content = draw(pdfs)
        if kind == "api_pdf":
            return Ask(
                "POST", "/registry/api/v1/certificates/verification", [], content, "application/pdf"
            )
        body = draw(
            st.one_of(
                st.just(multipart(content)),
                st.sampled_from(["file", "other", "\x00"]).map(lambda n: multipart(content, n)),
                st.just(content),
            )
        )
        ctype = draw(
            st.sampled_from(
                ["multipart/form-data; boundary=x", "multipart/form-data", "application/pdf", ""]
            )
        )
        return Ask("POST", "/registry/verify/pdf", [], body, ctype)

    return ask()


def drive_public(c: Counter, examples: int) -> None:
    @settings(max_examples=examples, suppress_health_check=list(HealthCheck), database=None)
    @given(a=asks(c))
    def run(a: Ask) -> None:
        query = "&".join(f"{encode(k)}={encode(v)}" for k, v in a.query)
        headers = {"Content-Type": a.content_type} if a.content_type else {}
        response = c.public.request(
            a.method,
            a.path + (f"?{query}" if query else ""),
            content=a.body if a.method == "POST" else None,
            headers=headers,
        )
        assert response.status_code < 500, response.text[:500]
        if a.path.startswith("/registry/api/"):
            json.loads(response.text)

    run()


def test_the_public_listener_answers_anything_below_500(counter: Counter) -> None:
    drive_public(counter, EXAMPLES)


@pytest.mark.slow
def test_the_public_listener_answers_anything_below_500_long_run(counter: Counter) -> None:
    drive_public(counter, SLOW_EXAMPLES)
