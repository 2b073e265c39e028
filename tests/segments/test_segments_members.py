"""Who is in a segment, over HTTP: sizes, pages, previews and exports against Python sets."""

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete

from kohorte.domain.pagination import encode_cursor
from kohorte.domain.segments import members as segment_members
from kohorte.store import segment_members as stored_members
from kohorte.store.database import make_session_factory
from kohorte.store.models import Cohort
from kohorte.store.user_views import UserView
from kohorte.store.user_views import user_views as real_views
from tests.support import Api
from tests.support.segments import (
    Universe,
    create_segment,
    exactly_once,
    external_ids,
    leaf,
    random_filter,
)

COHORTS = ["c1", "c2", "c3", "c4"]


def build(api: Api, engine: Engine, seed: int, users: int = 90) -> Universe:
    """Users in random cohorts; some users are in no cohort at all."""
    rng = random.Random(seed)
    world = Universe(api)
    everyone = [f"u{n:03}" for n in range(users)]
    world.add_users(everyone)
    for cohort_id in COHORTS:
        world.add_cohort(cohort_id)
        world.add_members(cohort_id, [u for u in everyone if rng.random() < rng.uniform(0.2, 0.6)])
    return world


def walk(client: TestClient, world: Universe, segment_id: str, limit: int) -> list[str]:
    users = world.api.walk_pages(f"/segments/{segment_id}/users", world.headers, limit=limit)
    return external_ids(users)


