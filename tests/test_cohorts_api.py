"""Cohort reads through HTTP: list, details with recent syncs, members page by page."""

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kohorte.domain.pagination import encode_cursor
from tests.seed import seed_user, seed_users_bulk
from tests.seed_cohorts import add_members, remove_members, seed_cohort, seed_sync, seeding
from tests.support import ADMIN_HEADERS, Api, WorkspaceHandle, bearer

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
COHORT_FIELDS = {
    "partner",
    "cohort_id",
    "name",
    "created_at",
    "updated_at",
    "size",
    "last_synced_at",
}
ODD_IDS = ["a/b", "a/b/c", "with space", "ünïcødé/日本", "100%", "users", "q?x=1#frag", "a+b"]


@pytest.fixture
def workspace(api: Api) -> WorkspaceHandle:
    api.partner("amplitude")
    api.partner("mixpanel")
    return api.create_workspace()


def members_path(cohort_id: str, partner: str = "amplitude") -> str:
    return f"/cohorts/{partner}/{quote(cohort_id, safe='/')}/users"


def detail_path(cohort_id: str, partner: str = "amplitude") -> str:
    return f"/cohorts/{partner}/{quote(cohort_id, safe='/')}"


def walk(api: Api, workspace: WorkspaceHandle, cohort_id: str, limit: int) -> list[Any]:
    return [
        u["external_id"] for u in api.walk_pages(members_path(cohort_id), workspace.headers, limit)
    ]


def seed_members(engine: Engine, workspace: WorkspaceHandle, cohort_id: str, count: int) -> None:
    with seeding(engine) as session:
        ids = (
            seed_users_bulk(session, workspace.id, [f"u{n:04}" for n in range(count)])
            if count
            else []
        )
        seed_cohort(session, workspace.id, "amplitude", cohort_id, members=ids)


# --- GET /cohorts ------------------------------------------------------------------------------


def test_list_shows_every_cohort_with_its_fields(
    client: TestClient, engine: Engine, workspace: WorkspaceHandle
) -> None:
    with seeding(engine) as session:
        users = [seed_user(session, workspace.id, f"u{n}") for n in range(3)]
        seed_cohort(session, workspace.id, "mixpanel", "m", name=None, created_at=T0)
        pk = seed_cohort(session, workspace.id, "amplitude", "a", "Buyers", users, created_at=T0)
        seed_sync(session, pk, T0 + timedelta(hours=1), added=3)
    response = client.get("/cohorts", headers=workspace.headers)
    assert response.status_code == 200
    listed = response.json()["cohorts"]
    assert [set(c) for c in listed] == [COHORT_FIELDS, COHORT_FIELDS]
    assert listed[0] == {
        "partner": "amplitude",
        "cohort_id": "a",
        "name": "Buyers",
        "created_at": "2024-05-01T12:00:00Z",
        "updated_at": "2024-05-01T12:00:00Z",
        "size": 3,
        "last_synced_at": None,
    }
    assert (listed[1]["partner"], listed[1]["cohort_id"], listed[1]["name"]) == (
        "mixpanel",
        "m",
        None,
    )


def test_list_filters_by_partner(
    client: TestClient, engine: Engine, workspace: WorkspaceHandle
) -> None:
    with seeding(engine) as session:
        seed_cohort(session, workspace.id, "amplitude", "a")
        seed_cohort(session, workspace.id, "mixpanel", "m")
    response = client.get("/cohorts", params={"partner": "mixpanel"}, headers=workspace.headers)
    assert [c["cohort_id"] for c in response.json()["cohorts"]] == ["m"]


def test_list_of_a_partner_without_cohorts_is_empty(
    client: TestClient, workspace: WorkspaceHandle
) -> None:
    response = client.get("/cohorts", params={"partner": "amplitude"}, headers=workspace.headers)
    assert response.json() == {"cohorts": []}


