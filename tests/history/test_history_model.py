"""Membership history against a model: random partner syncs, identify merges and deletes replayed
through HTTP, then every past instant read back (segment sizes, pages and previews as of it) and
every user's events, compared with stays kept in Python.

Each operation is followed by a recorded instant, so the state "after operation i" is what the
store must answer as of instant i. A user that was deleted or merged away has no history at all:
the model drops its stays, and every read of the past leaves it out.
"""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import Api, Integration, instant
from tests.support.segments import create_segment, evaluate, leaf
from tests.support.users import alias

POOL = ["u0", "u1", "u2"]
ANONYMOUS = 3  # device ids d0.. and aliases (label l0..) that syncs and deletes may name
# Every example starts from these, so that merges find members to carry over.
PRELUDE: list[tuple[Any, ...]] = [
    ("track", "u0"),
    ("track", "u1"),
    ("anonymous", "device_ids"),
    ("anonymous", "aliases"),
    ("sync", 0, [(False, [("device_ids", "d0"), ("aliases", "l0"), ("user_ids", "u0")])]),
    ("sync", 1, [(False, [("device_ids", "d0"), ("user_ids", "u1")])]),
]

Target = tuple[str, str]  # ("user_ids" | "device_ids" | "aliases", value)
Change = tuple[bool, list[Target]]  # (should_remove, identifiers)


@dataclass
class ModelUser:
    braze_id: str
    external_id: str | None
    created: int  # the operation that created it
    devices: set[str] = field(default_factory=set)
    aliases: set[str] = field(default_factory=set)  # labels; every alias is named "x"
    # cohort -> [entered, left) in operation numbers, left None while in
    stays: dict[str, list[list[int | None]]] = field(default_factory=dict)
    events: list[tuple[int, str, str, str]] = field(default_factory=list)

    def member(self, cohort: str, at: int | None = None) -> bool:
        return any(
            (at is None and left is None)
            or (
                at is not None
                and entered is not None
                and entered <= at
                and (left is None or at < left)
            )
            for entered, left in self.stays.get(cohort, [])
        )

    def enter(self, cohort: str, op: int, cause: str) -> None:
        self.stays.setdefault(cohort, []).append([op, None])
        self.events.append((op, cohort, "entered", cause))

    def leave(self, cohort: str, op: int) -> None:
        self.stays[cohort][-1][1] = op
        self.events.append((op, cohort, "left", "partner_sync"))


