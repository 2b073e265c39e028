"""Check bench/thinnest_sql.py's statements, both membership variants, on both engines.

    python -m bench.thinnest_sql_check [--postgres-url postgresql://postgres@127.0.0.1:5432/test]

Builds the tables the statements touch (the columns they use, the membership table as each
variant has it) in a throwaway PostgreSQL database and a temporary SQLite file, then runs add,
add again, remove, remove again, add again and the size reset, and checks the counts: one
external id, one anonymous device and one alias match; an unknown id and the device of an
identified user do not. Run it after editing thinnest_sql.py.
"""

import argparse
import asyncio
import sqlite3
import tempfile
from pathlib import Path

import asyncpg
from tests.support.databases import throwaway_postgres_database

from bench import thinnest_sql as sql

TABLES = [
    "CREATE TABLE users (id bigint PRIMARY KEY, workspace_id text, external_id text,"
    " UNIQUE (workspace_id, external_id))",
    "CREATE TABLE user_devices (id bigint PRIMARY KEY, workspace_id text, user_id bigint,"
    " device_id text, UNIQUE (workspace_id, device_id))",
    "CREATE TABLE user_aliases (id bigint PRIMARY KEY, workspace_id text, user_id bigint,"
    " alias_label text, alias_name text, UNIQUE (workspace_id, alias_label, alias_name))",
    "CREATE TABLE cohorts (id bigint PRIMARY KEY, workspace_id text, partner_name text,"
    " cohort_id text, size integer)",
    "INSERT INTO users VALUES (1, 'w', 'a'), (2, 'w', 'b'), (3, 'w', NULL)",
    "INSERT INTO user_devices VALUES (1, 'w', 3, 'anonymous-device'), (2, 'w', 1, 'a-device')",
    "INSERT INTO user_aliases VALUES (1, 'w', 2, 'bench', 'b-alias')",
    "INSERT INTO cohorts VALUES (10, 'w', 'bench', 'c', 0)",
]
MEMBERSHIPS = {
    "current": [
        "CREATE TABLE cohort_memberships (cohort_pk bigint, user_id bigint,"
        " added_at {timestamp} NOT NULL, PRIMARY KEY (cohort_pk, user_id))",
    ],
    "history": [
        "CREATE TABLE cohort_memberships (cohort_pk bigint NOT NULL, user_id bigint NOT NULL,"
        " entered_at {timestamp} NOT NULL, left_at {timestamp} NULL)",
        "CREATE UNIQUE INDEX ux_current ON cohort_memberships (cohort_pk, user_id)"
        " WHERE left_at IS NULL",
        "CREATE INDEX ix_user_cohort ON cohort_memberships (user_id, cohort_pk)",
    ],
}
CHANGE = {
    "user_ids": ["a", "nobody"],
    "device_ids": ["anonymous-device", "a-device"],
    "aliases": [{"alias_label": "bench", "alias_name": "b-alias"}],
}
# (statement, rows it must report): 3 matched users, so 3 in, 0 again, 3 out, 0 again, 3 in.
STEPS = [("add", 3), ("add", 0), ("remove", 3), ("remove", 0), ("add", 3)]


def _check(engine: str, schema: str, counts: list[int], size: int) -> None:
    expected = [rows for _, rows in STEPS]
    verdict = "ok" if counts == expected and size == 3 else "FAILED"
    print(f"{engine:<10} {schema:<8} rows {counts} size {size}: {verdict}")
    if verdict != "ok":
        raise SystemExit(f"expected rows {expected} and size 3")


async def check_postgres(url: str, schema: str) -> None:
    connection = await asyncpg.connect("postgresql:" + url.split(":", 1)[1])
    try:
        for statement in TABLES + MEMBERSHIPS[schema]:
            await connection.execute(statement.format(timestamp="timestamptz"))
        columns = [row[0] for row in await connection.fetch(sql.PG_COLUMNS)]
        assert sql.detect_schema(columns) == schema, columns
        cohort = await connection.fetchrow(sql.PG_COHORT, "bench", "c")
        arguments = sql.pg_arguments(int(cohort[0]), str(cohort[1]), CHANGE)
        counts = []
        for action, _ in STEPS:
            status = await connection.execute(sql.PG_SQL[schema][action], *arguments)
            counts.append(int(status.rsplit(" ", 1)[-1]))
        await connection.execute(sql.PG_SQL[schema]["reset_sizes"])
        size = int(await connection.fetchval("SELECT size FROM cohorts"))
        await connection.execute(sql.PG_CLEAR)
        _check("postgresql", schema, counts, size)
    finally:
        await connection.close()


def check_sqlite(path: Path, schema: str) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in TABLES + MEMBERSHIPS[schema]:
            connection.execute(statement.format(timestamp="TEXT"))
        columns = [row[0] for row in connection.execute(sql.SQLITE_COLUMNS)]
        assert sql.detect_schema(columns) == schema, columns
        pk, workspace = connection.execute(sql.SQLITE_COHORT, ("bench", "c")).fetchone()
        counts = []
        for action, _ in STEPS:
            now = "2026-12-02 03:12:29.123456"
            built = sql.sqlite_statement(schema, action, pk, workspace, CHANGE, now)
            assert built is not None
            counts.append(connection.execute(*built).rowcount)
        connection.execute(sql.SQLITE_SQL[schema]["reset_sizes"])
        size = int(connection.execute("SELECT size FROM cohorts").fetchone()[0])
        connection.execute(sql.SQLITE_CLEAR)
        _check("sqlite", schema, counts, size)
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    arguments = parser.parse_args()
    for schema in sql.SCHEMAS:
        with throwaway_postgres_database(arguments.postgres_url, "kohorte_bench_sql") as url:
            asyncio.run(check_postgres(url, schema))
        with tempfile.TemporaryDirectory(prefix="kohorte-bench-sql-") as folder:
            check_sqlite(Path(folder) / "check.db", schema)


if __name__ == "__main__":
    main()
