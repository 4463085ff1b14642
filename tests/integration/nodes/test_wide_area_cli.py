"""`juki cert issue --from-lg-code` over real HTTPS with mutual TLS, without extra processes.

A network directory from `juki network init`; 稲城市's node app served by uvicorn (TLS, client
certificates required) in a thread; the CLI bootstraps 藤沢市's node from its node.json and asks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from juki import cli
from juki.certificates import tables as certificate_tables
from juki.core.settings import Settings
from juki.nodes.apps import create_node_app
from juki.nodes.bootstrap import bootstrap, close_node
from juki.nodes.config import NetworkFiles, NodeConfig
from juki.nodes.netinit import free_ports, init_network
from juki.nodes.runner import node_server
from juki.registry.store.municipality import add_allotment
from juki.security.permissions import Role
from juki.storage.engine import make_engine
from support.cert_population import People, Registry, populate
from support.console_tokens import ConsoleTokens

A = "132250"
B = "142051"
# A counter clerk's command-line token at each municipality (support.console_tokens), made
# with the network; `run` adds the one of the node the command names.
CLERKS: dict[str, str] = {}


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[NetworkFiles, People]]:
    root = tmp_path_factory.mktemp("wide") / "net"
    init_network(root, layout="small", base_port=free_ports(29600, 1)[0])
    files = NetworkFiles(root.resolve())
    config = NodeConfig.load(files.node_file(A))
    engine = make_engine(config.db)
    with engine.begin() as conn:
        add_allotment(conn, 1322500000, 1322599999, "test")
    people = populate(Registry(engine))
    engine.dispose()
    for lg in (A, B):
        clerk_db = make_engine(NodeConfig.load(files.node_file(lg)).db)
        CLERKS[str(files.node_file(lg))] = ConsoleTokens(clerk_db).token(Role.COUNTER_CLERK)
        clerk_db.dispose()
    node = bootstrap(config)
    # served as `juki node run` serves it: the query's TLS identity is bound to its signer
    server = node_server(config, create_node_app(node, config, Settings()))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "A's node did not start"
        time.sleep(0.02)
    yield files, people
    server.should_exit = True
    thread.join(timeout=10)
    close_node(node)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    if "--node-config" in argv:
        token = CLERKS.get(argv[argv.index("--node-config") + 1])
        argv = [*argv, "--token", token] if token else argv
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def issue(files: NetworkFiles, code: str, out: Path, *extra: str) -> list[str]:
    return [
        "cert",
        "issue",
        "--resident-code",
        code,
        "--kind",
        "residence",
        "--from-lg-code",
        A,
        "--node-config",
        str(files.node_file(B)),
        "--out",
        str(out),
        *extra,
    ]


@pytest.fixture(autouse=True)
def keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUKI_KEYS_DIR", str(tmp_path / "keys"))
    for name in ("JUKI_ROOT_CERT", "JUKI_SIGNING_KEY", "JUKI_SIGNING_CERT", "JUKI_DB"):
        monkeypatch.delenv(name, raising=False)


def test_the_cli_issues_over_mutual_tls(
    network: tuple[NetworkFiles, People], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files, people = network
    out = tmp_path / "wide.pdf"
    code, stdout, err = run(issue(files, people.wife.resident_code, out), capsys)
    assert code == 0, err
    assert "広域交付" in stdout and "東京都稲城市" in stdout
    text = PdfReader(str(out)).pages[0].extract_text()
    assert "花子" in text and "本籍" not in text
    a_db = NodeConfig.load(files.node_file(A)).db
    engine = make_engine(a_db)
    try:
        with engine.connect() as conn:
            asked = conn.execute(sa.select(certificate_tables.wide_area_requests)).mappings().all()
    finally:
        engine.dispose()
    assert [(r["requesting_lg_code"], r["outcome"]) for r in asked][-1] == (B, "answered")


def test_the_cli_names_the_rule_when_refused(
    network: tuple[NetworkFiles, People], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files, people = network
    code, _out, err = run(issue(files, people.supported.resident_code, tmp_path / "x.pdf"), capsys)
    assert code == 1 and "[support_measure]" in err
    code, _out, err = run(
        issue(files, people.head.resident_code, tmp_path / "x.pdf", "--items", "honseki"), capsys
    )
    assert code == 1 and "[wide_area_honseki]" in err
    assert not (tmp_path / "x.pdf").exists()


def test_the_cli_needs_the_node_configuration(
    network: tuple[NetworkFiles, People], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files, people = network
    argv = issue(files, people.head.resident_code, tmp_path / "x.pdf")
    without = argv[: argv.index("--node-config")] + argv[argv.index("--node-config") + 2 :]
    code, _out, err = run(without, capsys)
    assert code == 1 and "node-config" in err
    national = [*argv[: argv.index("--node-config") + 1], str(files.node_file("national"))]
    national += argv[argv.index("--node-config") + 2 :]
    code, _out, err = run(national, capsys)
    assert code == 1 and "not a municipality" in err


def test_an_unreachable_home_is_refused(
    network: tuple[NetworkFiles, People], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files, people = network
    argv = issue(files, people.head.resident_code, tmp_path / "x.pdf")
    argv[argv.index(A)] = "202011"  # 長野市: its node is not running
    code, _out, err = run(argv, capsys)
    assert code == 1 and "[home_unreachable]" in err


def test_certificates_chain_to_the_network_root_at_the_counter_and_by_wide_area(
    network: tuple[NetworkFiles, People], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Signed with each municipality's network-issued key: they verify against the network
    root and against nothing else (a standalone root under JUKI_KEYS_DIR does not do)."""
    files, people = network
    wide = tmp_path / "wide.pdf"
    assert run(issue(files, people.wife.resident_code, wide), capsys)[0] == 0
    counter = tmp_path / "counter.pdf"
    argv = [
        "cert",
        "issue",
        "--node-config",
        str(files.node_file(A)),
        "--resident-code",
        people.head.resident_code,
        "--kind",
        "residence",
        "--out",
        str(counter),
    ]
    code, stdout, err = run(argv, capsys)
    assert code == 0, err
    root = str(files.root_certificate)
    for pdf, issuer in ((wide, B), (counter, A)):
        code, stdout, err = run(["cert", "verify", str(pdf), "--root", root, "--json"], capsys)
        assert code == 0, err
        assert issuer in stdout
        code, _out, err = run(["cert", "verify", str(pdf)], capsys)  # no network root trusted
        assert code == 1
    national = [*argv]
    national[national.index(str(files.node_file(A)))] = str(files.node_file("national"))
    code, _out, err = run(national, capsys)
    assert code == 1 and "signing key" in err
