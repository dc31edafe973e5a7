"""The db workload's twins, imported only when a db task runs (they need SQLAlchemy and
the drivers; workloads.db names what is missing when they are not installed).

One pool per process for the sync twin (keyed by process, so that a forked worker opens
its own connections and never touches the ones it inherited), one per event loop for the
async twin.  Both twins do the same statements in the same transactions:

1. reads by key and the joins, the updates and the inserts, in one transaction, committed;
2. a second transaction that reads back the updated notes and counts the inserted rows.
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Integer,
    MetaData,
    String,
    create_engine,
    func,
    select,
)
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

from workloads.base import TaskFailed
from workloads.database import SCHEMA, Plan, Pooled

Result = tuple[int, tuple[str, ...], int, int]


class Base(DeclarativeBase):
    metadata = MetaData(schema=SCHEMA)


class Category(Base):
    __tablename__ = "categories"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String)


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String)
    price: Mapped[int] = mapped_column(Integer)
    category_id: Mapped[int] = mapped_column(ForeignKey(f"{SCHEMA}.categories.id"))
    note: Mapped[str] = mapped_column(String)


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey(f"{SCHEMA}.items.id"))
    token: Mapped[str] = mapped_column(String)


JOIN = select(Category.name).join(Item, Item.category_id == Category.id)
READ_PRICE = f"SELECT price FROM {SCHEMA}.items WHERE id = %s"
JOIN_SQL = (f"SELECT c.name FROM {SCHEMA}.items i JOIN {SCHEMA}.categories c "
            "ON c.id = i.category_id WHERE i.id = %s")
UPDATE_SQL = f"UPDATE {SCHEMA}.items SET note = %s WHERE id = %s"
INSERT_SQL = f"INSERT INTO {SCHEMA}.orders (item_id, token) VALUES (%s, %s)"
NOTES_SQL = f"SELECT count(*) FROM {SCHEMA}.items WHERE id = ANY(%s) AND note = %s"
ORDERS_SQL = f"SELECT count(*) FROM {SCHEMA}.orders WHERE token = %s"


def _dollar(sql: str) -> str:
    """psycopg's %s placeholders as asyncpg's $1, $2, ..."""
    parts = sql.split("%s")
    return "".join(part + (f"${i + 1}" if i < len(parts) - 1 else "")
                   for i, part in enumerate(parts))


def _libpq(url: str, dialect: str) -> str:
    """The database URL as SQLAlchemy names it with this driver."""
    return "postgresql+" + dialect + "://" + url.split("://", 1)[1]



def failure(exc: BaseException) -> TaskFailed:
    """A driver's or the pool's error as the failure kinds every workload uses."""
    name = type(exc).__name__
    if "Timeout" in name or isinstance(exc, TimeoutError):
        return TaskFailed("timeout", f"{name}: {exc}".splitlines()[0])
    return TaskFailed("connection" if "Operational" in name or "Connection" in name
                      else "database", f"{name}: {exc}".splitlines()[0])


# ---- the sync twin ------------------------------------------------------------------

_pools: dict[tuple[int, str, str, int], Any] = {}
_pools_lock = threading.Lock()


def _forget_inherited() -> None:
    """In a forked child: the parent's pools hold the parent's sockets; drop them without
    closing anything (closing would end the parent's connections)."""
    for key, pool in list(_pools.items()):
        if key[1] == "orm":
            pool.kw["bind"].dispose(close=False)
        _pools.pop(key, None)


os.register_at_fork(after_in_child=_forget_inherited)


def _sync_pool(workload: Pooled) -> Any:
    key = (os.getpid(), workload.api, workload.url, workload.pool)
    pool = _pools.get(key)
    if pool is None:
        with _pools_lock:
            pool = _pools.get(key)
            if pool is None:
                pool = _open_sync_pool(workload)
                _pools[key] = pool
    return pool


def _open_sync_pool(workload: Pooled) -> Any:
    if workload.api == "orm":
        engine = create_engine(_libpq(workload.url, "psycopg"), pool_size=workload.pool,
                               max_overflow=0, pool_timeout=workload.timeout_s)
        return sessionmaker(engine)
    from psycopg_pool import ConnectionPool

    return ConnectionPool(workload.url, min_size=0, max_size=workload.pool,
                          timeout=workload.timeout_s, open=True)


def close_sync_pools() -> None:
    """Close the sync pools this process opened."""
    pid = os.getpid()
    with _pools_lock:
        for key in [key for key in _pools if key[0] == pid]:
            pool = _pools.pop(key)
            if key[1] == "orm":
                pool.kw["bind"].dispose()
            else:
                pool.close()


def run_sync(workload: Pooled, plan: Plan) -> Result:
    pool = _sync_pool(workload)
    try:
        return _orm_sync(pool, plan) if workload.api == "orm" else _raw_sync(pool, plan)
    except Exception as exc:
        if type(exc).__module__.split(".")[0] in ("sqlalchemy", "psycopg", "psycopg_pool"):
            raise failure(exc) from exc
        raise


def _orm_sync(factory: Any, plan: Plan) -> Result:
    with factory() as session:
        total = sum(session.get(Item, key).price for key in plan.reads)
        joined = tuple(session.execute(JOIN.where(Item.id == key)).scalar_one()
                       for key in plan.joins)
        for key in plan.updates:
            session.get(Item, key).note = plan.token
        session.add_all(Order(item_id=key, token=plan.token) for key in plan.inserts)
        session.commit()
        notes = session.execute(select(func.count()).select_from(Item).where(
            Item.id.in_(plan.updates), Item.note == plan.token)).scalar_one()
        orders = session.execute(select(func.count()).select_from(Order).where(
            Order.token == plan.token)).scalar_one()
        session.commit()
    return total, joined, notes, orders


def _raw_sync(pool: Any, plan: Plan) -> Result:
    with pool.connection() as conn:
        with conn.transaction():
            total = sum(conn.execute(READ_PRICE, (key,)).fetchone()[0] for key in plan.reads)
            joined = tuple(conn.execute(JOIN_SQL, (key,)).fetchone()[0] for key in plan.joins)
            for key in plan.updates:
                conn.execute(UPDATE_SQL, (plan.token, key))
            for key in plan.inserts:
                conn.execute(INSERT_SQL, (key, plan.token))
        with conn.transaction():
            notes = conn.execute(NOTES_SQL, (list(plan.updates), plan.token)).fetchone()[0]
            orders = conn.execute(ORDERS_SQL, (plan.token,)).fetchone()[0]
    return total, joined, notes, orders


# ---- the async twin -----------------------------------------------------------------

@asynccontextmanager
async def async_pool(workload: Pooled) -> AsyncIterator[Any]:
    """The async twin's pool on the running loop, closed when the runner is done."""
    if workload.api == "orm":
        engine = create_async_engine(_libpq(workload.url, workload.driver),
                                     pool_size=workload.pool, max_overflow=0,
                                     pool_timeout=workload.timeout_s)
        try:
            yield async_sessionmaker(engine, expire_on_commit=False)
        finally:
            await engine.dispose()
    elif workload.driver == "asyncpg":
        import asyncpg

        pool = await asyncpg.create_pool(workload.url, min_size=0, max_size=workload.pool)
        try:
            yield pool
        finally:
            await pool.close()
    else:
        from psycopg_pool import AsyncConnectionPool

        async with AsyncConnectionPool(workload.url, min_size=0, max_size=workload.pool,
                                       timeout=workload.timeout_s, open=False) as pool:
            yield pool


async def run_async(workload: Pooled, pool: Any, plan: Plan) -> Result:
    try:
        if workload.api == "orm":
            return await _orm_async(pool, plan)
        if workload.driver == "asyncpg":
            return await _asyncpg(pool, plan, workload.timeout_s)
        return await _psycopg_async(pool, plan)
    except Exception as exc:
        if type(exc).__module__.split(".")[0] in ("sqlalchemy", "psycopg", "psycopg_pool",
                                                   "asyncpg"):
            raise failure(exc) from exc
        raise


async def _orm_async(factory: Any, plan: Plan) -> Result:
    async with factory() as session:
        total = 0
        for key in plan.reads:
            total += (await session.get(Item, key)).price
        joined = tuple([(await session.execute(JOIN.where(Item.id == key))).scalar_one()
                        for key in plan.joins])
        for key in plan.updates:
            (await session.get(Item, key)).note = plan.token
        session.add_all(Order(item_id=key, token=plan.token) for key in plan.inserts)
        await session.commit()
        notes = (await session.execute(select(func.count()).select_from(Item).where(
            Item.id.in_(plan.updates), Item.note == plan.token))).scalar_one()
        orders = (await session.execute(select(func.count()).select_from(Order).where(
            Order.token == plan.token))).scalar_one()
        await session.commit()
    return total, joined, notes, orders


async def _asyncpg(pool: Any, plan: Plan, timeout_s: float) -> Result:
    async with pool.acquire(timeout=timeout_s) as conn:
        async with conn.transaction():
            total = 0
            for key in plan.reads:
                total += await conn.fetchval(_dollar(READ_PRICE), key)
            joined = tuple([await conn.fetchval(_dollar(JOIN_SQL), key) for key in plan.joins])
            for key in plan.updates:
                await conn.execute(_dollar(UPDATE_SQL), plan.token, key)
            for key in plan.inserts:
                await conn.execute(_dollar(INSERT_SQL), key, plan.token)
        async with conn.transaction():
            notes = await conn.fetchval(_dollar(NOTES_SQL), list(plan.updates), plan.token)
            orders = await conn.fetchval(_dollar(ORDERS_SQL), plan.token)
    return total, joined, notes, orders


async def _psycopg_async(pool: Any, plan: Plan) -> Result:
    async with pool.connection() as conn:
        async with conn.transaction():
            total = 0
            for key in plan.reads:
                total += (await (await conn.execute(READ_PRICE, (key,))).fetchone())[0]
            joined = tuple([(await (await conn.execute(JOIN_SQL, (key,))).fetchone())[0]
                            for key in plan.joins])
            for key in plan.updates:
                await conn.execute(UPDATE_SQL, (plan.token, key))
            for key in plan.inserts:
                await conn.execute(INSERT_SQL, (key, plan.token))
        async with conn.transaction():
            notes = (await (await conn.execute(
                NOTES_SQL, (list(plan.updates), plan.token))).fetchone())[0]
            orders = (await (await conn.execute(ORDERS_SQL, (plan.token,))).fetchone())[0]
    return total, joined, notes, orders
