"""The benchmark session's database, for workloads that declare `needs_database`.

Started the first time a scenario needs it: the embedded PostgreSQL
(workloads.database.DatabaseProcess), or the user's own at `--db-url`.  Before each
scenario the suite's schema is made to hold the scenario's rows and its orders table is
emptied, so every model starts from the same state.  At the end of the session the
schema is dropped from the user's database and the embedded server is stopped and
removed, whether the session ended well, failed or was interrupted.
"""

from __future__ import annotations

from typing import Any

from workloads.base import Workload
from workloads.database import (
    DatabaseError,
    DatabaseProcess,
    Schema,
    connect,
    refuse_foreign_schema,
)


def check_url(url: str) -> None:
    """Raise DatabaseError (one line) unless `url` answers and its schema of our name, if
    any, is ours: a bad --db-url stops the run before anything runs, within the driver's
    connect timeout."""
    with connect(url) as conn:
        refuse_foreign_schema(conn)


class SessionDatabase:
    """The database of a benchmark session: one embedded server, or the user's own."""

    def __init__(self) -> None:
        self.process: DatabaseProcess | None = None
        self.schemas: dict[str, Schema] = {}

    def url_for(self, db_url: str) -> str:
        """Where a scenario's tasks connect: `db_url`, or the embedded server (started now
        if it is not running yet)."""
        if db_url:
            return db_url
        if self.process is None:
            self.process = DatabaseProcess().__enter__()
        return self.process.url

    def prepare(self, workload: Workload) -> dict[str, Any]:
        """Seed and reset the schema for `workload`; what the record says of the server."""
        url: str = getattr(workload, "url")  # noqa: B009 - set by the suite on db workloads
        schema = self.schemas.get(url)
        if schema is None:
            schema = self.schemas[url] = Schema(url)
        schema.prepare(getattr(workload, "rows"))  # noqa: B009
        return {"server_version": schema.server_version,
                "max_connections": schema.max_connections,
                "embedded": self.process is not None and url == self.process.url}

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    def stop(self) -> None:
        """Drop the suite's schemas, then stop the embedded server: whatever dropping
        raised (or an interrupt during it), the server and its data folder go."""
        problems = []
        try:
            for schema in self.schemas.values():
                try:
                    schema.drop()
                except DatabaseError as exc:
                    problems.append(str(exc))
        finally:
            self.schemas.clear()
            if self.process is not None:
                self.process.stop()
                self.process = None
        if problems:
            raise DatabaseError("; ".join(problems))
