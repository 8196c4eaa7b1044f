"""Multi-row inserts for the receive path, in as few driver round trips as possible.

On SQLite every driver call is a hop to aiosqlite's thread and back to the event loop; an
``executemany`` through SQLAlchemy costs four of them (cursor, execute, fetch, close) and
its Python overhead runs on the event-loop thread. Here each insert is one multi-row
``INSERT ... VALUES (...), (...)`` sent with aiosqlite's ``execute_fetchall``: one hop,
inside the transaction SQLAlchemy began (the driver opens it on the first insert, and
SQLAlchemy commits or rolls it back). Values pass through the column types' own bind
processors for the dialect, so what is stored is what SQLAlchemy would store.

PostgreSQL (asyncpg, no thread hops) goes through SQLAlchemy Core unchanged.

:func:`insert_rows` is the same for any insert of plain rows inside a transaction (the
pipeline's envelope records, documents, outbox rows, audit events and keys): on SQLite it
skips SQLAlchemy's per-row parameter processing of ``executemany``, which was a tenth of the
pipeline's time on the event loop.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Collection, Sequence
from typing import Any

from sqlalchemy import DateTime, Table, insert
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["BulkInserter", "bulk_inserter", "insert_rows"]

#: Bound parameters per statement, under SQLite's limit of 32,766.
_MAX_PARAMS = 30_000


class BulkInserter:
    """Inserts rows (dicts with the same keys) into a table for one engine's dialect."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._sqlite = dialect.name == "sqlite"
        self._processors: dict[tuple[str, str], Callable[[Any], Any] | None] = {}

    async def insert(
        self,
        conn: AsyncConnection,
        table: Table,
        rows: Sequence[dict[str, Any]],
        *,
        returning_new_ids: bool = False,
    ) -> list[Any]:
        """Insert ``rows``; with ``returning_new_ids``, rows a unique index turns away are skipped
        (``ON CONFLICT DO NOTHING``) and the primary keys of those inserted are returned."""
        if not rows:
            return []
        if not self._sqlite:
            return await self._core(conn, table, rows, returning_new_ids)
        names = list(rows[0])
        if missing := _python_defaults(table, names):
            raise ValueError(f"rows for {table.name} leave out {missing}, which have Python-side defaults")
        quote = self._dialect.identifier_preparer.quote
        processors = [self._processor(table, name) for name in names]
        # A batch's timestamps are mostly one object (its ``at``): format each only once.
        processors = [
            _memoised(p, {}) if p is not None and isinstance(table.c[n].type, DateTime) else p
            for n, p in zip(names, processors, strict=True)
        ]
        per_statement = max(1, _MAX_PARAMS // len(names))
        head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) VALUES "
        one = "(" + ", ".join("?" * len(names)) + ")"
        [key] = table.primary_key.columns.keys()
        tail = f" ON CONFLICT DO NOTHING RETURNING {quote(key)}" if returning_new_ids else ""
        driver = (await conn.get_raw_connection()).driver_connection
        assert driver is not None
        out: list[Any] = []
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            params = [
                value if process is None else process(value)
                for row in chunk
                for value, process in zip((row[n] for n in names), processors, strict=True)
            ]
            statement = head + ", ".join([one] * len(chunk)) + tail
            try:
                found = await driver.execute_fetchall(statement, params)
            except sqlite3.Error as exc:
                # the driver's own error, wrapped as SQLAlchemy wraps it everywhere else, so the
                # store tells a busy or locked database (transient) from a wrong statement
                raise sa_exc.DBAPIError.instance(
                    head + "...", None, exc, sqlite3.Error, hide_parameters=True
                ) from exc
            out += [r[0] for r in found]
        return out

    async def _core(
        self, conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]], returning: bool
    ) -> list[Any]:
        if not returning:
            await conn.execute(insert(table), rows)
            return []
        stmt = pg_insert(table).on_conflict_do_nothing().returning(*table.primary_key.columns)
        return list((await conn.execute(stmt, rows)).scalars())

    def _processor(self, table: Table, name: str) -> Callable[[Any], Any] | None:
        key = (table.name, name)
        if key not in self._processors:
            column_type = table.c[name].type
            self._processors[key] = column_type.dialect_impl(self._dialect).bind_processor(self._dialect)
        return self._processors[key]


def _python_defaults(table: Table, names: Collection[str]) -> list[str]:
    """Columns left out of ``names`` whose default SQLAlchemy computes in Python: only Core
    fills those in (server defaults the database applies either way)."""
    return [c.name for c in table.columns if c.default is not None and c.name not in names]


def _memoised(process: Callable[[Any], Any], memo: dict[int, Any]) -> Callable[[Any], Any]:
    """``process`` remembering its result per value object (the values outlive the memo:
    the rows being inserted hold them, so no ID is reused while it is kept)."""

    def run(value: Any) -> Any:
        key = id(value)
        if key in memo:
            return memo[key]
        memo[key] = out = process(value)
        return out

    return run


_INSERTERS: weakref.WeakKeyDictionary[Dialect, BulkInserter] = weakref.WeakKeyDictionary()


def bulk_inserter(dialect: Dialect) -> BulkInserter:
    """The engine's one inserter (its bind processors are looked up once per column)."""
    inserter = _INSERTERS.get(dialect)
    if inserter is None:
        inserter = _INSERTERS[dialect] = BulkInserter(dialect)
    return inserter


async def insert_rows(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` in the connection's transaction, in their order: multi-row statements on
    SQLite, SQLAlchemy Core's ``executemany`` otherwise.

    Rows need not name the same columns: each run of rows with the same keys is one statement
    (``executemany`` takes its columns from the first row and would drop the others' extras).
    """
    start = 0
    while start < len(rows):
        names = rows[start].keys()
        end = start + 1
        while end < len(rows) and rows[end].keys() == names:
            end += 1
        run = rows[start:end]
        if conn.dialect.name != "sqlite" or _python_defaults(table, names):
            await conn.execute(insert(table), run)
        else:
            await bulk_inserter(conn.dialect).insert(conn, table, run)
        start = end
