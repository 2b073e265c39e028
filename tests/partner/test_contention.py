"""Concurrent partner syncs of one cohort, with merges and deletes of its members, stay exact.

Black-box, on PostgreSQL: `kohorte serve --workers 2` and client threads that post overlapping
adds and removes of one cohort while others merge anonymous members into identified users and
delete and re-create members. The contract: contention is kohorte's to resolve, so every
request succeeds (never a 503, 409 or 500), and the cohort's size equals its member count.
Without merges and deletes, the members are exactly what the answered counts add up to.

Every loop is bounded by a deadline and a count; the checks are invariants that hold whatever
the interleaving.
"""

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import Integration
from tests.support.servers import (
    REQUEST_TIMEOUT_S,
    ServerProcess,
    import_users,
    requires_postgres,
    servers_on_a_throwaway_database,
)

pytestmark = requires_postgres

POOL = [f"user-{number:03d}" for number in range(400)]
SYNC_THREADS = 8
MIXED_RUN_S = 12.0
COUNTED_RUN_S = 6.0
MAX_REQUESTS_PER_THREAD = 400
# A thread still running this long after the deadline is stuck (each request has its timeout).
JOIN_GRACE_S = REQUEST_TIMEOUT_S + 15.0


@dataclass
class Failure:
    thread: str
    path: str
    status: int | None  # None: no answer at all (time-out, connection lost)
    body: str


@dataclass
class Tally:
    """What every thread saw, under one lock."""

    failures: list[Failure] = field(default_factory=list)
    statuses: Counter[int | None] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    added: int = 0
    removed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answered(self, thread: str, path: str, status: int | None) -> None:
        with self.lock:
            self.requests[path] += 1
            self.statuses[status] += 1

    def fail(self, failure: Failure) -> None:
        with self.lock:
            self.failures.append(failure)

    def synced(self, added: int, removed: int) -> None:
        with self.lock:
            self.added += added
            self.removed += removed

    def summary(self) -> str:
        by_status = Counter(failure.status for failure in self.failures)
        return (
            f"{sum(self.requests.values())} requests {dict(self.requests)}; "
            f"statuses {dict(self.statuses)}; failures by status {dict(by_status)}"
        )

    def print_failures(self) -> None:
        for failure in self.failures:
            print(f"FAILED {failure.thread} {failure.path} -> {failure.status}: {failure.body}")


@dataclass
class Client:
    """One thread's connection to the server, recording every answer in the tally."""

    name: str
    http: httpx.Client
    tally: Tally

    def post(self, path: str, expected: int = 201, **kwargs: Any) -> dict[str, Any] | None:
        try:
            response = self.http.post(path, **kwargs)
        except httpx.HTTPError as error:
            self.tally.answered(self.name, path, None)
            self.tally.fail(Failure(self.name, path, None, repr(error)))
            return None
        self.tally.answered(self.name, path, response.status_code)
        if response.status_code != expected:
            self.tally.fail(Failure(self.name, path, response.status_code, response.text[:300]))
            return None
        body: dict[str, Any] = response.json() if response.content else {}
        return body

    def complain(self, path: str, what: str) -> None:
        self.tally.fail(Failure(self.name, path, 201, what))


@dataclass
class Scenario:
    server: ServerProcess
    integration: Integration

    @property
    def sync_path(self) -> str:
        return f"/partners/{self.integration.partner.name}/cohorts/users"

    def sync(self, client: Client, cohort_id: str, changes: list[dict[str, Any]]) -> Any:
        body = {**self.integration.credentials, "cohort_id": cohort_id, "cohort_changes": changes}
        return client.post(self.sync_path, json=body)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    log_dir: Path = tmp_path_factory.mktemp("contention")
    extra_env = {"KOHORTE_PARTNER_RATE_LIMIT_PER_HOUR": "0"}
    with servers_on_a_throwaway_database(log_dir, workers=2, extra_env=extra_env) as [server]:
        with server.api() as api:
            integration = api.integration(api.create_workspace("contention"), "contended")
            import_users(api, integration.workspace, [{"external_id": user} for user in POOL])
        yield Scenario(server, integration)


def random_changes(rng: random.Random) -> list[dict[str, Any]]:
    """50 to 200 ids of the pool in two to four add or remove objects, a few ids in both."""
    batch = rng.sample(POOL, rng.randint(50, 200))
    cuts = sorted(rng.sample(range(1, len(batch)), rng.randint(1, 3)))
    changes = [
        {"user_ids": batch[start:end], "should_remove": rng.random() < 0.5}
        for start, end in zip([0, *cuts], [*cuts, len(batch)], strict=True)
    ]
    again = rng.sample(batch, rng.randint(1, 10))
    changes.append({"user_ids": again, "should_remove": not changes[0]["should_remove"]})
    rng.shuffle(changes)
    return changes


def sync_loop(scenario: Scenario, cohort_id: str) -> Callable[[Client, random.Random, float], None]:
    def loop(client: Client, rng: random.Random, deadline: float) -> None:
        for _ in range(MAX_REQUESTS_PER_THREAD):
            if time.monotonic() >= deadline:
                return
            body = scenario.sync(client, cohort_id, random_changes(rng))
            if body is not None:
                client.tally.synced(body["added"], body["removed"])

    return loop


