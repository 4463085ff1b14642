"""The nodes' integration tests share the two towns of 広域交付 (`support.wide_area`).

The towns are built once per backend and worker (a network, its allotments, 稲城市's people
and their identity_info at every level: seconds of work); each test then runs on copies of
their databases, with every node started again from its copy. In the postgres variant the two
towns' databases (稲城市 A and 藤沢市 B, the registries and CSs 広域交付 is about) are on
PostgreSQL; 長野市, the prefectures and the national node stay on SQLite: a third copy of a
PostgreSQL database per test (CREATE DATABASE … TEMPLATE, most of a test's set-up) for a town
no wide-area test involves would buy nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from juki.nodes.memory import reopen_network
from support.cert_population import fixed_clock, make_desk
from support.db_copies import postgres_copy, sqlite_copy
from support.pgserver import PostgresServer
from support.wide_area import A, B, WideArea, build_two_towns

SEED = 11


class _Towns:
    """The two towns built once: SQLite files in `directory`, and on PostgreSQL (A and B)
    databases named `template_of(node_id)`."""

    def __init__(self, directory: Path, server: PostgresServer | None) -> None:
        self.directory = directory
        self.server = server
        self.built = build_two_towns(self.url, directory)
        self.built.net.dispose()

    def on_postgres(self, node_id: str) -> bool:
        return self.server is not None and node_id in (A, B)

    def template_of(self, node_id: str) -> str:
        return f"wide_template_{node_id}"

    def url(self, node_id: str) -> str:
        if self.on_postgres(node_id):
            assert self.server is not None
            return self.server.create_database(self.template_of(node_id))
        return f"sqlite:///{self.directory}/{node_id}.db"

    def copy(self, tmp_path: Path) -> tuple[Callable[[str], str], list[str]]:
        """Copies of every node's database for one test, and the PostgreSQL ones to drop."""
        urls: dict[str, str] = {}
        created: list[str] = []
        for node_id in self.built.net.nodes:
            if self.on_postgres(node_id):
                assert self.server is not None
                name, urls[node_id] = postgres_copy(self.server, self.template_of(node_id), "wide")
                created.append(name)
            else:
                urls[node_id] = sqlite_copy(self.directory / f"{node_id}.db", tmp_path)
        return urls.__getitem__, created


@pytest.fixture(scope="session")
def _two_towns() -> dict[str, _Towns]:
    return {}


@pytest.fixture
def wide(
    request: pytest.FixtureRequest,
    node_db_url: Callable[[str], str],
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    _two_towns: dict[str, _Towns],
) -> Iterator[WideArea]:
    backend = str(request.node.callspec.params["node_db_url"])
    server: PostgresServer | None = None
    if backend == "postgres":
        server = request.getfixturevalue("postgres_server")
    if backend not in _two_towns:
        _two_towns[backend] = _Towns(tmp_path_factory.mktemp(f"towns-{backend}"), server)
    towns = _two_towns[backend]
    urls, created = towns.copy(tmp_path)
    clock = fixed_clock()
    net = reopen_network(towns.built.net, urls, clock, SEED)
    desk = make_desk(net.municipality(B).engine, tmp_path, clock)
    yield WideArea(net, towns.built.people, desk)
    net.dispose()
    for name in created:
        assert server is not None
        server.drop_database(name)
