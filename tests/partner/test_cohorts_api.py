"""Cohort reads through HTTP, with cohorts filled the way partners fill them."""

from datetime import datetime
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from kohorte.domain.pagination import encode_cursor
from tests.support import ADMIN_HEADERS, Api, Integration, bearer
from tests.support.partner import sync

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
CURSOR_MESSAGE = "cursor is not valid; pass next_cursor from the previous page"
MAX_PAGES = 200  # a walk that never ends fails instead of hanging


@pytest.fixture
def amplitude(api: Api) -> Integration:
    return api.integration(partner="amplitude")


def detail_path(cohort_id: str, partner: str = "amplitude") -> str:
    return f"/cohorts/{partner}/{quote(cohort_id, safe='/')}"


def members_path(cohort_id: str, partner: str = "amplitude") -> str:
    return detail_path(cohort_id, partner) + "/users"


def fill(api: Api, integration: Integration, cohort_id: str, external_ids: list[str]) -> None:
    """Users with these external ids, created in this order, all added to the cohort."""
    api.track(integration.workspace, *external_ids)
    for start in range(0, len(external_ids), 1000):
        sync(api, integration, [{"user_ids": external_ids[start : start + 1000]}], cohort_id)


def names(count: int, prefix: str = "u") -> list[str]:
    return [f"{prefix}{n:04}" for n in range(count)]


def get(client: TestClient, integration: Integration, path: str, **params: Any) -> Any:
    # An empty params mapping would drop a query string written into the path.
    return client.get(path, params=params or None, headers=integration.workspace.headers)


# --- GET /cohorts ------------------------------------------------------------------------------


def test_list_shows_every_cohort_with_its_fields(
    api: Api, client: TestClient, amplitude: Integration
) -> None:
    mixpanel = api.integration(amplitude.workspace, "mixpanel")
    api.expect(api.name_cohort(amplitude, "a", "Buyers", "2024-01-21T19:20:30+05:00"), 201)
    fill(api, amplitude, "a", ["x", "y", "z"])
    sync(api, mixpanel, [{"user_ids": ["nobody"]}], "m")
    listed = get(client, amplitude, "/cohorts").json()["cohorts"]
    assert [set(cohort) for cohort in listed] == [COHORT_FIELDS, COHORT_FIELDS]
    named, unnamed = listed
    assert (named["partner"], named["cohort_id"], named["name"]) == ("amplitude", "a", "Buyers")
    assert (named["created_at"], named["size"]) == ("2024-01-21T14:20:30Z", 3)
    assert datetime.fromisoformat(named["last_synced_at"]) >= datetime.fromisoformat(
        named["updated_at"]
    )
    assert (unnamed["partner"], unnamed["cohort_id"], unnamed["name"]) == ("mixpanel", "m", None)
    assert unnamed["size"] == 0
    assert unnamed["created_at"] == unnamed["last_synced_at"]


def test_a_named_cohort_never_synced_has_no_last_sync(
    api: Api, client: TestClient, amplitude: Integration
) -> None:
    api.expect(api.name_cohort(amplitude, "a"), 201)
    (cohort,) = get(client, amplitude, "/cohorts").json()["cohorts"]
    assert (cohort["size"], cohort["last_synced_at"]) == (0, None)


def test_list_filters_by_partner(api: Api, client: TestClient, amplitude: Integration) -> None:
    mixpanel = api.integration(amplitude.workspace, "mixpanel")
    fill(api, amplitude, "a", ["x"])
    fill(api, mixpanel, "m", ["y"])
    only = get(client, amplitude, "/cohorts", partner="mixpanel").json()["cohorts"]
    assert [(c["partner"], c["cohort_id"]) for c in only] == [("mixpanel", "m")]


def test_list_of_a_partner_without_cohorts_is_empty(
    api: Api, client: TestClient, amplitude: Integration
) -> None:
    api.partner("mixpanel")
    fill(api, amplitude, "a", ["x"])
    assert get(client, amplitude, "/cohorts", partner="mixpanel").json() == {"cohorts": []}


def test_list_of_an_unknown_partner_is_404(client: TestClient, amplitude: Integration) -> None:
    response = get(client, amplitude, "/cohorts", partner="heap")
    assert response.status_code == 404
    assert response.json() == {"message": "Partner 'heap' not found"}


