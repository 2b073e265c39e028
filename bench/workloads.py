"""The benchmark's users and the request bodies of each workload, shared by harness and client.

Users ``n = 0 .. N-1`` (N a multiple of 10): every fifth (``n % 5 == 4``) is anonymous with the
device ``device-<n>``, the others have the external id ``user-<n>``; ``n % 10 < 3`` also have
the alias ``bench``/``alias-<n>`` (80% identified, 20% anonymous, 30% aliased).

Each identifier kind is a pool, walked in a scattered but fixed order (a multiplicative
permutation), so consecutive requests name users all over the table, as partners do. A request
takes one *slot* of the pool: slot ``s`` adds pool entries ``[s*adds, (s+1)*adds)`` and removes
entries from a separate range after all the add ranges, so the ids a phase adds are never
members yet (the harness empties the memberships before every phase) and the ids it removes
are exactly the ones the harness put in first. When a cohort's slots run out, the next request
goes to the next cohort of the phase.
"""

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

ALIAS_LABEL = "bench"
IDS_PER_REQUEST = 1000


@dataclass(frozen=True)
class Workload:
    name: str
    title: str
    connections: int
    per_connection_cohorts: bool  # True: each connection writes its own cohorts
    kind: str  # "user_ids", "device_ids" or "aliases"
    adds: int  # ids added per request
    removes: int  # ids removed per request (members put there before the phase)
    unknown: int = 0  # of the adds, how many are external ids that match nobody (new each time)


WORKLOADS = {
    w.name: w
    for w in (
        Workload("add_1", "add external ids, 8 conns, 1 cohort", 8, False, "user_ids", 1000, 0),
        Workload("add_8", "add external ids, 8 conns, 8 cohorts", 8, True, "user_ids", 1000, 0),
        Workload("remove", "remove external ids, 8 conns, 8 cohorts", 8, True, "user_ids", 0, 1000),
        Workload("devices", "add device ids, 8 conns, 8 cohorts", 8, True, "device_ids", 1000, 0),
        Workload("aliases", "add aliases, 8 conns, 8 cohorts", 8, True, "aliases", 1000, 0),
        Workload(
            "mix",
            "Segment mix 700 add + 300 remove, 8 conns, 8 cohorts",
            8,
            True,
            "user_ids",
            700,
            300,
        ),
        Workload("latency", "add external ids, 1 conn, 1 cohort", 1, False, "user_ids", 1000, 0),
        Workload(
            "unmatched",
            "add external ids, 10% unknown, 8 conns, 8 cohorts",
            8,
            True,
            "user_ids",
            1000,
            0,
            unknown=100,
        ),
    )
}
SOAK = Workload("soak", "soak: add then remove, 8 conns, 8 cohorts", 8, True, "user_ids", 0, 0)


def user_line(n: int) -> dict[str, Any]:
    """Line ``n`` of the NDJSON user import."""
    line: dict[str, Any] = (
        {"device_ids": [f"device-{n}"]} if n % 5 == 4 else {"external_id": f"user-{n}"}
    )
    if n % 10 < 3:
        line["user_aliases"] = [{"alias_label": ALIAS_LABEL, "alias_name": f"alias-{n}"}]
    return line


def ndjson_chunks(users: int, lines_per_chunk: int = 1000) -> Iterator[bytes]:
    for start in range(0, users, lines_per_chunk):
        lines = (
            json.dumps(user_line(n)) for n in range(start, min(users, start + lines_per_chunk))
        )
        yield ("\n".join(lines) + "\n").encode()


