"""The thinnest partner write path: the same request body, the same write, one statement each.

A baseline for ``bench.partner_load``: ``POST /partners/{partner}/cohorts/users`` with kohorte's
body, and for each change object ONE SQL statement (bench/thinnest_sql.py) that looks the
identifiers up and inserts or removes the memberships. No authentication, no validation beyond
what the statement needs, no cohort size, sync log, data points or rate limit. The cohort must
exist; its internal id is looked up once per cohort id and cached. PostgreSQL goes through an
asyncpg pool, SQLite through the sqlite3 module (one connection per thread, the same pragmas as
kohorte, one ``BEGIN IMMEDIATE`` transaction per request).

    BENCH_THINNEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/db \\
        python -m uvicorn bench.thinnest:app --port 8100 --workers 2

``BENCH_THINNEST_SCHEMA`` (``current`` or ``history``) picks the membership table's variant;
unset, it is read from the table's columns.
"""

import json
import os
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from bench import thinnest_sql as sql

POOL_SIZE = 8
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 32 * 1024


def _json(status: int, payload: dict[str, Any]) -> Response:
    return Response(json.dumps(payload), status_code=status, media_type="application/json")


class PostgresWriter:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.pool: Any = None
        self.schema = ""
        self.cohorts: dict[tuple[str, str], tuple[int, str]] = {}

    async def start(self) -> None:
        self.pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=POOL_SIZE)
        columns = [row[0] for row in await self.pool.fetch(sql.PG_COLUMNS)]
        self.schema = os.environ.get("BENCH_THINNEST_SCHEMA") or sql.detect_schema(columns)

    async def stop(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    async def cohort(self, partner: str, cohort_id: str) -> tuple[int, str] | None:
        key = (partner, cohort_id)
        if key not in self.cohorts:
            row = await self.pool.fetchrow(sql.PG_COHORT, partner, cohort_id)
            if row is None:
                return None
            self.cohorts[key] = (int(row[0]), str(row[1]))
        return self.cohorts[key]

    async def apply(self, cohort: tuple[int, str], changes: list[dict[str, Any]]) -> list[int]:
        """Rows written per change object."""
        statements = sql.PG_SQL[self.schema]
        counts: list[int] = []
        async with self.pool.acquire() as connection:
            transaction = connection.transaction()
            if len(changes) > 1:
                await transaction.start()
            try:
                for change in changes:
                    action = "remove" if change.get("should_remove") else "add"
                    arguments = sql.pg_arguments(*cohort, change)
                    status = await connection.execute(statements[action], *arguments)
                    counts.append(int(status.rsplit(" ", 1)[-1]))
            except BaseException:
                if len(changes) > 1:
                    await transaction.rollback()
                raise
            if len(changes) > 1:
                await transaction.commit()
        return counts


class SqliteWriter:
    def __init__(self, path: str) -> None:
        self.path = path
        self.local = threading.local()
        self.schema = ""
        self.cohorts: dict[tuple[str, str], tuple[int, str]] = {}

    async def start(self) -> None:
        columns = [row[0] for row in self._connection().execute(sql.SQLITE_COLUMNS)]
        self.schema = os.environ.get("BENCH_THINNEST_SCHEMA") or sql.detect_schema(columns)

    async def stop(self) -> None:
        return None

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self.local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            for pragma in (
                "foreign_keys=ON",
                "journal_mode=WAL",
                "synchronous=NORMAL",
                f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
                f"cache_size=-{SQLITE_CACHE_KIB}",
            ):
                connection.execute(f"PRAGMA {pragma}")
            self.local.connection = connection
        return connection

    async def cohort(self, partner: str, cohort_id: str) -> tuple[int, str] | None:
        key = (partner, cohort_id)
        if key not in self.cohorts:
            row = await run_in_threadpool(self._cohort, partner, cohort_id)
            if row is None:
                return None
            self.cohorts[key] = row
        return self.cohorts[key]

    def _cohort(self, partner: str, cohort_id: str) -> tuple[int, str] | None:
        row = self._connection().execute(sql.SQLITE_COHORT, (partner, cohort_id)).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    async def apply(self, cohort: tuple[int, str], changes: list[dict[str, Any]]) -> list[int]:
        return await run_in_threadpool(self._apply, cohort, changes)

    def _apply(self, cohort: tuple[int, str], changes: list[dict[str, Any]]) -> list[int]:
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        connection = self._connection()
        counts: list[int] = []
        connection.execute("BEGIN IMMEDIATE")
        try:
            for change in changes:
                action = "remove" if change.get("should_remove") else "add"
                statement = sql.sqlite_statement(self.schema, action, *cohort, change, now)
                counts.append(0 if statement is None else connection.execute(*statement).rowcount)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return counts


def make_writer(url: str) -> PostgresWriter | SqliteWriter:
    scheme = urlsplit(url).scheme
    if scheme.startswith("sqlite"):
        return SqliteWriter(url.split(":///", 1)[1])
    if scheme.startswith("postgres"):
        return PostgresWriter("postgresql:" + url.split(":", 1)[1])
    raise ValueError(f"unsupported database URL scheme {scheme!r}")


def create_app(url: str) -> FastAPI:
    writer = make_writer(url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await writer.start()
        yield
        await writer.stop()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/readyz")
    async def ready() -> Response:
        return _json(200, {"status": "ok"})

    @app.post("/partners/{partner}/cohorts/users")
    async def change_cohort_users(partner: str, request: Request) -> Response:
        body = json.loads(await request.body())
        changes: list[dict[str, Any]] = body["cohort_changes"]
        if not changes:
            return _json(201, {"message": "success", "added": 0, "removed": 0})
        cohort = await writer.cohort(partner, body["cohort_id"])
        if cohort is None:
            return _json(404, {"message": "unknown cohort (create it through kohorte first)"})
        counts = await writer.apply(cohort, changes)
        removes = [bool(change.get("should_remove")) for change in changes]
        added = sum(n for n, remove in zip(counts, removes, strict=True) if not remove)
        return _json(201, {"message": "success", "added": added, "removed": sum(counts) - added})

    return app


def _app_from_environment() -> FastAPI:
    url = os.environ.get("BENCH_THINNEST_DATABASE_URL")
    if not url:
        # Imported without configuration (linters, tests): an app that only says so.
        placeholder = FastAPI()

        @placeholder.get("/readyz")
        async def not_configured() -> Response:
            return _json(503, {"message": "BENCH_THINNEST_DATABASE_URL is not set"})

        return placeholder
    return create_app(url)


app = _app_from_environment()