def test_list_of_an_unknown_partner_is_404(client: TestClient, workspace: WorkspaceHandle) -> None:
    response = client.get("/cohorts", params={"partner": "heap"}, headers=workspace.headers)
    assert response.status_code == 404
    assert response.json() == {"message": "Partner 'heap' not found"}


@pytest.mark.parametrize("partner", ["", "Heap", "\x00", "\ud800", "a" * 20_000])
def test_list_of_an_impossible_partner_name_is_404(
    client: TestClient, workspace: WorkspaceHandle, partner: str
) -> None:
    query = "partner=" + quote(partner.encode("utf-8", "surrogatepass"))
    response = client.get(f"/cohorts?{query}", headers=workspace.headers)
    assert response.status_code == 404
    assert "Partner" in response.json()["message"]


def test_list_shows_nothing_of_another_workspace(
    client: TestClient, api: Api, engine: Engine, workspace: WorkspaceHandle
) -> None:
    seed_members(engine, workspace, "c", 2)
    other = api.create_workspace("other")
    assert client.get("/cohorts", headers=other.headers).json() == {"cohorts": []}


# --- GET /cohorts/{partner}/{cohort_id} --------------------------------------------------------


def test_detail_adds_the_twenty_newest_syncs(
    client: TestClient, engine: Engine, workspace: WorkspaceHandle
) -> None:
    with seeding(engine) as session:
        pk = seed_cohort(session, workspace.id, "amplitude", "c", "Churners", created_at=T0)
        for minute in range(25):
            seed_sync(session, pk, T0 + timedelta(minutes=minute), minute, 1, 2)
    body = client.get("/cohorts/amplitude/c", headers=workspace.headers).json()
    assert set(body) == COHORT_FIELDS | {"recent_syncs"}
    assert (body["cohort_id"], body["name"], body["created_at"]) == (
        "c",
        "Churners",
        "2024-05-01T12:00:00Z",
    )
    syncs = body["recent_syncs"]
    assert len(syncs) == 20
    assert syncs[0] == {
        "received_at": "2024-05-01T12:24:00Z",
        "added": 24,
        "removed": 1,
        "unmatched": 2,
    }
    assert [s["added"] for s in syncs] == list(range(24, 4, -1))


def test_detail_of_a_cohort_never_synced_has_no_syncs(
    client: TestClient, engine: Engine, workspace: WorkspaceHandle
) -> None:
    seed_members(engine, workspace, "c", 0)
    body = client.get("/cohorts/amplitude/c", headers=workspace.headers).json()
    assert body["recent_syncs"] == []
    assert body["size"] == 0


@pytest.mark.parametrize("cohort_id", ODD_IDS)
def test_ids_with_slashes_spaces_and_non_ascii_are_reachable(
    client: TestClient, engine: Engine, workspace: WorkspaceHandle, cohort_id: str
) -> None:
    seed_members(engine, workspace, cohort_id, 3)
    detail = client.get(detail_path(cohort_id), headers=workspace.headers)
    assert detail.status_code == 200, detail.text
    assert detail.json()["cohort_id"] == cohort_id
    fully_encoded = client.get(
        f"/cohorts/amplitude/{quote(cohort_id, safe='')}", headers=workspace.headers
    )
    assert fully_encoded.json()["cohort_id"] == cohort_id
    members = client.get(members_path(cohort_id), headers=workspace.headers)
    assert [u["external_id"] for u in members.json()["users"]] == ["u0000", "u0001", "u0002"]


def test_a_trailing_users_selects_the_members_route(
    client: TestClient, engine: Engine, workspace: WorkspaceHandle
) -> None:
    seed_members(engine, workspace, "users", 1)
    assert (
        client.get("/cohorts/amplitude/users", headers=workspace.headers).json()["cohort_id"]
        == "users"
    )
    members = client.get("/cohorts/amplitude/users/users", headers=workspace.headers).json()
    assert members["users"][0]["external_id"] == "u0000"