def pool_size(kind: str, users: int) -> int:
    return {"user_ids": users * 4 // 5, "device_ids": users // 5, "aliases": users * 3 // 10}[kind]


@cache
def _stride(size: int) -> int:
    stride = 1_000_003
    while math.gcd(stride, size) != 1:
        stride += 2
    return stride


def identifier(kind: str, index: int, users: int) -> Any:
    """Entry ``index`` of a pool: an external id, a device id or an alias object."""
    size = pool_size(kind, users)
    i = (index * _stride(size)) % size
    if kind == "user_ids":
        return f"user-{(i // 4) * 5 + i % 4}"
    if kind == "device_ids":
        return f"device-{i * 5 + 4}"
    return {"alias_label": ALIAS_LABEL, "alias_name": f"alias-{(i // 3) * 10 + i % 3}"}


def slots_per_cohort(workload: Workload, users: int) -> int:
    per_request = workload.adds + workload.removes or IDS_PER_REQUEST
    return pool_size(workload.kind, users) // per_request


def requests_of_connection(workload: Workload, requests: int, connection: int) -> int:
    """How many of a phase's requests a connection sends (per-connection cohorts only)."""
    share, rest = divmod(requests, workload.connections)
    return share + (1 if connection < rest else 0)


def cohorts_needed(workload: Workload, requests: int, users: int) -> int:
    per_cohort = slots_per_cohort(workload, users)
    if not workload.per_connection_cohorts:
        return math.ceil(requests / per_cohort)
    return workload.connections * math.ceil(math.ceil(requests / workload.connections) / per_cohort)


def slot(
    workload: Workload, requests: int, users: int, number: int, connection: int
) -> tuple[int, int]:
    """(cohort index, slot) of a connection's ``number``-th request, or of the phase's
    ``number``-th when the connections share the cohorts."""
    per_cohort = slots_per_cohort(workload, users)
    if not workload.per_connection_cohorts:
        return divmod(number, per_cohort)
    per_connection = math.ceil(math.ceil(requests / workload.connections) / per_cohort)
    cohort, position = divmod(number, per_cohort)
    return connection * per_connection + cohort, position


def changes(workload: Workload, users: int, position: int) -> list[dict[str, Any]]:
    """The cohort_changes of a request in slot ``position``."""
    per_cohort = slots_per_cohort(workload, users)
    kind = workload.kind
    result: list[dict[str, Any]] = []
    if workload.adds:
        start = position * workload.adds
        known = workload.adds - workload.unknown
        ids = [identifier(kind, i, users) for i in range(start, start + known)]
        ids += [f"unknown-{i}" for i in range(start + known, start + workload.adds)]
        result.append({kind: ids})
    if workload.removes:
        start = per_cohort * workload.adds + position * workload.removes
        ids = [identifier(kind, i, users) for i in range(start, start + workload.removes)]
        result.append({kind: ids, "should_remove": True})
    return result


def removed_ids(workload: Workload, users: int, position: int) -> list[Any]:
    """What slot ``position`` removes: the members the harness puts in before the phase."""
    removes = [c for c in changes(workload, users, position) if c.get("should_remove")]
    return removes[0][workload.kind] if removes else []


def prefill(workload: Workload, requests: int, users: int) -> Iterator[tuple[int, list[Any]]]:
    """(cohort index, ids) for every request of the phase that removes members."""
    if not workload.removes:
        return
    if workload.per_connection_cohorts:
        for connection in range(workload.connections):
            for number in range(requests_of_connection(workload, requests, connection)):
                cohort, position = slot(workload, requests, users, number, connection)
                yield cohort, removed_ids(workload, users, position)
    else:
        for number in range(requests):
            cohort, position = slot(workload, requests, users, number, 0)
            yield cohort, removed_ids(workload, users, position)


def soak_changes(users: int, step: int) -> list[dict[str, Any]]:
    """The soak's ``step``-th request of a connection: add slot k, then remove it again."""
    slots = pool_size("user_ids", users) // IDS_PER_REQUEST
    position = (step // 2) % slots
    ids = [identifier("user_ids", i, users) for i in range(position * 1000, position * 1000 + 1000)]
    return [{"user_ids": ids, "should_remove": True}] if step % 2 else [{"user_ids": ids}]


def cohort_id(prefix: str, index: int) -> str:
    return f"{prefix}{index}"