def export(client: TestClient, world: Universe, segment_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/segments/{segment_id}/export", headers=world.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


def size(client: TestClient, world: Universe, segment_id: str) -> int:
    response = client.get(f"/segments/{segment_id}/size", headers=world.headers)
    assert response.status_code == 200
    return int(response.json()["size"])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_filters_match_python_sets(
    client: TestClient, api: Api, engine: Engine, seed: int
) -> None:
    world = build(api, engine, seed)
    rng = random.Random(seed * 7919)
    for _ in range(12):
        tree = random_filter(rng, COHORTS)
        expected = world.reference(tree)
        segment_id = create_segment(world.api, world.workspace, tree)
        assert size(client, world, segment_id) == len(expected), tree
        walked = walk(client, world, segment_id, limit=rng.randint(1, 40))
        assert exactly_once(walked) == expected, tree
        # The export and every page list members in the same stable order.
        assert external_ids(export(client, world, segment_id)) == walked, tree
        preview = client.post("/segments/preview", json={"filter": tree}, headers=world.headers)
        assert preview.json()["size"] == len(expected)
        assert external_ids(preview.json()["users"]) == walked[:100]


@pytest.mark.parametrize(
    ("tree", "reference"),
    [
        (leaf("c1"), lambda m, e: m["c1"]),
        (leaf("c1", "excludes_value"), lambda m, e: e - m["c1"]),
        ({"and": [leaf("c1"), leaf("c2")]}, lambda m, e: m["c1"] & m["c2"]),
        ({"or": [leaf("c1"), leaf("c2")]}, lambda m, e: m["c1"] | m["c2"]),
        ({"and": [leaf("c1"), leaf("c2", "excludes_value")]}, lambda m, e: m["c1"] - m["c2"]),
        (
            {"or": [leaf("c1", "excludes_value"), leaf("c2", "excludes_value")]},
            lambda m, e: e - (m["c1"] & m["c2"]),
        ),
        (
            {"and": [{"or": [leaf("c1"), leaf("c3")]}, leaf("c2", "excludes_value")]},
            lambda m, e: (m["c1"] | m["c3"]) - m["c2"],
        ),
    ],
)
def test_each_operator_and_combination(
    client: TestClient,
    api: Api,
    engine: Engine,
    tree: dict[str, Any],
    reference: Callable[[dict[str, set[str]], set[str]], set[str]],
) -> None:
    world = build(api, engine, seed=11, users=40)
    expected = reference(world.members, set(world.users))
    assert expected == world.reference(tree)
    segment_id = create_segment(world.api, world.workspace, tree)
    assert size(client, world, segment_id) == len(expected)
    assert exactly_once(walk(client, world, segment_id, limit=7)) == expected


def test_users_in_no_cohort_match_excludes(client: TestClient, api: Api, engine: Engine) -> None:
    world = Universe(api)
    world.add_users(["in", "out"])
    world.add_cohort("c1")
    world.add_members("c1", ["in"])
    other = Universe(api)
    other.add_users(["elsewhere"])
    segment_id = create_segment(world.api, world.workspace, leaf("c1", "excludes_value"))
    assert walk(client, world, segment_id, limit=10) == ["out"]
    assert size(client, world, segment_id) == 1


def test_members_are_listed_with_aliases_and_devices(client: TestClient, api: Api) -> None:
    world = Universe(api)
    world.add_users(["known"])
    api.add_aliases(
        world.workspace, [{"external_id": "known", "alias_name": "42", "alias_label": "crm"}]
    )
    api.add_devices(world.workspace, [{"device_id": "dev-1"}])
    world.add_cohort("c1")
    sync = api.sync(world.integration, "c1", [{"user_ids": ["known"], "device_ids": ["dev-1"]}])
    assert api.expect(sync, 201)["added"] == 2
    segment_id = create_segment(world.api, world.workspace, leaf("c1"))
    page = client.get(f"/segments/{segment_id}/users", headers=world.headers).json()
    assert page["next_cursor"] is None
    first, second = page["users"]
    assert first["external_id"] == "known"
    assert first["user_aliases"] == [{"alias_name": "42", "alias_label": "crm"}]
    assert second["external_id"] is None
    assert second["devices"] == [{"device_id": "dev-1"}]
    assert set(first) == {"external_id", "braze_id", "user_aliases", "devices"}
    assert export(client, world, segment_id) == page["users"]


def test_page_parameters_are_checked(client: TestClient, api: Api, engine: Engine) -> None:
    world = build(api, engine, seed=5, users=10)
    path = f"/segments/{create_segment(world.api, world.workspace, leaf('c1'))}/users"
    for params in [
        {"limit": 0},
        {"limit": 1001},
        {"limit": "x"},
        {"limit": 10**30},
        {"cursor": "not-a-cursor"},
        {"cursor": "\u0000"},
        {"cursor": encode_cursor(2**70)},
        {"cursor": encode_cursor(-1)},
    ]:
        response = client.get(path, params=params, headers=world.headers)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["message"]
    assert client.get(path, params={"limit": 1000}, headers=world.headers).status_code == 200


def test_a_vanished_cohort_counts_as_empty(client: TestClient, api: Api, engine: Engine) -> None:
    world = build(api, engine, seed=8, users=20)
    includes = create_segment(world.api, world.workspace, leaf("c1"))
    excludes = create_segment(world.api, world.workspace, leaf("c1", "excludes_value"))
    with make_session_factory(engine)() as session:
        # No endpoint deletes a cohort; removing its partner would, so the row goes directly.
        session.execute(delete(Cohort).where(Cohort.cohort_id == "c1"))
        session.commit()
    assert size(client, world, includes) == 0
    assert size(client, world, excludes) == 20
    details = client.get(
        "/segments/details", params={"segment_id": includes}, headers=world.headers
    ).json()
    assert details["text_description"] == "Amplitude Cohorts includes 'c1'"


class Churn:
    """Another client: adds and removes members between reads, remembering who was where."""

    def __init__(self, world: Universe, seed: int) -> None:
        self.world = world
        self.rng = random.Random(seed)
        self.ever: set[str] = set()
        self.throughout: set[str] | None = None
        self.tree = {"and": [leaf("c1"), leaf("c2", "excludes_value")]}
        self.observe()

    def observe(self) -> None:
        now = self.world.reference(self.tree)
        self.ever |= now
        self.throughout = now if self.throughout is None else self.throughout & now

    def step(self) -> None:
        everyone = sorted(self.world.users)
        self.world.add_members("c1", self.rng.sample(everyone, 6))
        self.world.remove_members("c1", self.rng.sample(everyone, 6))
        self.world.add_members("c2", self.rng.sample(everyone, 3))
        self.world.remove_members("c2", self.rng.sample(everyone, 3))
        self.observe()

    def check(self, returned: list[str]) -> None:
        assert len(returned) == len(set(returned)), "a member was returned twice"
        assert self.throughout is not None
        assert self.throughout <= set(returned), "a member present throughout was missed"
        assert set(returned) <= self.ever, "a user who was never a member was returned"


@pytest.mark.parametrize("seed", [21, 22])
def test_pages_are_exactly_once_while_cohorts_change(
    client: TestClient, api: Api, engine: Engine, seed: int
) -> None:
    world = build(api, engine, seed, users=150)
    churn = Churn(world, seed)
    segment_id = create_segment(world.api, world.workspace, churn.tree)
    returned: list[str] = []
    params: dict[str, Any] = {"limit": 9}
    while True:
        page = client.get(f"/segments/{segment_id}/users", params=params, headers=world.headers)
        returned += external_ids(page.json()["users"])
        if page.json()["next_cursor"] is None:
            break
        params["cursor"] = page.json()["next_cursor"]
        churn.step()
    churn.check(returned)
    assert churn.throughout != churn.ever, "the walk should have seen changes"


def test_export_is_exactly_once_while_cohorts_change(
    client: TestClient, api: Api, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build(api, engine, seed=31, users=150)
    churn = Churn(world, 31)
    segment_id = create_segment(world.api, world.workspace, churn.tree)

    def views_then_churn(session: Any, ids: list[int]) -> list[UserView]:
        # Another client writes while the export's read is in progress.
        found = real_views(session, ids)
        churn.step()
        return found

    monkeypatch.setattr(segment_members, "EXPORT_BATCH", 8)
    monkeypatch.setattr(f"{stored_members.__name__}.user_views", views_then_churn)
    returned = external_ids(export(client, world, segment_id))
    churn.check(returned)
    assert len(returned) > 8


def test_export_streams_in_batches(
    client: TestClient, api: Api, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build(api, engine, seed=41, users=120)
    segment_id = create_segment(world.api, world.workspace, leaf("c3", "excludes_value"))
    batches: list[int] = []

    def counting_views(session: Any, ids: list[int]) -> list[UserView]:
        batches.append(len(ids))
        return real_views(session, ids)

    monkeypatch.setattr(segment_members, "EXPORT_BATCH", 25)
    monkeypatch.setattr(f"{stored_members.__name__}.user_views", counting_views)
    exported = external_ids(export(client, world, segment_id))
    expected = set(world.users) - world.members["c3"]
    assert exactly_once(exported) == expected
    assert max(batches) == 25
    assert sum(batches) == len(expected)