def test_unknown_cohort_is_404(
    client: TestClient, engine: Engine, workspace: WorkspaceHandle
) -> None:
    seed_members(engine, workspace, "c", 0)
    response = client.get("/cohorts/mixpanel/c", headers=workspace.headers)
    assert response.status_code == 404
    assert response.json() == {"message": "Cohort 'c' of partner 'mixpanel' not found"}
    assert client.get("/cohorts/heap/c", headers=workspace.headers).status_code == 404


@pytest.mark.parametrize("raw", ["%00", "a%00b", "%ED%A0%80", "%FF", "", "x" * 5000])
def test_impossible_cohort_ids_are_404(
    client: TestClient, workspace: WorkspaceHandle, raw: str
) -> None:
    for path in (f"/cohorts/amplitude/{raw}", f"/cohorts/amplitude/{raw}/users"):
        response = client.get(path, headers=workspace.headers)
        assert response.status_code == 404, path
        assert "not found" in response.json()["message"]


def test_a_cohort_of_another_workspace_is_404(
    client: TestClient, api: Api, engine: Engine, workspace: WorkspaceHandle
) -> None:
    seed_members(engine, workspace, "c", 2)
    other = api.create_workspace("other")
    assert client.get("/cohorts/amplitude/c", headers=other.headers).status_code == 404
    assert client.get("/cohorts/amplitude/c/users", headers=other.headers).status_code == 404


# --- GET /cohorts/{partner}/{cohort_id}/users --------------------------------------------------


def test_members_are_listed_as_users(
    client: TestClient, engine: Engine, workspace: WorkspaceHandle
) -> None:
    with seeding(engine) as session:
        known = seed_user(session, workspace.id, "ext-1", aliases=[("email", "a@x.io")])
        anonymous = seed_user(session, workspace.id, None, devices=["dev-1"])
        seed_cohort(session, workspace.id, "amplitude", "c", members=[anonymous, known])
    body = client.get("/cohorts/amplitude/c/users", headers=workspace.headers).json()
    assert body["next_cursor"] is None
    first, second = body["users"]
    assert set(first) == {"external_id", "braze_id", "user_aliases", "devices"}
    assert first["external_id"] == "ext-1"
    assert first["user_aliases"] == [{"alias_name": "a@x.io", "alias_label": "email"}]
    assert (second["external_id"], second["devices"]) == (None, [{"device_id": "dev-1"}])
    assert len(second["braze_id"]) == 24


def test_members_walk_returns_every_member_exactly_once(
    api: Api, engine: Engine, workspace: WorkspaceHandle
) -> None:
    seed_members(engine, workspace, "c", 23)
    expected = [f"u{n:04}" for n in range(23)]
    for limit in (1, 5, 23, 1000):
        assert walk(api, workspace, "c", limit) == expected


def test_default_page_is_one_hundred_and_a_thousand_is_allowed(
    client: TestClient, engine: Engine, workspace: WorkspaceHandle
) -> None:
    seed_members(engine, workspace, "c", 1001)
    default = client.get("/cohorts/amplitude/c/users", headers=workspace.headers).json()
    assert len(default["users"]) == 100
    assert default["next_cursor"] is not None
    params = {"limit": 1000}
    biggest = client.get(
        "/cohorts/amplitude/c/users", params=params, headers=workspace.headers
    ).json()
    assert len(biggest["users"]) == 1000
    rest = client.get(
        "/cohorts/amplitude/c/users",
        params={"limit": 1000, "cursor": biggest["next_cursor"]},
        headers=workspace.headers,
    ).json()
    assert [u["external_id"] for u in rest["users"]] == ["u1000"]
    assert rest["next_cursor"] is None


