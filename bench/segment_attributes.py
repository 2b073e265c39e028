"""Time segment sizes of `cohort AND custom attribute` on PostgreSQL, and print the query plans.

    .venv/bin/python -m bench.segment_attributes [--users 1000000] [--cohort 500000] [--runs 5]
        [--reuse] [--server postgresql://postgres@127.0.0.1:5432/postgres]

Builds a database of its own (``kohorte_bench_segment_attributes``, dropped and recreated),
loads N users with COPY, each with random custom attributes of mixed types (plan, age, score,
vip, tags, signup_source, and a rare beta flag), and one random cohort A of M members, then
times ``GET /segments/{id}/size`` through the HTTP API for A AND each of several attribute
leaves, and prints EXPLAIN (ANALYZE, BUFFERS) of each size statement.
"""

import argparse
import json
import random
import secrets
import time
from functools import partial
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

import bench.segments as segments_bench
from bench.segments import copy_rows, database_url, recreate_database, reuse, timed
from kohorte.api.app import create_app
from kohorte.domain import partners, segments, workspaces
from kohorte.domain.segments.resolution import resolve, selection
from kohorte.domain.segments.service import stored_filter
from kohorte.settings import Settings
from kohorte.store import segment_members as queries
from kohorte.store.database import create_store_engine, make_session_factory
from kohorte.store.migrate import upgrade_to_head
from kohorte.store.models import Segment

DATABASE = "kohorte_bench_segment_attributes"
ADMIN_TOKEN = "bench-admin-token-0123456789abcdef"
IN_A = {"filter": "amplitude_cohorts", "op": "includes_value", "value": "A"}
LEAVES: dict[str, dict[str, Any]] = {
    "plan equals 'pro' (22 %)": {"attribute": "plan", "op": "equals", "value": "pro"},
    "age greater_than 40 (51 %)": {"attribute": "age", "op": "greater_than", "value": 40},
    "tags includes_value 'b' (18 %)": {"attribute": "tags", "op": "includes_value", "value": "b"},
    "vip exists (10 %)": {"attribute": "vip", "op": "exists"},
    "plan not_equals 'free' (55 %)": {"attribute": "plan", "op": "not_equals", "value": "free"},
    "beta equals true (0.1 %)": {"attribute": "beta", "op": "equals", "value": True},
}


def attributes(rng: random.Random) -> str:
    found: dict[str, Any] = {"signup_source": rng.choice(["web", "ios", "android"])}
    if rng.random() < 0.9:
        found["plan"] = rng.choice(["free", "free", "pro", "team"])
    if rng.random() < 0.8:
        found["age"] = rng.randint(18, 80)
    if rng.random() < 0.5:
        found["score"] = round(rng.uniform(0, 100), 2)
    if rng.random() < 0.1:
        found["vip"] = True
    if rng.random() < 0.001:
        found["beta"] = True
    if rng.random() < 0.6:
        found["tags"] = rng.sample(["a", "b", "c", "d", "e"], rng.randint(0, 3))
    return json.dumps(found)


def load(engine: Engine, users: int, cohort_size: int) -> tuple[str, str]:
    with Session(engine) as session:
        workspace_id = workspaces.create_workspace(session, "bench").id
        key = workspaces.issue_rest_key(session, workspace_id, "bench", None).plaintext
        partners.create_partner(session, "amplitude", "Amplitude")
        session.commit()
    started, rng = time.perf_counter(), random.Random(7)
    copy_rows(
        engine,
        "COPY users (workspace_id, external_id, braze_id, custom_attributes, created_at,"
        " updated_at) FROM STDIN",
        (
            (workspace_id, f"user-{n:08d}", secrets.token_hex(12), attributes(rng), "now", "now")
            for n in range(users)
        ),
    )
    print(f"COPY of {users:,} users: {time.perf_counter() - started:.1f} s")
    segments_bench.load_cohorts(engine, workspace_id, cohort_size)  # A and B; only A is used
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    print(f"loaded in {time.perf_counter() - started:.1f} s")
    return workspace_id, key


def explain(engine: Engine, workspace_id: str, segment_id: str) -> None:
    with make_session_factory(engine)() as session:
        segment = session.get(Segment, segment_id)
        assert segment is not None
        tree = stored_filter(segment)
        statement = queries.count_statement(
            selection(workspace_id, tree, resolve(session, workspace_id, tree))
        )
        compiled = statement.compile(dialect=session.get_bind().dialect)
        # JSONB parameters have no literal form: sent as JSON text, which PostgreSQL casts.
        params = {
            name: json.dumps(value) if isinstance(value, dict | list) else value
            for name, value in compiled.params.items()
        }
        sql = str(compiled)
        plan = session.connection().exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        print(f"\n{sql}\n")
        print("\n".join(row[0] for row in plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--cohort", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="keep the data of the last run")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.reuse:
        url = database_url(args.server, DATABASE)
        workspace_id, key = reuse(url)
    else:
        url = recreate_database(args.server, DATABASE)
        engine = create_store_engine(url, statement_timeout_ms=0)
        upgrade_to_head(engine)
        workspace_id, key = load(engine, args.users, args.cohort)
        engine.dispose()
    engine = create_store_engine(url, statement_timeout_ms=0)
    app = create_app(Settings(database_url=url, admin_token=ADMIN_TOKEN), engine)
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(app) as client:
        for name, test in LEAVES.items():
            tree = {"and": [IN_A, {"filter": "custom_attribute", **test}]}
            with Session(engine) as session:
                segment_id = segments.create_segment(session, workspace_id, name, tree).id
                session.commit()
            path = f"/segments/{segment_id}/size"
            size = client.get(path, headers=headers).json()["size"]
            first, warm = timed(partial(client.get, path, headers=headers), args.runs)
            print(f"A AND {name:>32}: size {size:>7,}  first {first:7.1f} ms  warm {warm:7.1f} ms")
            explain(engine, workspace_id, segment_id)
    engine.dispose()


if __name__ == "__main__":
    main()