@pytest.mark.parametrize("partner", ["", "Heap", "\x00", "\ud800", "a" * 20_000])
def test_list_of_an_impossible_partner_name_is_404(
    client: TestClient, amplitude: Integration, partner: str
) -> None:
    query = "partner=" + quote(partner.encode("utf-8", "surrogatepass"))
    response = get(client, amplitude, f"/cohorts?{query}")
    assert response.status_code == 404
    assert "Partner" in response.json()["message"]


def test_list_shows_nothing_of_another_workspace(
    api: Api, client: TestClient, amplitude: Integration
) -> None:
    fill(api, amplitude, "c", ["x"])
    other = api.integration(api.create_workspace("other"), "amplitude")
    assert get(client, other, "/cohorts").json() == {"cohorts": []}
    assert get(client, other, "/cohorts", partner="amplitude").json() == {"cohorts": []}


# --- GET /cohorts/{partner}/{cohort_id} --------------------------------------------------------


def test_detail_adds_the_twenty_newest_accepted_non_empty_syncs(
    api: Api, client: TestClient, amplitude: Integration
) -> None:
    api.track(amplitude.workspace, "member")
    for k in range(25):
        ghosts = [f"ghost-{k}-{n}" for n in range(k)]
        sync(api, amplitude, [{"user_ids": ["member", *ghosts], "should_remove": k % 2 == 1}], "c")
        sync(api, amplitude, [], "c")  # a credentials check, not a sync
        rejected = api.sync(amplitude, "c", [{"user_ids": "member"}])
        assert rejected.status_code == 400
    body = get(client, amplitude, "/cohorts/amplitude/c").json()
    assert set(body) == COHORT_FIELDS | {"recent_syncs"}
    syncs = body["recent_syncs"]
    assert [s["unmatched"] for s in syncs] == list(range(24, 4, -1))
    assert syncs[0]["added"] == 1
    assert syncs[0]["removed"] == 0
    assert syncs[1] == {**syncs[1], "added": 0, "removed": 1}
    assert set(syncs[0]) == {"received_at", "added", "removed", "unmatched"}
    received = [datetime.fromisoformat(s["received_at"]) for s in syncs]
    assert received == sorted(received, reverse=True)
    assert body["last_synced_at"] == syncs[0]["received_at"]


def test_detail_of_a_cohort_never_synced_has_no_syncs(
    api: Api, client: TestClient, amplitude: Integration
) -> None:
    api.expect(api.name_cohort(amplitude, "c", "Named only"), 201)
    body = get(client, amplitude, "/cohorts/amplitude/c").json()
    assert (body["name"], body["size"], body["recent_syncs"]) == ("Named only", 0, [])


@pytest.mark.parametrize("cohort_id", ODD_IDS)
def test_ids_with_slashes_spaces_and_non_ascii_are_reachable(
    api: Api, client: TestClient, amplitude: Integration, cohort_id: str
) -> None:
    fill(api, amplitude, cohort_id, names(3))
    detail = get(client, amplitude, detail_path(cohort_id))
    assert detail.status_code == 200, detail.text
    assert detail.json()["cohort_id"] == cohort_id
    fully_encoded = get(client, amplitude, f"/cohorts/amplitude/{quote(cohort_id, safe='')}")
    assert fully_encoded.json()["cohort_id"] == cohort_id
    members = get(client, amplitude, members_path(cohort_id)).json()
    assert sorted(user["external_id"] for user in members["users"]) == names(3)


def test_a_trailing_users_selects_the_members_route(
    api: Api, client: TestClient, amplitude: Integration
) -> None:
    fill(api, amplitude, "users", ["x"])
    assert get(client, amplitude, "/cohorts/amplitude/users").json()["cohort_id"] == "users"
    members = get(client, amplitude, "/cohorts/amplitude/users/users").json()
    assert [user["external_id"] for user in members["users"]] == ["x"]


def test_unknown_cohort_is_404(api: Api, client: TestClient, amplitude: Integration) -> None:
    api.partner("mixpanel")
    fill(api, amplitude, "c", ["x"])
    response = get(client, amplitude, "/cohorts/mixpanel/c")
    assert response.status_code == 404
    assert response.json() == {"message": "Cohort 'c' of partner 'mixpanel' not found"}
    assert get(client, amplitude, "/cohorts/amplitude/C").status_code == 404
    assert get(client, amplitude, "/cohorts/heap/c").status_code == 404


