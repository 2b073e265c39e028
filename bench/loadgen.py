"""The load generator of ``bench.partner_load``: a process of its own, driven over stdin/stdout.

One JSON object a line. The harness sends ``{"op": "phase", ...}``; the generator opens one
HTTP/1.1 keep-alive connection per simulated client (one ``httpx.AsyncClient`` each), sends one
empty ``cohort_changes`` request on each (a credentials check that changes nothing) and answers
``{"ready": true}``. The harness then reads the servers' CPU counters and sends ``{"op":
"go"}``; the generator runs the phase (until its request count or duration is reached) and
answers with the results. ``{"op": "quit"}`` ends it. Only the base URL the harness gives is
contacted (the harness only gives 127.0.0.1).
"""

import asyncio
import json
import math
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench import workloads
from bench.workloads import Workload

REQUEST_TIMEOUT_S = 120.0
HEADERS = {"Content-Type": "application/json"}


@dataclass
class Tally:
    latencies_ms: list[float] = field(default_factory=list)
    ok: int = 0
    errors: int = 0
    first_error: str | None = None
    ids: int = 0
    added: int = 0
    removed: int = 0


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class Phase:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.workload: Workload = (
            workloads.SOAK if spec["workload"] == "soak" else workloads.WORKLOADS[spec["workload"]]
        )
        self.users: int = spec["users"]
        self.requests: int = spec["requests"]
        self.duration: float = spec["duration"]
        self.path = f"/partners/{spec['partner']}/cohorts/users"
        self.credentials: dict[str, str] = spec["credentials"]
        self.prefix: str = spec["cohort_prefix"]
        self.shared_counter = 0
        self.tally = Tally()

    def body(self, connection: int, number: int) -> tuple[str, int]:
        """The request and the number of identifiers it carries."""
        workload = self.workload
        if workload is workloads.SOAK:
            index, changes = connection, workloads.soak_changes(self.users, number)
        else:
            index, position = workloads.slot(
                workload, self.requests, self.users, number, connection
            )
            changes = workloads.changes(workload, self.users, position)
        body = {
            **self.credentials,
            "cohort_id": workloads.cohort_id(self.prefix, index),
            "cohort_changes": changes,
        }
        ids = sum(len(next(v for k, v in c.items() if k != "should_remove")) for c in changes)
        return json.dumps(body), ids

    def next_number(self, connection: int, sent: int) -> int | None:
        if self.workload.per_connection_cohorts:
            limit = workloads.requests_of_connection(self.workload, self.requests, connection)
            return sent if sent < limit else None
        number = self.shared_counter
        if number >= self.requests:
            return None
        self.shared_counter += 1
        return number

    async def warm_up(self, client: httpx.AsyncClient) -> None:
        body = {**self.credentials, "cohort_id": self.prefix + "0", "cohort_changes": []}
        response = await client.post(self.path, content=json.dumps(body), headers=HEADERS)
        if response.status_code != 201:
            raise RuntimeError(f"warm-up got {response.status_code}: {response.text[:300]}")

    async def drive(self, connection: int, client: httpx.AsyncClient, deadline: float) -> None:
        tally = self.tally
        sent = 0
        while time.perf_counter() < deadline:
            number = self.next_number(connection, sent)
            if number is None:
                return
            sent += 1
            content, ids = self.body(connection, number)
            started = time.perf_counter()
            try:
                response = await client.post(self.path, content=content, headers=HEADERS)
            except httpx.HTTPError as error:
                tally.errors += 1
                tally.first_error = tally.first_error or f"{type(error).__name__}: {error}"
                continue
            tally.latencies_ms.append((time.perf_counter() - started) * 1000)
            if response.status_code == 201:
                tally.ok += 1
                tally.ids += ids
                answer = response.json()
                tally.added += int(answer.get("added", 0))
                tally.removed += int(answer.get("removed", 0))
            else:
                tally.errors += 1
                tally.first_error = tally.first_error or (
                    f"{response.status_code}: {response.text[:500]}"
                )

    async def run(self) -> dict[str, Any]:
        clients = [
            httpx.AsyncClient(
                base_url=self.spec["base_url"],
                timeout=REQUEST_TIMEOUT_S,
                limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            )
            for _ in range(self.workload.connections)
        ]
        try:
            await asyncio.gather(*(self.warm_up(client) for client in clients))
            emit({"ready": True})
            command = await asyncio.to_thread(read_command)
            if command.get("op") != "go":
                raise RuntimeError(f"expected go, got {command}")
            started = time.perf_counter()
            deadline = started + self.duration
            await asyncio.gather(
                *(self.drive(n, client, deadline) for n, client in enumerate(clients))
            )
            elapsed = time.perf_counter() - started
        finally:
            await asyncio.gather(*(client.aclose() for client in clients))
        tally = self.tally
        return {
            "elapsed_s": elapsed,
            "requests": tally.ok + tally.errors,
            "ok": tally.ok,
            "errors": tally.errors,
            "first_error": tally.first_error,
            "ids": tally.ids,
            "added": tally.added,
            "removed": tally.removed,
            "p50_ms": percentile(tally.latencies_ms, 0.50),
            "p99_ms": percentile(tally.latencies_ms, 0.99),
        }


def emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def read_command() -> dict[str, Any]:
    line = sys.stdin.readline()
    if not line:
        return {"op": "quit"}
    command: dict[str, Any] = json.loads(line)
    return command


def main() -> None:
    while (command := read_command()).get("op") != "quit":
        if command.get("op") != "phase":
            raise SystemExit(f"unknown command {command}")
        try:
            result = asyncio.run(Phase(command).run())
        except Exception as error:  # reported to the harness, which stops the run
            emit({"failed": f"{type(error).__name__}: {error}"})
            continue
        emit({"result": result})


if __name__ == "__main__":
    main()
