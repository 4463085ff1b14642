"""`juki network init` and `bootstrap`: what lands on disk, who can read it, and what refuses;
and `juki kiosk store add|withdraw|list` on the national node of the network made here (a store's
calls to the relay over HTTP stop when it is withdrawn)."""

from __future__ import annotations

import dataclasses
import json
import random
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography import x509
from fastapi.testclient import TestClient

from juki import cli
from juki.core.settings import Settings
from juki.network import tables as network_tables
from juki.network.directory import NodeKind
from juki.nodes import tables as node_tables
from juki.nodes.apps import create_node_app
from juki.nodes.bootstrap import bootstrap, close_node
from juki.nodes.config import DEFAULT_ALLOTMENT, ConfigError, NetworkFiles, NodeConfig
from juki.nodes.municipality import MunicipalityNode
from juki.nodes.national import NationalNode
from juki.nodes.netinit import free_ports, init_network
from juki.registry import tables as registry_tables
from juki.security.operators import token_sha256
from juki.security.permissions import Role
from juki.security.tables import oplog
from juki.storage.engine import make_engine
from support.console_tokens import ConsoleTokens
from support.kiosk_world import as_store


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> NetworkFiles:
    root = tmp_path_factory.mktemp("init") / "net"
    init_network(root, layout="small", base_port=free_ports(29400, 1)[0])
    return NetworkFiles(root.resolve())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secrets_are_private_and_the_root_key_is_only_with_the_national_node(
    network: NetworkFiles,
) -> None:
    root_keys = sorted(p.relative_to(network.root) for p in network.root.rglob("root-key.pem"))
    assert root_keys == [Path("national/root-key.pem")]
    assert mode(network.root) == 0o700
    for node_id in network.node_ids():
        home = network.root / node_id
        assert mode(home) == 0o700
        assert mode(home / "key.pem") == 0o600
        assert mode(home / "admin-token") == 0o600
        config = NodeConfig.load(home / "node.json")
        token = network.admin_token(node_id)
        assert config.admin_token_sha256 == token_sha256(token)
        assert token not in (home / "node.json").read_text()
    assert mode(network.root / "national" / "root-key.pem") == 0o600
    assert mode(network.console_key) == 0o600


def test_every_node_has_the_signed_directory_and_its_first_pool_of_codes(
    network: NetworkFiles,
) -> None:
    configs = network.configs()
    assert [c.node_id for c in configs] == [
        "national",
        "130001",
        "140007",
        "200000",
        "132250",
        "142051",
        "202011",
    ]
    assert len({c.port for c in configs}) == len(configs)
    for config in configs:
        node = bootstrap(config)
        try:
            # message ids, my_numbers and jitter from the OS's CSPRNG, never a seeded PRNG
            assert isinstance(node.rng, random.SystemRandom)
            directory = node.directory()
            assert directory.serial == 1
            assert directory.require(config.node_id).endpoint == config.endpoint
            if isinstance(node, NationalNode):
                assert node.root_key is not None
                with node.engine.connect() as conn:
                    queued = conn.execute(sa.select(network_tables.net_outbox)).all()
                    p = node_tables.code_pools.c
                    pools = {
                        r.lg_code: r.unused for r in conn.execute(sa.select(p.lg_code, p.unused))
                    }
                # init put each first pool straight into the registry (ADR 0006): none queued
                assert queued == []
                assert pools == {
                    c.node_id: DEFAULT_ALLOTMENT for c in configs if c.kind is NodeKind.MUNICIPALITY
                }
            elif isinstance(node, MunicipalityNode):
                with node.engine.connect() as conn:
                    codes = conn.execute(sa.select(registry_tables.code_pool.c.resident_code)).all()
                assert len(codes) == DEFAULT_ALLOTMENT
        finally:
            close_node(node)


def test_bootstrap_refuses_a_certificate_of_another_node(network: NetworkFiles) -> None:
    inagi = NodeConfig.load(network.node_file("132250"))
    fujisawa = NodeConfig.load(network.node_file("142051"))
    mixed = dataclasses.replace(inagi, certificate=fujisawa.certificate)
    with pytest.raises(ConfigError, match="names municipality 142051"):
        bootstrap(mixed)


def test_init_refuses_a_directory_in_use(network: NetworkFiles, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="already holds a network"):
        init_network(network.root, layout="small")
    (tmp_path / "something").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        init_network(tmp_path, layout="small")
    with pytest.raises(ConfigError, match="layout"):
        init_network(tmp_path / "new", layout="huge")


def test_a_national_configuration_without_the_root_key_is_refused(
    network: NetworkFiles, tmp_path: Path
) -> None:
    data = json.loads(network.node_file("national").read_text())
    data["root_key"] = None
    path = tmp_path / "node.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="root_key"):
        NodeConfig.load(path)
    assert NodeConfig.load(network.node_file("national")).kind is NodeKind.NATIONAL