def merge_loop(
    scenario: Scenario, cohort_id: str
) -> Callable[[Client, random.Random, float], None]:
    """An anonymous user (by device or alias) joins the cohort, then logs in as a pool user."""
    headers = scenario.integration.workspace.headers

    def loop(client: Client, rng: random.Random, deadline: float) -> None:
        for number in range(MAX_REQUESTS_PER_THREAD):
            if time.monotonic() >= deadline:
                return
            target = rng.choice(POOL)
            if number % 2 == 0:
                device = f"anonymous-device-{number}"
                created = client.post(
                    "/users/devices", json={"devices": [{"device_id": device}]}, headers=headers
                )
                change: dict[str, Any] = {"device_ids": [device]}
                identify: dict[str, Any] = {
                    "aliases_to_identify": [],
                    "devices_to_identify": [{"external_id": target, "device_id": device}],
                }
            else:
                alias = {"alias_name": f"anonymous-{number}", "alias_label": "anonymous"}
                created = client.post(
                    "/users/alias/new", json={"user_aliases": [alias]}, headers=headers
                )
                change = {"aliases": [alias]}
                identify = {"aliases_to_identify": [{"external_id": target, "user_alias": alias}]}
            if created is None:
                continue
            joined = scenario.sync(client, cohort_id, [change])
            if joined is not None and joined["added"] != 1:
                client.complain(scenario.sync_path, f"anonymous user not added: {joined}")
            merged = client.post("/users/identify", json=identify, headers=headers)
            if merged is not None and "errors" in merged:
                client.complain("/users/identify", f"not merged: {merged}")

    return loop


def delete_loop(scenario: Scenario) -> Callable[[Client, random.Random, float], None]:
    """Members deleted, then created again (with no membership) under the same external id."""
    headers = scenario.integration.workspace.headers

    def loop(client: Client, rng: random.Random, deadline: float) -> None:
        for _ in range(MAX_REQUESTS_PER_THREAD):
            if time.monotonic() >= deadline:
                return
            victims = rng.sample(POOL, rng.randint(1, 5))
            client.post("/users/delete", json={"external_ids": victims}, headers=headers)
            attributes = [{"external_id": victim} for victim in victims]
            client.post("/users/track", json={"attributes": attributes}, headers=headers)

    return loop


def run_threads(
    scenario: Scenario,
    loops: list[tuple[str, Callable[[Client, random.Random, float], None]]],
    seconds: float,
    tally: Tally,
) -> None:
    deadline = time.monotonic() + seconds
    clients: list[Client] = []

    def run(
        client: Client, loop: Callable[[Client, random.Random, float], None], seed: int
    ) -> None:
        try:
            loop(client, random.Random(seed), deadline)
        except Exception as error:  # a bug of the test itself: report it, never hang
            client.complain("(thread)", repr(error))

    threads = []
    for seed, (name, loop) in enumerate(loops):
        client = Client(
            name, httpx.Client(base_url=scenario.server.base_url, timeout=REQUEST_TIMEOUT_S), tally
        )
        clients.append(client)
        threads.append(threading.Thread(target=run, args=(client, loop, seed), daemon=True))
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()) + JOIN_GRACE_S)
        stuck = [loops[n][0] for n, thread in enumerate(threads) if thread.is_alive()]
        assert not stuck, f"threads still running long after the deadline: {stuck}"
    finally:
        for client in clients:
            client.http.close()


def cohort_state(scenario: Scenario, cohort_id: str) -> tuple[int, list[dict[str, Any]]]:
    with scenario.server.api() as api:
        size = int(api.cohort(scenario.integration, cohort_id)["size"])
        path = f"/cohorts/{scenario.integration.partner.name}/{cohort_id}/users"
        members = api.walk_pages(path, scenario.integration.workspace.headers, limit=1000)
    return size, members


def test_syncs_merges_and_deletes_of_one_cohort_keep_its_size_exact(scenario: Scenario) -> None:
    cohort_id = "contended"
    tally = Tally()
    loops = [(f"sync-{n}", sync_loop(scenario, cohort_id)) for n in range(SYNC_THREADS)]
    loops += [("merge", merge_loop(scenario, cohort_id)), ("delete", delete_loop(scenario))]
    run_threads(scenario, loops, MIXED_RUN_S, tally)
    size, members = cohort_state(scenario, cohort_id)
    tally.print_failures()
    braze_ids = [member["braze_id"] for member in members]
    report = f"{tally.summary()}; size {size}, members listed {len(members)}"
    print(report)
    problems = [] if tally.requests[scenario.sync_path] >= SYNC_THREADS else ["too few syncs"]
    problems += [f"{len(tally.failures)} requests failed"] if tally.failures else []
    problems += [] if len(set(braze_ids)) == len(braze_ids) else ["a member listed twice"]
    problems += [] if size == len(members) else ["size is not the member count"]
    assert problems == [], report


def test_concurrent_syncs_of_one_cohort_add_up_to_its_members(scenario: Scenario) -> None:
    cohort_id = "counted"
    tally = Tally()
    loops = [(f"sync-{n}", sync_loop(scenario, cohort_id)) for n in range(SYNC_THREADS)]
    run_threads(scenario, loops, COUNTED_RUN_S, tally)
    size, members = cohort_state(scenario, cohort_id)
    tally.print_failures()
    net = tally.added - tally.removed
    report = (
        f"{tally.summary()}; added {tally.added} - removed {tally.removed} = {net}, "
        f"size {size}, members listed {len(members)}"
    )
    print(report)
    problems = [] if tally.requests[scenario.sync_path] >= SYNC_THREADS else ["too few syncs"]
    problems += [f"{len(tally.failures)} requests failed"] if tally.failures else []
    problems += [] if size == len(members) else ["size is not the member count"]
    problems += [] if len(members) == net else ["members are not added - removed"]
    assert problems == [], report
