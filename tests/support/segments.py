"""Helpers for the segment tests: a workspace of users and cohorts, and a reference evaluator.

``Universe`` builds the data segments are evaluated over the way clients do: users through
``/users/track``, cohorts and their members through the partner cohort import endpoints.
"""

import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from tests.support.api import Api, Integration, WorkspaceHandle

SYNC_BATCH = 1000


class Universe:
    """One workspace with users (by external id) and partner cohorts (by cohort id)."""

    def __init__(self, api: Api, partner: str = "amplitude") -> None:
        self.api = api
        self.partner = partner
        self.workspace: WorkspaceHandle = api.create_workspace()
        self.integration: Integration = api.integration(self.workspace, partner)
        self.users: list[str] = []
        self.members: dict[str, set[str]] = {}

    @property
    def headers(self) -> dict[str, str]:
        return self.workspace.headers

    def add_users(self, external_ids: Iterable[str]) -> None:
        wanted = list(external_ids)
        self.api.track(self.workspace, *wanted)
        self.users += wanted

    def add_cohort(self, cohort_id: str, name: str | None = None) -> None:
        """A named cohort, or (without a name) one created by a sync that matches nobody."""
        if name is None:
            self._sync(cohort_id, [{"user_ids": [f"nobody-{cohort_id}"]}])
        else:
            self.api.expect(self.api.name_cohort(self.integration, cohort_id, name), 201)
        self.members[cohort_id] = set()

    def add_members(self, cohort_id: str, external_ids: Iterable[str]) -> None:
        wanted = sorted(set(external_ids))
        for start in range(0, len(wanted), SYNC_BATCH):
            self._sync(cohort_id, [{"user_ids": wanted[start : start + SYNC_BATCH]}])
        self.members[cohort_id] |= set(wanted)

    def remove_members(self, cohort_id: str, external_ids: Iterable[str]) -> None:
        gone = sorted(set(external_ids))
        for start in range(0, len(gone), SYNC_BATCH):
            batch = gone[start : start + SYNC_BATCH]
            self._sync(cohort_id, [{"user_ids": batch, "should_remove": True}])
        self.members[cohort_id] -= set(gone)

    def _sync(self, cohort_id: str, changes: list[dict[str, Any]]) -> None:
        self.api.expect(self.api.sync(self.integration, cohort_id, changes), 201)

    def reference(self, tree: dict[str, Any]) -> set[str]:
        """The external ids a filter selects, computed with Python sets."""
        return evaluate(tree, self.members, set(self.users))


def create_segment(api: Api, workspace: WorkspaceHandle, tree: dict[str, Any]) -> str:
    """A saved segment of the filter; returns its id."""
    response = api.client.post(
        "/segments", json={"name": "s", "filter": tree}, headers=workspace.headers
    )
    return str(api.expect(response, 201)["id"])


@dataclass(frozen=True)
class SegmentReads:
    """A saved segment read every way: its size, its users page by page, and its export."""

    size: int
    users: list[dict[str, Any]]
    export: list[dict[str, Any]]


def read_segment(
    api: Api, workspace: WorkspaceHandle, segment_id: str, as_of: str, limit: int = 100
) -> SegmentReads:
    """The segment as of an instant, through size, users (``limit`` a page) and export."""
    params = {"as_of": as_of}
    headers = workspace.headers
    size = api.client.get(f"/segments/{segment_id}/size", params=params, headers=headers)
    users = api.walk_pages(f"/segments/{segment_id}/users", headers, limit, params)
    export = api.client.get(f"/segments/{segment_id}/export", params=params, headers=headers)
    assert export.status_code == 200, export.text
    lines = [json.loads(line) for line in export.text.splitlines()]
    return SegmentReads(api.expect(size, 200)["size"], users, lines)


def preview_as_of(
    api: Api, workspace: WorkspaceHandle, tree: dict[str, Any], as_of: str
) -> dict[str, Any]:
    response = api.client.post(
        "/segments/preview", json={"filter": tree, "as_of": as_of}, headers=workspace.headers
    )
    found: dict[str, Any] = api.expect(response, 200)
    return found


def leaf(cohort_id: str, op: str = "includes_value", partner: str = "amplitude") -> dict[str, str]:
    return {"filter": f"{partner}_cohorts", "op": op, "value": cohort_id}


def evaluate(tree: dict[str, Any], members: dict[str, set[str]], everyone: set[str]) -> set[str]:
    if "and" in tree:
        return set.intersection(*(evaluate(t, members, everyone) for t in tree["and"]))
    if "or" in tree:
        return set.union(*(evaluate(t, members, everyone) for t in tree["or"]))
    cohort = members.get(tree["value"], set())
    return cohort if tree["op"] == "includes_value" else everyone - cohort


def random_filter(rng: random.Random, cohort_ids: list[str], depth: int = 3) -> dict[str, Any]:
    """A random filter over the given cohorts, at most ``depth`` levels deep."""
    if depth <= 1 or rng.random() < 0.35:
        return leaf(rng.choice(cohort_ids), rng.choice(["includes_value", "excludes_value"]))
    operator = rng.choice(["and", "or"])
    return {operator: [random_filter(rng, cohort_ids, depth - 1) for _ in range(rng.randint(1, 3))]}


def external_ids(users: list[dict[str, Any]]) -> list[str]:
    return [user["external_id"] for user in users]


def exactly_once(listed: list[str]) -> set[str]:
    """The external ids listed, each of them listed once."""
    assert len(listed) == len(set(listed)), f"a member was listed twice: {listed}"
    return set(listed)
