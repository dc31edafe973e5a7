"""What a benchmark session starts for its scenarios, and stops however it ends.

The local test servers (started the first time a scenario needs each kind) and the
database (bench.databases), as session fixtures; the stash keys under which the session
keeps its settings and what it learnt of its servers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bench.databases import SessionDatabase
from bench.options import Settings
from bench.scenario import Scenario, ScenarioSpec
from workloads.database import DatabaseError
from workloads.server import ServerProcess, identify_server

SETTINGS = pytest.StashKey[Settings]()
LOCAL_SERVERS = pytest.StashKey[dict[str, ServerProcess]]()
SERVER_IDENTITY = pytest.StashKey[dict[str, dict[str, object]]]()
DATABASE_INFO = pytest.StashKey[dict[str, Any]]()
TARGET_CHECK_TIMEOUT_S = 5.0


class LocalServers:
    """The local test servers of a session, each started the first time a scenario needs
    it and stopped when the session ends."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config
        self.running: dict[str, ServerProcess] = {}
        config.stash[LOCAL_SERVERS] = self.running
        config.stash[SERVER_IDENTITY] = {}

    def get(self, kind: str) -> ServerProcess:
        server = self.running.get(kind)
        if server is None:
            server = ServerProcess(server=kind).__enter__()
            self.running[kind] = server
            self._config.stash[SERVER_IDENTITY][kind] = identify_server(
                server.url, TARGET_CHECK_TIMEOUT_S) or {}
        return server

    def stop(self) -> None:
        while self.running:
            _, server = self.running.popitem()
            server.stop()


@pytest.fixture(scope="session")
def bench_servers(pytestconfig: pytest.Config) -> Iterator[LocalServers]:
    """The session's local test servers, started on demand (none with --target-url)."""
    servers = LocalServers(pytestconfig)
    target = pytestconfig.stash[SETTINGS].target_url
    if target:
        pytestconfig.stash[SERVER_IDENTITY]["target"] = identify_server(
            target, TARGET_CHECK_TIMEOUT_S) or {}
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture(scope="session")
def bench_database(pytestconfig: pytest.Config) -> Iterator[SessionDatabase]:
    """The session's database (embedded PostgreSQL or --db-url), started on demand; its
    schema dropped and the embedded server removed at the end, however the session ends."""
    database = SessionDatabase()
    try:
        yield database
    finally:
        database.stop()


def database_scenario(request: pytest.FixtureRequest, spec: ScenarioSpec,
                       overrides: dict[str, Any]) -> Scenario:
    settings = request.config.stash[SETTINGS]
    database: SessionDatabase = request.getfixturevalue("bench_database")
    try:
        overrides["url"] = database.url_for(settings.knobs.get(spec.workload, {}).get("db_url", ""))
        workload = settings.make_workload(spec.workload, None, **overrides)
        request.config.stash[DATABASE_INFO] = database.prepare(workload)
    except DatabaseError as exc:
        pytest.exit(f"{spec.workload}: {exc}", returncode=4)
    return Scenario(spec, workload, database.process)
