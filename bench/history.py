"""Time segment and cohort reads over membership history on PostgreSQL, and print the plans.

    .venv/bin/python -m bench.history [--users 1000000] [--cohort 500000] [--days 30]
        [--churn 0.05] [--runs 5] [--server postgresql://postgres@127.0.0.1:5432/postgres]
        [--reuse] [--no-http] [--write-docs]

Builds a database of its own (``kohorte_bench_history``, dropped and recreated; ``--reuse``
keeps the last load), migrates it, creates a workspace, the partner ``amplitude`` and a REST
key through the admin API, then loads with COPY N users and two cohorts A and B with a churned
history: M random members each at the first sync, then one sync a day for ``--days`` days (at
12:00 UTC), each of which closes the stays of ``churn`` x M random members and opens stays for
as many random non-members. Prints the storage of ``cohort_memberships``, then times through the
HTTP API (``fastapi.testclient.TestClient`` in this process, no network) the history reads of
the segment A AND NOT B and of cohort A, checks their answers against the generated history
(a mismatch prints a line starting with ``!!! MISMATCH``), and prints EXPLAIN (ANALYZE, BUFFERS)
of the slowest statement over the history tables behind each figure. ``--write-docs`` puts the
report between the ``history-bench`` markers of docs/performance.md.

The per-day event counts (``cohort_days``) are seeded as the counter fold leaves them, and the
app runs without its fold loop (nothing is pending). ``--reuse`` reads the stays back to check
the answers, since the generated timeline depends on the day of the load.
"""

import argparse
import os
import platform
import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from bench.segments import ADMIN_TOKEN, AND_NOT, copy_rows
from kohorte.api.app import create_app
from kohorte.settings import Settings
from kohorte.store.database import create_store_engine, normalise_url
from kohorte.store.migrate import upgrade_to_head

DATABASE = "kohorte_bench_history"
PARTNER = "amplitude"
COHORTS = ("A", "B")
SYNC_HOUR = 12
MAX_PAGE = 1000  # the API's largest page, for getting to the middle of a walk quickly
DOCS = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
DOCS_BEGIN, DOCS_END = "<!-- history-bench -->", "<!-- /history-bench -->"
HISTORY_TABLES = ("cohort_memberships", "cohort_days", "cohort_counter_deltas")
TARGETS = {"size": 1000.0, "users": 100.0, "data_series": 2000.0, "history": 500.0}


@dataclass(frozen=True, slots=True)
class Stay:
    user_id: int
    entered_at: datetime
    left_at: datetime | None


@dataclass
class Report:
    """What is printed, kept for ``--write-docs``."""

    lines: list[str] = field(default_factory=list)

    def out(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)


# --- the database ------------------------------------------------------------------------------


def bench_url(server_url: str) -> str:
    return make_url(server_url).set(database=DATABASE).render_as_string(hide_password=False)


def recreate_database(server_url: str) -> str:
    admin = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    admin.dispose()
    return bench_url(server_url)


def vacuum_analyze(engine: Engine) -> None:
    # Autovacuum is off on the development server; this stands for it having caught up (and
    # sets the visibility map, which index-only scans need).
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


# --- the admin part, through the API -------------------------------------------------------------


def admin_client(url: str, engine: Engine) -> TestClient:
    return TestClient(create_app(Settings(database_url=url, admin_token=ADMIN_TOKEN), engine))