@pytest.mark.parametrize("limit", ["0", "-1", "1001", "99999999999999999999999", "abc", "1.5", ""])
def test_limit_out_of_bounds_is_400(
    client: TestClient, engine: Engine, workspace: WorkspaceHandle, limit: str
) -> None:
    seed_members(engine, workspace, "c", 1)
    response = client.get(f"/cohorts/amplitude/c/users?limit={limit}", headers=workspace.headers)
    assert response.status_code == 400
    assert "limit" in response.json()["message"]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "bm90IGpzb24",
        "eyJhZnRlciI6ImEifQ",
        "e30",
        encode_cursor(2**70),
        "%00",
        "%ED%A0%80",
    ],
)
def test_invalid_cursor_is_400(
    client: TestClient, engine: Engine, workspace: WorkspaceHandle, cursor: str
) -> None:
    seed_members(engine, workspace, "c", 1)
    response = client.get(f"/cohorts/amplitude/c/users?cursor={cursor}", headers=workspace.headers)
    assert response.status_code == 400
    assert response.json() == {
        "message": "cursor is not valid; pass next_cursor from the previous page"
    }


def test_members_present_throughout_a_walk_are_returned_exactly_once_despite_changes(
    client: TestClient, engine: Engine, workspace: WorkspaceHandle
) -> None:
    with seeding(engine) as session:
        early = seed_users_bulk(session, workspace.id, [f"early{n}" for n in range(4)])
        ids = seed_users_bulk(session, workspace.id, [f"u{n:02}" for n in range(30)])
        late = seed_users_bulk(session, workspace.id, [f"late{n}" for n in range(4)])
        pk = seed_cohort(session, workspace.id, "amplitude", "c", members=ids)
    leaving = [ids[0], ids[7], ids[15], ids[29]]
    joining = [user for pair in zip(early, late, strict=True) for user in pair]
    seen: list[str] = []
    params: dict[str, Any] = {"limit": 7}
    while True:
        page = client.get(
            "/cohorts/amplitude/c/users", params=params, headers=workspace.headers
        ).json()
        seen.extend(user["external_id"] for user in page["users"])
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
        with seeding(engine) as session:
            add_members(session, pk, joining[:2])
            remove_members(session, pk, leaving[:1])
        joining, leaving = joining[2:], leaving[1:]
    assert len(seen) == len(set(seen)), "a member was returned twice"
    throughout = {f"u{n:02}" for n in range(30)} - {"u00", "u07", "u15", "u29"}
    assert throughout <= set(seen)
    assert "u29" not in seen  # it left before the walk reached it


def test_members_of_an_unknown_cohort_is_404(
    client: TestClient, workspace: WorkspaceHandle
) -> None:
    response = client.get("/cohorts/amplitude/nope/users", headers=workspace.headers)
    assert response.status_code == 404
    assert response.json() == {"message": "Cohort 'nope' of partner 'amplitude' not found"}


# --- credentials and permissions ---------------------------------------------------------------

ROUTES = [
    "/cohorts",
    "/cohorts?partner=amplitude",
    "/cohorts/amplitude/c",
    "/cohorts/amplitude/c/users",
]


@pytest.mark.parametrize("path", ROUTES)
def test_a_key_without_cohorts_read_gets_403_naming_it(
    client: TestClient, api: Api, engine: Engine, workspace: WorkspaceHandle, path: str
) -> None:
    seed_members(engine, workspace, "c", 1)
    others = ["users.track", "segments.read", "usage.read", "integrations.manage"]
    key = api.create_rest_key(workspace.id, others)
    response = client.get(path, headers=bearer(key))
    assert response.status_code == 403
    assert "cohorts.read" in response.json()["message"]
    allowed = api.create_rest_key(workspace.id, ["cohorts.read"])
    assert client.get(path, headers=bearer(allowed)).status_code == 200


@pytest.mark.parametrize("path", ROUTES)
def test_cohorts_need_a_workspace_key(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers=bearer("krest_not-a-key")).status_code == 401
    assert client.get(path, headers=ADMIN_HEADERS).status_code == 401