@pytest.mark.parametrize("raw", ["%00", "a%00b", "%ED%A0%80", "%FF", "", "x" * 5000])
def test_impossible_cohort_ids_are_404(
    client: TestClient, amplitude: Integration, raw: str
) -> None:
    for path in (f"/cohorts/amplitude/{raw}", f"/cohorts/amplitude/{raw}/users"):
        response = get(client, amplitude, path)
        assert response.status_code == 404, path
        assert "not found" in response.json()["message"]


def test_a_cohort_of_another_workspace_is_404(
    api: Api, client: TestClient, amplitude: Integration
) -> None:
    fill(api, amplitude, "c", ["x"])
    other = api.integration(api.create_workspace("other"), "amplitude")
    fill(api, other, "theirs", ["x"])
    assert get(client, other, "/cohorts/amplitude/c").status_code == 404
    assert get(client, other, "/cohorts/amplitude/c/users").status_code == 404
    assert get(client, amplitude, "/cohorts/amplitude/theirs").status_code == 404


# --- GET /cohorts/{partner}/{cohort_id}/users --------------------------------------------------


def test_members_are_listed_as_users(api: Api, client: TestClient, amplitude: Integration) -> None:
    workspace = amplitude.workspace
    api.track(workspace, "ext-1")
    api.add_aliases(
        workspace, [{"external_id": "ext-1", "alias_name": "a@x.io", "alias_label": "email"}]
    )
    api.add_devices(workspace, [{"device_id": "dev-1"}])
    sync(api, amplitude, [{"device_ids": ["dev-1"]}, {"user_ids": ["ext-1"]}], "c")
    body = get(client, amplitude, "/cohorts/amplitude/c/users").json()
    assert body["next_cursor"] is None
    identified, anonymous = body["users"]
    assert set(identified) == {"external_id", "braze_id", "user_aliases", "devices"}
    assert identified["external_id"] == "ext-1"
    assert identified["user_aliases"] == [{"alias_name": "a@x.io", "alias_label": "email"}]
    assert (anonymous["external_id"], anonymous["devices"]) == (None, [{"device_id": "dev-1"}])
    assert anonymous["braze_id"] != identified["braze_id"]


def test_an_empty_cohort_has_one_empty_page(
    api: Api, client: TestClient, amplitude: Integration
) -> None:
    fill(api, amplitude, "c", ["x"])
    sync(api, amplitude, [{"user_ids": ["x"], "should_remove": True}], "c")
    assert get(client, amplitude, "/cohorts/amplitude/c/users").json() == {
        "users": [],
        "next_cursor": None,
    }


def test_members_walk_returns_every_member_exactly_once(api: Api, amplitude: Integration) -> None:
    fill(api, amplitude, "c", names(23))
    for limit in (1, 5, 23, 1000):
        walked = api.walk_pages(members_path("c"), amplitude.workspace.headers, limit)
        assert sorted(user["external_id"] for user in walked) == names(23), limit


def test_default_page_is_one_hundred_and_a_thousand_is_allowed(
    api: Api, client: TestClient, amplitude: Integration
) -> None:
    fill(api, amplitude, "c", names(1001))
    default = get(client, amplitude, "/cohorts/amplitude/c/users").json()
    assert len(default["users"]) == 100
    assert default["next_cursor"] is not None
    biggest = get(client, amplitude, "/cohorts/amplitude/c/users", limit=1000).json()
    assert len(biggest["users"]) == 1000
    cursor = biggest["next_cursor"]
    rest = get(client, amplitude, "/cohorts/amplitude/c/users", limit=1000, cursor=cursor).json()
    assert len(rest["users"]) == 1
    assert rest["next_cursor"] is None
    walked = [user["external_id"] for user in biggest["users"] + rest["users"]]
    assert sorted(walked) == names(1001)


@pytest.mark.parametrize("limit", ["0", "-1", "1001", "99999999999999999999999", "abc", "1.5", ""])
def test_limit_out_of_bounds_is_400(
    api: Api, client: TestClient, amplitude: Integration, limit: str
) -> None:
    fill(api, amplitude, "c", ["x"])
    response = get(client, amplitude, f"/cohorts/amplitude/c/users?limit={limit}")
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
    api: Api, client: TestClient, amplitude: Integration, cursor: str
) -> None:
    fill(api, amplitude, "c", ["x"])
    response = get(client, amplitude, f"/cohorts/amplitude/c/users?cursor={cursor}")
    assert response.status_code == 400
    assert response.json() == {"message": CURSOR_MESSAGE}


