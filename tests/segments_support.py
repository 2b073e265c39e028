"""Helpers for the segment tests: a workspace of users and cohorts, and a reference evaluator.

``Universe`` builds the data a segment is evaluated over. Users and memberships go straight into
the store in short committed transactions (fast enough for thousands of rows, and never holding
SQLite's write lock across an HTTP call); the workspace, its key and the partner come through
the HTTP API like any client's.
"""

import random
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, delete, insert
from sqlalchemy.orm import Session

from kohorte.store.cohort_sizes import recount_cohort_sizes
from kohorte.store.database import make_session_factory
from kohorte.store.models import Cohort, CohortMembership
from tests.seed import seed_users_bulk
from tests.support import Api, WorkspaceHandle


class Universe:
    """One workspace with users (by external id) and partner cohorts (by cohort id)."""

    def __init__(self, api: Api, engine: Engine, partner: str = "amplitude") -> None:
        self.api = api
        self.partner = partner
        api.partner(partner)
        self.workspace: WorkspaceHandle = api.create_workspace()
        self._sessions = make_session_factory(engine)
        self.user_ids: dict[str, int] = {}
        self.cohort_pks: dict[str, int] = {}
        self.members: dict[str, set[str]] = {}

    @property
    def headers(self) -> dict[str, str]:
        return self.workspace.headers

    def add_users(self, external_ids: Iterable[str]) -> None:
        wanted = list(external_ids)
        with self._sessions() as session:
            ids = seed_users_bulk(session, self.workspace.id, wanted)
            session.commit()
        self.user_ids.update(zip(wanted, ids, strict=True))

    def add_cohort(self, cohort_id: str, name: str | None = None) -> None:
        with self._sessions() as session:
            cohort = Cohort(
                workspace_id=self.workspace.id,
                partner_name=self.partner,
                cohort_id=cohort_id,
                name=name,
            )
            session.add(cohort)
            session.commit()
            self.cohort_pks[cohort_id] = cohort.id
        self.members[cohort_id] = set()

    def add_members(self, cohort_id: str, external_ids: Iterable[str]) -> None:
        fresh = set(external_ids) - self.members[cohort_id]
        if fresh:
            pk = self.cohort_pks[cohort_id]
            rows = [{"cohort_pk": pk, "user_id": self.user_ids[e]} for e in sorted(fresh)]
            self._write(lambda session: session.execute(insert(CohortMembership), rows), pk)
        self.members[cohort_id] |= fresh

    def remove_members(self, cohort_id: str, external_ids: Iterable[str]) -> None:
        gone = set(external_ids) & self.members[cohort_id]
        pk = self.cohort_pks[cohort_id]
        user_ids = [self.user_ids[e] for e in gone]
        self._write(
            lambda session: session.execute(
                delete(CohortMembership).where(
                    CohortMembership.cohort_pk == pk, CohortMembership.user_id.in_(user_ids)
                )
            ),
            pk,
        )
        self.members[cohort_id] -= gone

    def _write(self, change: Any, cohort_pk: int) -> None:
        with self._sessions() as session:
            change(session)
            recount_cohort_sizes(session, [cohort_pk])
            session.commit()

    def reference(self, tree: dict[str, Any]) -> set[str]:
        """The external ids a filter selects, computed with Python sets."""
        return evaluate(tree, self.members, set(self.user_ids))


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


def session_for(engine: Engine) -> Session:
    return make_session_factory(engine)()