def test_each_municipality_signs_certificates_with_a_network_issued_key(
    network: NetworkFiles,
) -> None:
    """The certificate desk of a node uses the key `init` issued under the network root (not a
    standalone root in whatever directory the node was started from), and it is a certificate
    issuer's key, distinct from the node's own network key."""
    from juki.certificates.signing import SIGNER_KIND, load_signing_material
    from juki.network import pki

    root = pki.cert_from_pem(network.root_certificate.read_bytes())
    municipalities = 0
    for node_id in network.node_ids():
        config = NodeConfig.load(network.node_file(node_id))
        if config.kind is not NodeKind.MUNICIPALITY:
            assert config.signing_key is None and config.signing_cert is None
            continue
        municipalities += 1
        assert config.signing_key is not None
        assert mode(Path(config.signing_key)) == 0o600
        settings = config.certificate_settings()
        material = load_signing_material(settings, node_id)
        assert material.mode == "configured"
        assert material.root == root
        named = pki.check_issued_by(material.cert, root, material.cert.not_valid_before_utc)
        assert (named.node_id, named.kind) == (node_id, SIGNER_KIND)
        node_cert = pki.cert_from_pem(Path(config.certificate).read_bytes())
        assert pki.public_key_of(node_cert) != pki.public_key_of(material.cert)
        assert Path(settings.print_dir).parent == config.directory
        # Certificates send their readers to the public listener, never the mutual-TLS door.
        assert config.public_port is not None and config.public_port != config.port
        assert settings.public_url == f"https://{config.host}:{config.public_port}/registry"
    assert municipalities == 3


def test_a_configured_public_url_is_what_certificates_print() -> None:
    """A municipality with its own web address for verification names it in node.json."""
    config = NodeConfig.from_json(
        {
            "node_id": "132250",
            "kind": "municipality",
            "name": "稲城市",
            "parent": "130001",
            "host": "127.0.0.1",
            "port": 8401,
            "db": "sqlite://",
            "key": "/n/key.pem",
            "certificate": "/n/cert.pem",
            "root_certificate": "/root.pem",
            "admin_token_sha256": "0" * 64,
            "directory_url": "https://127.0.0.1:8400",
            "log": "/n/node.log",
            "public_port": 8443,
            "public_url": "https://www.city.inagi.tokyo.jp/juki/",
        }
    )
    assert config.certificate_settings().public_url == "https://www.city.inagi.tokyo.jp/juki"
    unset = NodeConfig.from_json({**config.to_json(), "public_url": ""})
    assert unset.certificate_settings().public_url == "https://127.0.0.1:8443/registry"


def test_a_national_operator_adds_lists_and_withdraws_a_store_and_its_calls_stop(
    network: NetworkFiles, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`juki kiosk store …` (juki.nodes.kiosk_store_cli) on this network's national node."""
    root = network.root
    config = NodeConfig.load(network.node_file("national"))
    engine = make_engine(config.db)
    tokens = ConsoleTokens(engine)
    operator, auditor = tokens.token(Role.NATIONAL_OPERATOR), tokens.token(Role.AUDITOR)
    engine.dispose()
    out = tmp_path / "store"
    base = ["kiosk", "store"]
    add = [*base, "add", "--dir", str(root), "--company", "試験商事株式会社", "--out", str(out)]

    def run(*argv: str) -> tuple[int, str, str]:
        code = cli.main(list(argv))
        got = capsys.readouterr()
        return code, got.out, got.err

    code, _, err = run(*add, "--store-id", "S-01", "--token", auditor)
    assert code == 1 and "権限がありません" in err and not out.exists()
    code, _, err = run(*add, "--store-id", "店舗1", "--token", operator)
    assert code == 1 and err.startswith("store_id:") and "店舗ID" in err
    code, printed, _ = run(*add, "--store-id", "S-01", "--token", operator)
    assert code == 0 and json.loads(printed)["store_id"] == "S-01"
    assert stat.S_IMODE((out / "S-01.key").stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate((out / "S-01.pem").read_bytes())
    code, printed, _ = run(*base, "list", "--dir", str(root), "--json", "--token", operator)
    assert [(s["store_id"], s["status"]) for s in json.loads(printed)] == [("S-01", "active")]

    node = bootstrap(config)
    try:
        app = create_node_app(node, config, Settings())
        as_store(app, cert)
        with TestClient(app) as client:
            assert client.post("/kiosk/v1/challenge").status_code == 200
            withdraw = [*base, "withdraw", "--dir", str(root), "--store-id", "S-01"]
            assert run(*withdraw, "--token", operator)[0] == 0
            refused = client.post("/kiosk/v1/challenge")
            assert refused.status_code == 401
            assert refused.json()["type"] == "store_not_registered"
            code, _, err = run(*withdraw, "--token", operator)
            assert code == 1 and "利用中の店舗として登録されていません" in err
        o = oplog.c
        with node.engine.connect() as conn:
            rows = conn.execute(
                sa.select(o.action, o.outcome, o.role).where(o.target.like("store:%"))
            ).all()
    finally:
        close_node(node)
    assert [tuple(r) for r in rows] == [
        ("register_kiosk_store", "denied", "auditor"),
        ("register_kiosk_store", "ok", "national_operator"),
        ("kiosk_challenge", "ok", "kiosk_store"),
        ("withdraw_kiosk_store", "ok", "national_operator"),
        ("kiosk POST /kiosk/v1/challenge", "rejected", "kiosk_store"),
        ("withdraw_kiosk_store", "rejected", "national_operator"),
    ]


def test_only_the_nodes_that_provide_may_name_a_standby(network: NetworkFiles) -> None:
    for config in network.configs():
        data = {**config.to_json(), "standby_db": "postgresql://juki@127.0.0.1/standby"}
        if config.kind in (NodeKind.NATIONAL, NodeKind.PREFECTURE):
            assert NodeConfig.from_json(data).standby_db.endswith("/standby")
        else:
            with pytest.raises(ConfigError, match="standby_db: only the national node"):
                NodeConfig.from_json(data)