class Model:
    def __init__(self, api: Api, integration: Integration, cohorts: list[str]) -> None:
        self.api = api
        self.integration = integration
        self.cohorts = cohorts
        self.users: dict[str, ModelUser] = {}  # alive users by braze id
        self.gone: set[str] = set()  # braze ids of users deleted or merged away
        self.created_anonymous: list[Target] = []
        self.instants: list[datetime] = []

    @property
    def headers(self) -> dict[str, str]:
        return self.integration.workspace.headers

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self.api.expect(self.api.client.post(path, json=body, headers=self.headers), 201)

    def braze_id(self, **query: Any) -> str:
        users = self.post("/users/export/ids", query)["users"]
        assert len(users) == 1, users
        return str(users[0]["braze_id"])

    # --- who an identifier names ------------------------------------------------------------
    def by_external_id(self, external_id: str) -> ModelUser | None:
        return next((u for u in self.users.values() if u.external_id == external_id), None)

    def holder(self, target: Target) -> ModelUser | None:
        kind, value = target
        if kind == "user_ids":
            return self.by_external_id(value)
        if kind == "device_ids":
            return next((u for u in self.users.values() if value in u.devices), None)
        return next((u for u in self.users.values() if value in u.aliases), None)

    def matched(self, target: Target) -> ModelUser | None:
        """Cohort import matches a device only while its owner has no external id."""
        found = self.holder(target)
        if found is not None and target[0] == "device_ids" and found.external_id is not None:
            return None
        return found

    # --- operations -------------------------------------------------------------------------
    def run(self, operation: tuple[Any, ...]) -> None:
        op = len(self.instants)
        getattr(self, operation[0])(op, *operation[1:])
        self.instants.append(instant())

    def track(self, op: int, external_id: str) -> None:
        self.post("/users/track", {"attributes": [{"external_id": external_id}]})
        if self.by_external_id(external_id) is None:
            found = ModelUser(self.braze_id(external_ids=[external_id]), external_id, op)
            self.users[found.braze_id] = found

    def anonymous(self, op: int, kind: str) -> None:
        number = sum(target[0] == kind for target in self.created_anonymous)
        if kind == "device_ids":
            device = f"d{number}"
            self.post("/users/devices", {"devices": [{"device_id": device}]})
            found = ModelUser(self.braze_id(device_id=device), None, op, devices={device})
        else:
            label = f"l{number}"
            self.post("/users/alias/new", {"user_aliases": [alias("x", label)]})
            braze_id = self.braze_id(user_aliases=[alias("x", label)])
            found = ModelUser(braze_id, None, op, aliases={label})
        self.created_anonymous.append((kind, device if kind == "device_ids" else label))
        self.users[found.braze_id] = found

    def sync(self, op: int, cohort_index: int, changes: list[Change]) -> None:
        cohort = self.cohorts[cohort_index % len(self.cohorts)]
        body = [_change_object(remove, targets) for remove, targets in changes]
        self.api.synced(self.integration, cohort, *body)
        ending: dict[str, bool] = {}
        for remove, targets in changes:
            for target in targets:
                found = self.matched(target)
                if found is not None:
                    ending[found.braze_id] = not remove
        for braze_id, inside in ending.items():
            user = self.users[braze_id]
            if inside and not user.member(cohort):
                user.enter(cohort, op, "partner_sync")
            elif not inside and user.member(cohort):
                user.leave(cohort, op)

    def identify(self, op: int, pick: int, external_id: str) -> None:
        anonymous = [u for u in self.users.values() if u.external_id is None]
        if not anonymous:
            return
        source = anonymous[pick % len(anonymous)]
        if source.devices:
            device = next(iter(source.devices))
            body: dict[str, Any] = {
                "aliases_to_identify": [],
                "devices_to_identify": [{"external_id": external_id, "device_id": device}],
            }
        else:
            user_alias = alias("x", next(iter(source.aliases)))
            body = {"aliases_to_identify": [{"external_id": external_id, "user_alias": user_alias}]}
        self.post("/users/identify", body)
        kept = self.by_external_id(external_id)
        if kept is None:
            source.external_id = external_id  # identified: the same user, history and all
            return
        for cohort in self.cohorts:
            if source.member(cohort) and not kept.member(cohort):
                kept.enter(cohort, op, "merge")
        kept.devices |= source.devices
        kept.aliases |= source.aliases
        self._forget(source)

    def delete(self, op: int, target: Target | int) -> None:
        if isinstance(target, int):
            if not self.created_anonymous:
                return
            target = self.created_anonymous[target % len(self.created_anonymous)]
        kind, value = target
        if kind == "user_ids":
            body: dict[str, Any] = {"external_ids": [value]}
        elif kind == "device_ids":
            body = {"device_ids": [value]}
        else:
            body = {"user_aliases": [alias("x", value)]}
        found = self.holder(target)
        assert self.post("/users/delete", body)["deleted"] == (found is not None)
        if found is not None:
            self._forget(found)

    def _forget(self, user: ModelUser) -> None:
        del self.users[user.braze_id]
        self.gone.add(user.braze_id)

    # --- what the store must answer ---------------------------------------------------------
    def members_at(self, at: int) -> tuple[dict[str, set[str]], set[str]]:
        members = {
            cohort: {u.braze_id for u in self.users.values() if u.member(cohort, at)}
            for cohort in self.cohorts
        }
        everyone = {u.braze_id for u in self.users.values() if u.created <= at}
        return members, everyone


def _change_object(remove: bool, targets: list[Target]) -> dict[str, Any]:
    change: dict[str, Any] = {"should_remove": remove}
    for kind, value in targets:
        entry: Any = alias("x", value) if kind == "aliases" else value
        change.setdefault(kind, []).append(entry)
    return change


# --- strategies ------------------------------------------------------------------------------

targets = st.one_of(
    st.sampled_from(POOL).map(lambda u: ("user_ids", u)),
    st.integers(0, ANONYMOUS - 1).map(lambda n: ("device_ids", f"d{n}")),
    st.integers(0, ANONYMOUS - 1).map(lambda n: ("aliases", f"l{n}")),
)
identifier_lists = st.lists(targets, min_size=1, max_size=3)


@st.composite
def one_way_request(draw: st.DrawFn) -> list[Change]:
    """Only adds, or only removes."""
    remove = draw(st.booleans())
    return [(remove, ids) for ids in draw(st.lists(identifier_lists, min_size=1, max_size=3))]


@st.composite
def replayed_request(draw: st.DrawFn) -> list[Change]:
    """Adds and removes in any order, one identifier sent twice (so applied in order)."""
    changes = draw(st.lists(st.tuples(st.booleans(), identifier_lists), min_size=1, max_size=3))
    return [*changes, (draw(st.booleans()), [changes[0][1][0]])]


# Adds and removes in any order, each identifier as often as it comes.
free_request = st.lists(st.tuples(st.booleans(), identifier_lists), min_size=1, max_size=3)
requests = st.one_of(one_way_request(), replayed_request(), free_request)

