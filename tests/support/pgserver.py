"""A throwaway PostgreSQL server for tests.

Starts a private cluster in a temporary directory on a free port of 127.0.0.1
(trust authentication, superuser ``juki``, durability switched off for speed) and
removes everything again on :meth:`PostgresServer.stop`.

When running as root the server runs as the ``postgres`` system user (PostgreSQL
refuses to run as root), via ``runuser -u postgres --``.

Usage::

    with PostgresServer() as server:
        url = server.create_database("t_example")
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from glob import glob
from pathlib import Path
from types import TracebackType

import psycopg
from psycopg import sql

from support.memory_tmp import process_alive

__all__ = ["PostgresServer", "PostgresServerError", "find_bindir"]

SUPERUSER = "juki"
HOST = "127.0.0.1"
SYSTEM_USER = "postgres"
DEBIAN_GLOB = "/usr/lib/postgresql/*/bin"
START_ATTEMPTS = 3  # retry when the picked port got taken in the meantime
BASE_PREFIX = "juki-pg-"
OWNER_FILE = "owner.pid"  # the process id of the test run that started the server


class PostgresServerError(RuntimeError):
    """The throwaway server could not be set up, started or stopped."""


def _has_server_binaries(bindir: Path) -> bool:
    return all((bindir / name).is_file() for name in ("initdb", "pg_ctl", "postgres"))


def _version_key(bindir: str) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,)
    version = Path(bindir).parent.name
    return tuple(int(part) for part in re.findall(r"\d+", version)) or (0,)


def find_bindir() -> Path:
    """Locate the directory holding ``initdb`` and ``pg_ctl``.

    Order: ``$JUKI_PG_BINDIR``, ``pg_config --bindir``, the newest
    ``/usr/lib/postgresql/*/bin``, then ``initdb`` on ``PATH``.
    """
    override = os.environ.get("JUKI_PG_BINDIR")
    if override:
        if _has_server_binaries(Path(override)):
            return Path(override)
        raise PostgresServerError(f"JUKI_PG_BINDIR={override} has no initdb/pg_ctl/postgres")

    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=30
            ).stdout.strip()
        except (subprocess.SubprocessError, OSError):
            out = ""
        # libpq-dev's pg_config may name a bindir without the server binaries.
        if out and _has_server_binaries(Path(out)):
            return Path(out)

    for candidate in sorted(glob(DEBIAN_GLOB), key=_version_key, reverse=True):
        if _has_server_binaries(Path(candidate)):
            return Path(candidate)

    initdb = shutil.which("initdb")
    if initdb and _has_server_binaries(Path(initdb).parent):
        return Path(initdb).parent

    raise PostgresServerError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found; "
        "run scripts/setup.sh or `apt-get install -y postgresql-15`"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


class PostgresServer:
    """A private PostgreSQL cluster living in a temporary directory."""

    def __init__(
        self,
        *,
        dbname: str = "juki",
        bindir: Path | str | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        """`settings`: server parameters beyond the defaults (a benchmark's shared_buffers)."""
        self.dbname = dbname
        self.settings = dict(settings or {})
        self._bindir = Path(bindir) if bindir is not None else None
        self._base: Path | None = None
        self._port: int | None = None
        self._running = False
        self._as_root = hasattr(os, "geteuid") and os.geteuid() == 0

    # -- paths ----------------------------------------------------------------

    @property
    def base_dir(self) -> Path:
        if self._base is None:
            raise PostgresServerError("server not started")
        return self._base

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "sock"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "postgres.log"

    # -- connection info --------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None or not self._running:
            raise PostgresServerError("server not started")
        return self._port

    @property
    def running(self) -> bool:
        return self._running

    def url_for(self, dbname: str) -> str:
        """SQLAlchemy URL of database *dbname* on this server."""
        return f"postgresql+psycopg://{SUPERUSER}@{HOST}:{self.port}/{dbname}"

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the default database (created on start)."""
        return self.url_for(self.dbname)

    def connect(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """A raw autocommit psycopg connection (caller closes it)."""
        return psycopg.connect(
            host=HOST, port=self.port, user=SUPERUSER, dbname=dbname, autocommit=True
        )

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create a fresh database (a copy of `template`, if given) and return its URL."""
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
        with self.connect() as conn:
            conn.execute(statement)
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    # -- lifecycle --------------------------------------------------------------

    def _run(
        self, args: Sequence[str], *, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return self._run_in(self.base_dir, args, timeout=timeout)

    def _run_in(
        self, cwd: Path, args: Sequence[str], *, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self._as_root:
            cmd = ["runuser", "-u", SYSTEM_USER, "--", *cmd]
        # cwd: the postgres user may not be able to enter the caller's cwd (e.g. /root).
        return subprocess.run(
            cmd,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def _prepare_dirs(self) -> None:
        # Explicitly /tmp: a long $TMPDIR could exceed the unix socket path limit,
        # and the postgres user must be able to reach the directory.
        self._base = Path(tempfile.mkdtemp(prefix=BASE_PREFIX, dir="/tmp"))
        self._base.joinpath(OWNER_FILE).write_text(str(os.getpid()))
        self._base.chmod(0o755)
        self.socket_dir.mkdir(mode=0o755)
        if self._as_root:
            try:
                shutil.chown(self._base, user=SYSTEM_USER, group=SYSTEM_USER)
                shutil.chown(self.socket_dir, user=SYSTEM_USER, group=SYSTEM_USER)
            except LookupError as exc:
                raise PostgresServerError(
                    f"running as root but there is no {SYSTEM_USER!r} user to run PostgreSQL "
                    "(install postgresql-15 or run as a normal user)"
                ) from exc

    def start(self) -> PostgresServer:
        if self._running:
            return self
        bindir = self._bindir or find_bindir()
        self.stop_abandoned(bindir)
        try:
            self._prepare_dirs()
            initdb = self._run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "-A",
                    "trust",
                    "-U",
                    SUPERUSER,
                    "--no-sync",
                ]
            )
            if initdb.returncode != 0:
                raise PostgresServerError(
                    f"initdb failed ({initdb.returncode}):\n{initdb.stdout}\n{initdb.stderr}"
                )
            self._start_server(bindir)
            atexit.register(self.stop)
            if self.dbname != "postgres":
                self.create_database(self.dbname)
        except BaseException:
            self.stop()
            raise
        return self

    def standby(self, *, settings: Mapping[str, str] | None = None) -> PostgresServer:
        """A hot standby of this server, started: a base backup (`pg_basebackup -R`) streaming
        the WAL from here, read-only, `hot_standby_feedback` on (the primary keeps the rows a
        standby query still reads). The caller stops it."""
        standby = PostgresServer(
            dbname=self.dbname,
            bindir=self._bindir,
            settings={"hot_standby_feedback": "on", **(settings or {})},
        )
        standby._start_following(self)
        return standby

    def _start_following(self, primary: PostgresServer) -> None:
        bindir = primary._bindir or find_bindir()
        try:
            self._prepare_dirs()
            backup = self._run(
                [
                    str(bindir / "pg_basebackup"),
                    "-D",
                    str(self.data_dir),
                    "-h",
                    HOST,
                    "-p",
                    str(primary.port),
                    "-U",
                    SUPERUSER,
                    "-R",
                    "-X",
                    "stream",
                    "--checkpoint=fast",  # the default waits for a spread checkpoint: minutes
                    "--no-sync",
                ]
            )
            if backup.returncode != 0:
                raise PostgresServerError(
                    f"pg_basebackup failed ({backup.returncode}):\n{backup.stdout}\n{backup.stderr}"
                )
            self._start_server(bindir)
            atexit.register(self.stop)
        except BaseException:
            self.stop()
            raise

    def stop_abandoned(self, bindir: Path) -> None:
        """A killed test run (a timeout, SIGKILL) cannot stop its servers: its atexit hook never
        runs. Stop and remove those whose run is gone; a directory without an owner file is
        one being created right now, or not ours, and is left alone."""
        for old in Path("/tmp").glob(f"{BASE_PREFIX}*"):
            try:
                pid = int(old.joinpath(OWNER_FILE).read_text())
            except (OSError, ValueError):
                continue
            if process_alive(pid):
                continue
            if old.joinpath("data", "postmaster.pid").exists():
                self._run_in(
                    old,
                    [str(bindir / "pg_ctl"), "-D", str(old / "data"), "stop", "-m", "immediate"],
                )
            shutil.rmtree(old, ignore_errors=True)

    def _start_server(self, bindir: Path) -> None:
        last_error = ""
        for _ in range(START_ATTEMPTS):
            port = _free_port()
            options = " ".join(
                [
                    f"-p {port}",
                    f"-k {self.socket_dir}",
                    f"-c listen_addresses={HOST}",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    *(f"-c {k}={v}" for k, v in self.settings.items()),
                ]
            )
            result = self._run(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    options,
                    "start",
                ]
            )
            if result.returncode == 0:
                self._port = port
                self._running = True
                self._bindir = bindir
                return
            log = _tail(self.log_file)
            last_error = (
                f"pg_ctl start failed ({result.returncode}):\n{result.stdout}\n{result.stderr}\n"
                f"--- {self.log_file} (tail) ---\n{log}"
            )
            if "could not bind" not in log and "already in use" not in log:
                break
            # Port raced away: make sure nothing is left half-started, then retry.
            self._run([str(bindir / "pg_ctl"), "-D", str(self.data_dir), "stop", "-m", "immediate"])
        raise PostgresServerError(last_error)

    def stop(self) -> None:
        """Stop the server (if running) and delete its directory. Idempotent."""
        atexit.unregister(self.stop)
        if self._running and self._bindir is not None and self.data_dir.exists():
            self._running = False
            result = self._run(
                [
                    str(self._bindir / "pg_ctl"),
                    "-D",
                    str(self.data_dir),
                    "-w",
                    "stop",
                    "-m",
                    "immediate",
                ]
            )
            if result.returncode != 0 and self.data_dir.joinpath("postmaster.pid").exists():
                raise PostgresServerError(
                    f"pg_ctl stop failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
                )
        self._running = False
        self._port = None
        if self._base is not None:
            # Hundreds of test databases make gigabytes of files: removing them took 9 s at the
            # end of each worker's run. The server is stopped, so nothing reads them any more;
            # a detached `rm` removes them while the run goes on (or after it has ended).
            subprocess.run(
                ["sh", "-c", 'rm -rf -- "$1" >/dev/null 2>&1 &', "sh", str(self._base)],
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                check=True,
            )
            self._base = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"port={self._port}" if self._running else "stopped"
        return f"<PostgresServer {state} base={self._base}>"


class DatabasePool:
    """Migrated databases reused from test to test, emptied instead of created anew.

    CREATE DATABASE costs about half a second however small the template (PostgreSQL 15 copies
    every file of it); emptying the tables of a used one costs about 50 ms. A database
    handed out is empty but at the head revision, exactly as a new copy of the template would
    be; one given back is emptied when next taken, after any connection a test left behind
    is ended.
    """

    def __init__(self, server: PostgresServer, template: str) -> None:
        self.server = server
        self.template = template
        self._free: list[str] = []
        self._count = 0

    def take(self) -> str:
        """The URL of an empty, migrated database for one user until `give_back`."""
        if not self._free:
            self._count += 1
            return self.server.create_database(f"pool_{self._count}", template=self.template)
        name = self._free.pop()
        self._empty(name)
        return self.server.url_for(name)

    def give_back(self, url: str) -> None:
        self._free.append(url.rsplit("/", 1)[1])

    def discard(self, url: str) -> None:
        """Drop a database whose schema its user changed (emptying keeps the schema, so the
        next user would get the changed one)."""
        self.server.drop_database(url.rsplit("/", 1)[1])  # WITH (FORCE): its sessions end

    def _empty(self, name: str) -> None:
        """Delete every row and restart every sequence: for tables this small, DELETE (with
        foreign-key triggers off for the transaction) is five times faster than TRUNCATE."""
        with self.server.connect() as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
        with self.server.connect(name) as conn, conn.transaction():
            tables = [
                str(row[0])
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            ]
            sequences = [
                str(row[0])
                for row in conn.execute(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
                )
            ]
            conn.execute("SET LOCAL session_replication_role = replica")
            for table in tables:
                conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
            for sequence in sequences:
                conn.execute(sql.SQL("ALTER SEQUENCE {} RESTART").format(sql.Identifier(sequence)))