def admin_post(client: TestClient, path: str, body: dict[str, Any]) -> Any:
    response = client.post(path, json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert response.status_code == 201, f"POST {path}: {response.status_code} {response.text}"
    return response.json()


def setup_workspace(url: str, engine: Engine) -> tuple[str, str]:
    """A workspace, its REST key and the partner; returns (workspace id, REST key)."""
    with admin_client(url, engine) as client:
        workspace_id: str = admin_post(client, "/admin/workspaces", {"name": "bench"})["id"]
        key = rest_key(client, workspace_id)
        admin_post(client, "/admin/partners", {"name": PARTNER, "display_name": "Amplitude"})
    return workspace_id, key


def rest_key(client: TestClient, workspace_id: str) -> str:
    issued = admin_post(client, f"/admin/workspaces/{workspace_id}/api-keys", {"name": "bench"})
    return str(issued["key"])


def reuse_workspace(url: str, engine: Engine) -> tuple[str, str]:
    """The workspace of an earlier load, with a fresh REST key (keys are kept only hashed)."""
    with engine.connect() as connection:
        workspace_id = str(connection.execute(text("SELECT id FROM workspaces")).scalar_one())
    with admin_client(url, engine) as client:
        return workspace_id, rest_key(client, workspace_id)


# --- the generated history -----------------------------------------------------------------------


def sync_times(days: int, now: datetime) -> list[datetime]:
    """The first sync (the initial members) and the ``days`` daily syncs after it, the last
    one the latest 12:00 UTC that is already past, so that no stay begins in the future."""
    last = now.replace(hour=SYNC_HOUR, minute=0, second=0, microsecond=0)
    if last > now - timedelta(minutes=1):
        last -= timedelta(days=1)
    return [last - timedelta(days=days - k) for k in range(days + 1)]


def churned_stays(
    user_ids: list[int], members: int, syncs: list[datetime], churn: float, seed: int
) -> list[Stay]:
    """One cohort's stays: ``members`` random users at the first sync, then at every later sync
    ``churn`` x ``members`` random members leave and as many random non-members enter."""
    changes = round(churn * members)
    if members + changes > len(user_ids):
        raise SystemExit(f"--cohort {members:,} with --churn {churn} needs more users")
    rng = random.Random(seed)
    current = rng.sample(user_ids, members)
    position = {user_id: n for n, user_id in enumerate(current)}
    since = dict.fromkeys(current, syncs[0])
    stays: list[Stay] = []
    for at in syncs[1:]:
        leaving = rng.sample(current, changes)
        entering: set[int] = set()
        while len(entering) < changes:  # rejection: at least half of the users are non-members
            candidate = user_ids[rng.randrange(len(user_ids))]
            if candidate not in since:
                entering.add(candidate)
        for user_id in leaving:
            stays.append(Stay(user_id, since.pop(user_id), at))
            # Swap-remove keeps the list dense for the next draw in O(1).
            n, last = position.pop(user_id), current.pop()
            if last != user_id:
                current[n], position[last] = last, n
        for user_id in sorted(entering):
            since[user_id] = at
            position[user_id] = len(current)
            current.append(user_id)
    stays.extend(Stay(user_id, entered_at, None) for user_id, entered_at in since.items())
    return stays


def load(
    engine: Engine, workspace_id: str, users: int, members: int, days: int, churn: float
) -> dict[str, list[Stay]]:
    """Users, the cohorts and their stays; returns each cohort's stays."""
    started = time.perf_counter()
    syncs = sync_times(days, datetime.now(UTC))
    long_ago = (syncs[0] - timedelta(days=1)).isoformat()
    copy_rows(
        engine,
        "COPY users (workspace_id, external_id, braze_id, custom_attributes, created_at,"
        " updated_at) FROM STDIN",
        (
            (workspace_id, f"user-{n:08d}", f"{n:024x}", "{}", long_ago, long_ago)
            for n in range(users)
        ),
    )
    with engine.connect() as connection:
        user_ids = list(connection.scalars(text("SELECT id FROM users ORDER BY id")))
    stays = {
        cohort_id: churned_stays(user_ids, members, syncs, churn, seed)
        for seed, cohort_id in enumerate(COHORTS)
    }
    generated = time.perf_counter()
    pks = insert_cohorts(engine, workspace_id, syncs[0], stays)
    insert_cohort_days(engine, pks, stays)
    # In the order a store receives them: by when the stay began (left_at is written later by
    # an UPDATE in real life; here it is in place from the start, so the heap has no dead rows).
    rows = sorted(
        (stay.entered_at, pks[cohort_id], stay.user_id, stay.left_at)
        for cohort_id, cohort_stays in stays.items()
        for stay in cohort_stays
    )
    copy_rows(
        engine,
        "COPY cohort_memberships (cohort_pk, user_id, entered_at, left_at, cause) FROM STDIN",
        ((pk, user_id, entered_at, left_at, 0) for entered_at, pk, user_id, left_at in rows),
    )
    copied = time.perf_counter()
    vacuum_analyze(engine)
    print(
        f"loaded {users:,} users and {len(rows):,} stays in {time.perf_counter() - started:.1f} s"
        f" (users and generating {generated - started:.1f} s, stays {copied - generated:.1f} s,"
        f" VACUUM ANALYZE {time.perf_counter() - copied:.1f} s)"
    )
    return stays


def insert_cohorts(
    engine: Engine, workspace_id: str, created_at: datetime, stays: dict[str, list[Stay]]
) -> dict[str, int]:
    pks = {}
    with engine.begin() as connection:
        for cohort_id, cohort_stays in stays.items():
            pks[cohort_id] = connection.execute(
                text(
                    "INSERT INTO cohorts (workspace_id, partner_name, cohort_id, name, created_at,"
                    " updated_at, folded_size) VALUES (:w, :p, :c, :c, :t, :t, :s) RETURNING id"
                ),
                {
                    "w": workspace_id,
                    "p": PARTNER,
                    "c": cohort_id,
                    "t": created_at,
                    "s": sum(stay.left_at is None for stay in cohort_stays),
                },
            ).scalar_one()
    return pks


def insert_cohort_days(engine: Engine, pks: dict[str, int], stays: dict[str, list[Stay]]) -> None:
    """The per-day event counts as the counter fold would have left them (history reads them)."""
    days: dict[tuple[int, date], list[int]] = {}
    for cohort_id, cohort_stays in stays.items():
        for stay in cohort_stays:
            days.setdefault((pks[cohort_id], stay.entered_at.date()), [0, 0])[0] += 1
            if stay.left_at is not None:
                days.setdefault((pks[cohort_id], stay.left_at.date()), [0, 0])[1] += 1
    copy_rows(
        engine,
        "COPY cohort_days (cohort_pk, day, entered, exited) FROM STDIN",
        ((pk, day, entered, exited) for (pk, day), (entered, exited) in sorted(days.items())),
    )


def stored_stays(engine: Engine) -> dict[str, list[Stay]]:
    """On ``--reuse`` the stays are read back: the generator's timeline depends on the day."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT c.cohort_id, m.user_id, m.entered_at, m.left_at FROM cohort_memberships m"
                " JOIN cohorts c ON c.id = m.cohort_pk"
            )
        )
        stays: dict[str, list[Stay]] = {cohort_id: [] for cohort_id in COHORTS}
        for cohort_id, user_id, entered_at, left_at in rows:
            stays[cohort_id].append(Stay(user_id, entered_at, left_at))
    return stays


# --- what the answers must be -------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """Sizes from the stays by a sweep over the change instants: the segment's size and A's
    size after each instant, and A's entered and left events per UTC day."""

    instants: list[datetime]
    segment_sizes: list[int]
    cohort_sizes: list[int]
    entered: dict[date, int]
    left: dict[date, int]

    def _at(self, sizes: list[int], at: datetime) -> int:
        found = 0
        for instant, size in zip(self.instants, sizes, strict=True):
            if instant > at:
                break
            found = size
        return found

    def segment_size(self, at: datetime) -> int:
        return self._at(self.segment_sizes, at)

    def cohort_size(self, at: datetime) -> int:
        return self._at(self.cohort_sizes, at)


def expected(stays: dict[str, list[Stay]]) -> Expected:
    changes: dict[datetime, list[tuple[str, int, bool]]] = {}
    entered: dict[date, int] = {}
    left: dict[date, int] = {}
    for cohort_id, cohort_stays in stays.items():
        for stay in cohort_stays:
            changes.setdefault(stay.entered_at, []).append((cohort_id, stay.user_id, True))
            if cohort_id == "A":
                day = stay.entered_at.astimezone(UTC).date()
                entered[day] = entered.get(day, 0) + 1
            if stay.left_at is not None:
                changes.setdefault(stay.left_at, []).append((cohort_id, stay.user_id, False))
                if cohort_id == "A":
                    day = stay.left_at.astimezone(UTC).date()
                    left[day] = left.get(day, 0) + 1
    in_a: set[int] = set()
    in_b: set[int] = set()
    size = 0
    instants, segment_sizes, cohort_sizes = [], [], []
    for instant in sorted(changes):
        # Leaves first: a user leaving and re-entering a cohort at one instant stays a member.
        for cohort_id, user_id, entering in sorted(changes[instant], key=lambda c: c[2]):
            mine = in_a if cohort_id == "A" else in_b
            was = user_id in in_a and user_id not in in_b
            (mine.add if entering else mine.discard)(user_id)
            size += (user_id in in_a and user_id not in in_b) - was
        instants.append(instant)
        segment_sizes.append(size)
        cohort_sizes.append(len(in_a))
    return Expected(instants, segment_sizes, cohort_sizes, entered, left)


def day_end(day: date, now: datetime) -> datetime:
    """The instant a day's size is read at: its end, or now for today."""
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return min(end - timedelta(microseconds=1), now)


# --- storage -------------------------------------------------------------------------------------


def storage(engine: Engine, report: Report) -> None:
    with engine.connect() as connection:
        stays, closed = connection.execute(
            text("SELECT count(*), count(left_at) FROM cohort_memberships")
        ).one()
        heap = connection.execute(
            text("SELECT pg_relation_size('cohort_memberships')")
        ).scalar_one()
        indexes = connection.execute(
            text(
                "SELECT c.relname, pg_relation_size(i.indexrelid) FROM pg_index i"
                " JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE i.indrelid = 'cohort_memberships'::regclass ORDER BY c.relname"
            )
        ).all()
    events = stays + closed
    total = heap + sum(size for _, size in indexes)
    report.out(f"cohort_memberships: {stays:,} stays ({closed:,} closed), {events:,} events")
    report.out()
    report.out("| relation | size | bytes per stay | bytes per event |")
    report.out("|---|---|---|---|")
    for name, size in [("table (heap)", heap), *indexes, ("all", total)]:
        report.out(
            f"| {name} | {size / 2**20:,.1f} MiB | {size / stays:,.1f} | {size / events:,.1f} |"
        )
    report.out()


# --- timing through HTTP -------------------------------------------------------------------------


@dataclass
class Captured:
    statement: str
    parameters: Any
    ms: float


@dataclass
class Case:
    name: str
    target: str
    call: Callable[[], Any]


class StatementLog:
    """The statements a request runs on the app's engine, with their durations."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.captured: list[Captured] = []
        self._started: list[float] = []

    def _before(self, *_args: Any) -> None:
        self._started.append(time.perf_counter())

    def _after(
        self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool
    ) -> None:
        ms = (time.perf_counter() - self._started.pop()) * 1000
        if not many:
            self.captured.append(Captured(statement, parameters, ms))

    def __enter__(self) -> "StatementLog":
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)


@dataclass(frozen=True)
class Timing:
    first_ms: float
    warm_ms: float
    # Time spent in the statements themselves (median over the warm runs), and the
    # statements of the last run.
    sql_ms: float
    statements: list[Captured]


def timed(call: Callable[[], Any], runs: int, log: "StatementLog") -> Timing:
    """The first request and the median of the ``runs`` after it, in milliseconds."""
    times, sql = [], []
    for _ in range(runs + 1):
        log.captured.clear()
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
        sql.append(sum(c.ms for c in log.captured))
    return Timing(
        times[0], statistics.median(times[1:]), statistics.median(sql[1:]), list(log.captured)
    )


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Api:
    def __init__(self, client: TestClient, key: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(path, params=params, headers=self.headers)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return response.json()

    def post(self, path: str, body: Any) -> Any:
        response = self.client.post(path, json=body, headers=self.headers)
        assert response.status_code == 201, f"POST {path}: {response.status_code} {response.text}"
        return response.json()


def mid_cursor(api: Api, segment_id: str, as_of: str, size: int) -> tuple[str, int]:
    """The cursor after about half the walk, got by following full pages; returns it and how
    many members come before it."""
    params: dict[str, Any] = {"limit": MAX_PAGE, "as_of": as_of}
    seen = 0
    while seen < size // 2:
        page = api.get(f"/segments/{segment_id}/users", **params)
        seen += len(page["users"])
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    return str(params.get("cursor", "")), seen


def cases(api: Api, segment_id: str, as_of: str, cursor: str, today: date) -> list[Case]:
    users = f"/segments/{segment_id}/users"
    history = "/cohorts/amplitude/A/history"
    year = {"from": (today - timedelta(days=365)).isoformat(), "to": today.isoformat()}
    series = "/segments/data_series"
    return [
        Case("size as_of T", "size", lambda: api.get(f"/segments/{segment_id}/size", as_of=as_of)),
        Case("size now", "size", lambda: api.get(f"/segments/{segment_id}/size")),
        Case("users first page as_of T", "users", lambda: api.get(users, limit=100, as_of=as_of)),
        Case(
            "users mid-walk page as_of T",
            "users",
            lambda: api.get(users, limit=100, as_of=as_of, cursor=cursor),
        ),
        Case(
            "data_series length=100",
            "data_series",
            lambda: api.get(series, segment_id=segment_id, length=100),
        ),
        Case(
            "data_series length=30",
            "data_series",
            lambda: api.get(series, segment_id=segment_id, length=30),
        ),
        Case("cohort history 366 days", "history", lambda: api.get(history, **year)),
        Case("cohort history default 30 days", "history", lambda: api.get(history)),
    ]


def check(report: Report, what: str, got: Any, want: Any) -> bool:
    if got == want:
        report.out(f"check {what}: ok ({want})" if len(repr(want)) < 80 else f"check {what}: ok")
        return True
    report.out(f"!!! MISMATCH {what}: the API says {got!r}, the stays say {want!r}")
    return False


def check_answers(report: Report, api: Api, segment_id: str, at: datetime, truth: Expected) -> None:
    now = datetime.now(UTC)
    size = api.get(f"/segments/{segment_id}/size", as_of=iso(at))["size"]
    check(report, f"size of A AND NOT B as of {iso(at)}", size, truth.segment_size(at))
    for length in (5, 30, 100):
        data = api.get("/segments/data_series", segment_id=segment_id, length=length)["data"]
        got = [(point["time"], point["size"]) for point in data]
        days = [now.date() - timedelta(days=n) for n in range(length - 1, -1, -1)]
        want = [(day.isoformat(), truth.segment_size(day_end(day, now))) for day in days]
        if not check(report, f"data_series length={length}", got, want):
            wrong = [(g, w) for g, w in zip(got, want, strict=False) if g != w]
            report.out(f"    first differences (API, stays): {wrong[:5]}")
    for params in ({}, {"from": (now.date() - timedelta(days=365)).isoformat()}):
        days_out = api.get("/cohorts/amplitude/A/history", **params)["days"]
        got_days = [(d["date"], d["entered"], d["left"], d["size"]) for d in days_out]
        first = date.fromisoformat(got_days[0][0]) if got_days else now.date()
        span = (now.date() - first).days + 1
        want_days = []
        for n in range(span):
            day = first + timedelta(days=n)
            want_days.append(
                (
                    day.isoformat(),
                    truth.entered.get(day, 0),
                    truth.left.get(day, 0),
                    truth.cohort_size(day_end(day, now)),
                )
            )
        name = f"cohort history of A, {len(got_days)} days from {first}"
        if not check(report, name, got_days, want_days):
            wrong_days = [(g, w) for g, w in zip(got_days, want_days, strict=False) if g != w]
            report.out(f"    first differences (API, stays): {wrong_days[:5]}")


def explain(engine: Engine, captured: Captured) -> list[str]:
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(
            f"EXPLAIN (ANALYZE, BUFFERS) {captured.statement}", captured.parameters
        ).scalars()
        lines = [str(line) for line in plan]
        connection.rollback()
    return lines


def run_http(
    report: Report,
    url: str,
    key: str,
    runs: int,
    stays: dict[str, list[Stay]],
) -> list[tuple[str, Captured, list[str]]]:
    """Times every case, checks the answers; returns the slowest statement of each case with
    its plan."""
    # fresh connections for the first timed request
    engine = create_store_engine(url, statement_timeout_ms=0)
    # No counter fold loop: the seed leaves no deltas, and its statements would mix into the
    # ones captured for each request.
    settings = Settings(database_url=url, admin_token=ADMIN_TOKEN, counter_fold_seconds=0)
    app = create_app(settings, engine)
    truth = expected(stays)
    syncs = truth.instants
    at = syncs[len(syncs) // 2] + timedelta(hours=12)  # between two daily syncs
    as_of = iso(at)
    plans = []
    with TestClient(app) as client:
        api = Api(client, key)
        segment_id = str(api.post("/segments", {"name": "A and not B", "filter": AND_NOT})["id"])
        report.out(f"T = {as_of}; segment A AND NOT B = {segment_id}")
        size_at = truth.segment_size(at)
        cursor, before = mid_cursor(api, segment_id, as_of, size_at)
        report.out(f"mid-walk cursor after {before:,} of {size_at:,} members (pages of 1000)")
        report.out()
        report.out(
            "| request | first ms | warm median ms | of which SQL ms | statements | target ms |"
        )
        report.out("|---|---|---|---|---|---|")
        found = cases(api, segment_id, as_of, cursor, datetime.now(UTC).date())
        measured = []
        with StatementLog(engine) as log:
            for case in found:
                timing = timed(case.call, runs, log)
                measured.append((case, timing))
                target = TARGETS[case.target]
                flag = "" if timing.warm_ms < target else " (over)"
                report.out(
                    f"| {case.name} | {timing.first_ms:,.1f} | {timing.warm_ms:,.1f}{flag}"
                    f" | {timing.sql_ms:,.1f} | {len(timing.statements)} | < {target:,.0f} |"
                )
        report.out()
        report.out(f"load average (1 min) after the timings: {os.getloadavg()[0]:.1f}")
        check_answers(report, api, segment_id, at, truth)
        for case, timing in measured:
            # The statement over stays or day counts is the one the figure is about; the user
            # views of a page may take longer on a small store.
            about = [c for c in timing.statements if any(t in c.statement for t in HISTORY_TABLES)]
            slowest = max(about or timing.statements, key=lambda c: c.ms)
            plans.append((case.name, slowest, explain(engine, slowest)))
    engine.dispose()
    return plans


# --- output --------------------------------------------------------------------------------------


def print_plans(report: Report, plans: list[tuple[str, Captured, list[str]]]) -> None:
    for name, captured, plan in plans:
        report.out()
        report.out(f"--- {name}: slowest history statement ({captured.ms:.1f} ms in the request)")
        report.out("```")
        report.out(captured.statement)
        parameters = repr(captured.parameters)
        cut = parameters if len(parameters) <= 400 else parameters[:400] + " ..."
        report.out(f"-- parameters: {cut}")
        report.out()
        for line in plan:
            report.out(line)
        report.out("```")


def machine(engine: Engine) -> str:
    with engine.connect() as connection:
        server = connection.execute(text("SHOW server_version")).scalar_one()
    load1 = os.getloadavg()[0]
    return (
        f"Machine: {os.cpu_count()} cores, {platform.platform()}; Python "
        f"{platform.python_version()}; PostgreSQL {server}; load average (1 min) {load1:.1f}."
    )


def write_docs(command: str, header: list[str], report: Report) -> None:
    section = "\n".join(
        [
            DOCS_BEGIN,
            "## Membership history",
            "",
            "Written by `python -m bench.history --write-docs` (bench/history.py); times are end",
            'to end through the HTTP API in-process (`fastapi.testclient.TestClient`), "first"',
            'the first request after start, "warm" the median of the runs after it.',
            "",
            f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: `{command}`",
            "",
            *header,
            "",
            *report.lines,
            DOCS_END,
        ]
    )
    current = DOCS.read_text()
    if DOCS_BEGIN in current and DOCS_END in current:
        before, rest = current.split(DOCS_BEGIN, 1)
        after = rest.split(DOCS_END, 1)[1]
        DOCS.write_text(before + section + after)
    else:
        DOCS.write_text(current.rstrip("\n") + "\n\n" + section + "\n")
    print(f"wrote the section into {DOCS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--cohort", type=int, default=500_000, help="members of A and of B")
    parser.add_argument("--days", type=int, default=30, help="daily syncs after the first")
    parser.add_argument("--churn", type=float, default=0.05, help="share of members per sync")
    parser.add_argument("--runs", type=int, default=5, help="warm runs after the first")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--reuse", action="store_true", help="keep the data of the last run")
    parser.add_argument("--no-http", action="store_true", help="load and report storage only")
    parser.add_argument("--write-docs", action="store_true", help=f"write into {DOCS.name}")
    args = parser.parse_args()
    if args.reuse:
        url = bench_url(args.server)
        engine = create_store_engine(url, statement_timeout_ms=0)
        upgrade_to_head(engine)
        workspace_id, key = reuse_workspace(url, engine)
        stays = stored_stays(engine)
    else:
        url = recreate_database(args.server)
        engine = create_store_engine(url, statement_timeout_ms=0)
        upgrade_to_head(engine)
        workspace_id, key = setup_workspace(url, engine)
        stays = load(engine, workspace_id, args.users, args.cohort, args.days, args.churn)
    header = [machine(engine)]
    print(header[0])
    report = Report()
    storage(engine, report)
    engine.dispose()
    if args.no_http:
        return
    plans = run_http(report, url, key, args.runs, stays)
    print_plans(report, plans)
    if args.write_docs:
        command = "python -m bench.history " + " ".join(_given(args))
        write_docs(command.strip(), header, report)


def _given(args: argparse.Namespace) -> Iterator[str]:
    for name in ("users", "cohort", "days", "churn", "runs"):
        yield f"--{name} {getattr(args, name)}"
    if args.reuse:
        yield "--reuse"


if __name__ == "__main__":
    main()