def test_members_present_throughout_a_walk_are_returned_exactly_once_despite_changes(
    api: Api, client: TestClient, amplitude: Integration
) -> None:
    # Users behind the cursor (early) and ahead of it (late) join while the walk goes on.
    api.track(amplitude.workspace, *names(4, "early"))
    fill(api, amplitude, "c", names(30))
    for late in names(4, "late"):  # one request each, so late0003 holds the highest user id
        api.track(amplitude.workspace, late)
    joining = [
        user for pair in zip(names(4, "early"), names(4, "late"), strict=True) for user in pair
    ]
    seen: list[str] = []
    left_unseen: set[str] = set()
    left_seen: set[str] = set()
    params: dict[str, Any] = {"limit": 7}
    for _ in range(MAX_PAGES):
        page = get(client, amplitude, "/cohorts/amplitude/c/users", **params).json()
        seen.extend(user["external_id"] for user in page["users"])
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
        # One member the walk has passed and one still ahead of it leave, two users join.
        ahead = sorted(set(names(30)) - set(seen) - left_unseen)[:1]
        behind = sorted(set(seen) & set(names(30)) - left_seen)[:1]
        left_unseen.update(ahead)
        left_seen.update(behind)
        changes: list[dict[str, Any]] = [
            {"user_ids": joining[:2]},
            {"user_ids": ahead + behind, "should_remove": True},
        ]
        sync(api, amplitude, changes, "c")
        joining = joining[2:]
    assert len(seen) == len(set(seen)), "a member was returned twice"
    assert set(names(30)) - left_unseen - left_seen <= set(seen)
    assert len(left_unseen) >= 3
    assert not left_unseen & set(seen), "a member was returned after it left"
    assert "late0003" in seen  # it joined ahead of the cursor


def test_members_of_an_unknown_cohort_is_404(client: TestClient, amplitude: Integration) -> None:
    response = get(client, amplitude, "/cohorts/amplitude/nope/users")
    assert response.status_code == 404
    assert response.json() == {"message": "Cohort 'nope' of partner 'amplitude' not found"}


def test_page_errors_come_before_the_lookup(client: TestClient, amplitude: Integration) -> None:
    # A bad limit is reported as such even for a cohort that does not exist.
    assert get(client, amplitude, "/cohorts/amplitude/nope/users", limit=0).status_code == 400


# --- credentials and permissions ---------------------------------------------------------------

ROUTES = [
    "/cohorts",
    "/cohorts?partner=amplitude",
    "/cohorts/amplitude/c",
    "/cohorts/amplitude/c/users",
]


@pytest.mark.parametrize("path", ROUTES)
def test_a_key_without_cohorts_read_gets_403_naming_it(
    api: Api, client: TestClient, amplitude: Integration, path: str
) -> None:
    fill(api, amplitude, "c", ["x"])
    workspace_id = amplitude.workspace.id
    others = ["users.track", "segments.read", "usage.read", "integrations.manage"]
    response = client.get(path, headers=bearer(api.create_rest_key(workspace_id, others)))
    assert response.status_code == 403
    assert "cohorts.read" in response.json()["message"]
    allowed = api.create_rest_key(workspace_id, ["cohorts.read"])
    assert client.get(path, headers=bearer(allowed)).status_code == 200


@pytest.mark.parametrize("path", ROUTES)
def test_cohorts_need_a_workspace_key(
    client: TestClient, amplitude: Integration, path: str
) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers=bearer("krest_not-a-key")).status_code == 401
    assert client.get(path, headers=ADMIN_HEADERS).status_code == 401
    assert client.get(path, headers=bearer(amplitude.client_secret)).status_code == 401


def test_the_longest_cohort_id_a_partner_may_send_is_readable(
    client: TestClient, api: Api, amplitude: Integration
) -> None:
    longest = "é" * 500  # 1,000 UTF-8 bytes, the partner endpoints' limit
    fill(api, amplitude, longest, ["alice"])
    assert get(client, amplitude, detail_path(longest)).json()["size"] == 1
    members = get(client, amplitude, members_path(longest)).json()["users"]
    assert [user["external_id"] for user in members] == ["alice"]