OPERATIONS: dict[str, st.SearchStrategy[tuple[Any, ...]]] = {
    "sync": st.tuples(st.just("sync"), st.integers(0, 2), requests),
    "identify": st.tuples(st.just("identify"), st.integers(0, 10), st.sampled_from(POOL)),
    "track": st.tuples(st.just("track"), st.sampled_from(POOL)),
    "anonymous": st.tuples(st.just("anonymous"), st.sampled_from(["device_ids", "aliases"])),
    "delete": st.tuples(
        st.just("delete"),
        st.one_of(st.sampled_from(POOL).map(lambda u: ("user_ids", u)), st.integers(0, 20)),
    ),
}
# Mostly syncs; merges often enough to find members to carry over; deletes now and then.
KINDS = ["sync"] * 6 + ["identify"] * 2 + ["track", "anonymous", "delete"]
operations = st.sampled_from(KINDS).flatmap(OPERATIONS.__getitem__)


def filters(cohorts: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    leaves = st.builds(
        leaf, st.sampled_from(cohorts), st.sampled_from(["includes_value", "excludes_value"])
    )
    return st.recursive(
        leaves,
        lambda children: st.builds(
            lambda operator, items: {operator: items},
            st.sampled_from(["and", "or"]),
            st.lists(children, min_size=1, max_size=3),
        ),
        max_leaves=5,
    )


# --- the property ----------------------------------------------------------------------------


def braze_ids(users: list[dict[str, Any]]) -> list[str]:
    return [str(u["braze_id"]) for u in users]


def check_segments(model: Model, data: st.DataObject) -> None:
    api, headers = model.api, model.headers
    trees = data.draw(st.lists(filters(model.cohorts), min_size=1, max_size=3), label="filters")
    segments = [(tree, create_segment(api, model.integration.workspace, tree)) for tree in trees]
    moments = st.integers(0, len(model.instants) - 1)
    for at in data.draw(st.lists(moments, min_size=1, max_size=4, unique=True), label="at"):
        as_of = model.instants[at].isoformat()
        members, everyone = model.members_at(at)
        for tree, segment_id in segments:
            expected = evaluate(tree, members, everyone)
            size = api.client.get(
                f"/segments/{segment_id}/size", params={"as_of": as_of}, headers=headers
            )
            assert api.expect(size, 200)["size"] == len(expected), (tree, at)
            limit = data.draw(st.integers(1, 4), label="limit")
            path = f"/segments/{segment_id}/users"
            listed = braze_ids(api.walk_pages(path, headers, limit, {"as_of": as_of}))
            assert len(listed) == len(set(listed)), (tree, at)
            assert set(listed) == expected, (tree, at)
            preview = api.client.post(
                "/segments/preview", json={"filter": tree, "as_of": as_of}, headers=headers
            )
            body = api.expect(preview, 200)
            assert body["size"] == len(expected), (tree, at)
            assert set(braze_ids(body["users"])) == expected, (tree, at)


def check_user_histories(model: Model) -> None:
    api = model.api
    for user in model.users.values():
        events = api.user_history(model.integration.workspace, braze_id=user.braze_id)
        expected = sorted(user.events, key=lambda e: (e[0], e[1]))
        assert [(e["cohort_id"], e["event"], e["cause"]) for e in events] == [
            (cohort, event, cause) for _, cohort, event, cause in expected
        ], user
        assert {e["partner"] for e in events} <= {"amplitude"}
        for event, (op, *_) in zip(events, expected, strict=True):
            at = datetime.fromisoformat(event["at"])
            assert model.instants[op - 1] < at < model.instants[op], (event, op)
    for braze_id in model.gone:
        response = api.client.get(
            "/users/cohort-history", params={"braze_id": braze_id}, headers=model.headers
        )
        assert response.status_code == 404, response.text


def check_cohort_days(model: Model) -> None:
    """All of it happened today (or the check is skipped): today's counts and size."""
    if model.instants[0].date() != model.instants[-1].date():
        return
    for cohort in model.cohorts:
        events = [e for u in model.users.values() for e in u.events if e[1] == cohort]
        entered = sum(e[2] == "entered" for e in events)
        left = sum(e[2] == "left" for e in events)
        size = sum(u.member(cohort) for u in model.users.values())
        assert model.api.cohort_today(model.integration, cohort) == (entered, left, size)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    cohort_count=st.integers(2, 3),
    steps=st.lists(operations, min_size=4, max_size=16),
    data=st.data(),
)
def test_history_matches_the_model(
    api: Api, cohort_count: int, steps: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    integration = api.integration()  # a workspace of its own for every example
    cohorts = [f"c{n}" for n in range(cohort_count)]
    for cohort in cohorts:
        api.synced(integration, cohort, {"user_ids": ["nobody"]})
    model = Model(api, integration, cohorts)
    model.instants.append(instant())  # instant 0: the cohorts exist, nobody does
    for step in [*PRELUDE, *steps]:
        model.run(step)
    check_segments(model, data)
    check_user_histories(model)
    check_cohort_days(model)
