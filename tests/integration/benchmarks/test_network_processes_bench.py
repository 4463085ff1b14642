"""`python -m bench network --processes` runs end to end on a tiny backlog: three node processes
started, every phase and every node's CPU printed beside the raw limit, and nothing left behind
(processes, files), on failure too. No timing is asserted: the figures are the benchmark's."""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path

import pytest
from bench import network_processes
from bench.common import Backend

from support.pgserver import PostgresServer

BACKLOG = 200
PHASES = ("queued at the CS while away", "backlog after 離脱 drained", "seeded while connected")
NUMBER = r"[\d,.]+"


def _processes_under(root: Path) -> list[str]:
    """Command lines of running processes that name a file under `root` (a node's config)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if str(root).encode() in cmdline:
            found.append(cmdline.replace(b"\0", b" ").decode(errors="replace"))
    return found


def _check_printed(text: str, backend: str) -> None:
    for phase in PHASES:
        row = rf"{backend} +{phase} \({BACKLOG:,}\) +{NUMBER} +{NUMBER} +{NUMBER}%"
        assert re.search(row, text), text
        cpu = rf"{backend} +{phase} +{NUMBER}" + rf" +{NUMBER} \(\d+%\)" * 4
        assert re.search(cpu, text), text
    assert len(re.findall(r" alone: count ÷ its CPU s", text)) == len(PHASES), text
    ceiling = rf" all on \d+ cores, none idle: count × \d+ ÷ their CPU s +{NUMBER}"
    assert len(re.findall(ceiling, text)) == len(PHASES), text
    # beside executemany, the rows a level must write for a change: each rate shows two ratios
    assert re.search(rf"{backend} +raw: a level's writes \(one node\) +{NUMBER}", text), text
    assert re.search(rf"drained \({BACKLOG:,}\) .* {NUMBER}% / {NUMBER}%", text), text
    for node in ("national CPU s", "東京都 CPU s", "稲城市 CPU s", "this process CPU s"):
        assert node in text, text


def test_bench_network_processes_prints_every_phase_and_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    backend = Backend("sqlite", lambda: f"sqlite:///{tmp_path}/{uuid.uuid4().hex}.db")
    out = io.StringIO()
    network_processes.run(backend, BACKLOG, out, root=work)
    _check_printed(out.getvalue(), "sqlite")
    assert _processes_under(work) == []
    assert list(work.iterdir()) == []


def test_bench_network_processes_stops_every_node_and_removes_its_files_when_a_phase_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_: object) -> None:
        raise RuntimeError("a phase failed")

    monkeypatch.setattr(network_processes, "phases", fail)
    backend = Backend("sqlite", lambda: f"sqlite:///{tmp_path}/{uuid.uuid4().hex}.db")
    with pytest.raises(RuntimeError, match="a phase failed"):
        network_processes.run(backend, BACKLOG, io.StringIO(), root=tmp_path)
    assert _processes_under(tmp_path) == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.postgres
def test_bench_network_processes_on_postgres_prints_each_database_cpu_and_copy(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    backend = Backend("postgres", lambda: postgres_server.create_database(f"b_{uuid.uuid4().hex}"))
    out = io.StringIO()
    network_processes.run(backend, BACKLOG, out, root=tmp_path)
    text = out.getvalue()
    _check_printed(text, "postgres")
    for column in ("national db CPU s", "東京都 db CPU s", "稲城市 db CPU s", "the rest CPU s"):
        assert column in text, text
    assert "alone: count ÷ its CPU s + its database's" in text, text
    assert re.search(rf"postgres +raw COPY of identity rows +{NUMBER}", text), text
    assert _processes_under(tmp_path) == []
