"""Membership history routes and tenancy: another workspace's key finds nothing of this one,
and each route needs its permission (a key without it: 403 naming it; no key: 401)."""

from collections.abc import Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kohorte.domain.permissions import Permission
from tests.support import ADMIN_HEADERS, Api, bearer, cohort_history_path, event_summary, instant
from tests.support.partner import adds, message
from tests.support.segments import create_segment, leaf
from tests.support.users import user

# --- workspaces ------------------------------------------------------------------------------


def test_another_workspace_sees_neither_the_user_nor_the_cohort_nor_the_segment(
    client: TestClient, api: Api
) -> None:
    integration = api.integration()
    mine = integration.workspace
    api.track(mine, "u1")
    api.synced(integration, "c1", adds("u1"))
    segment_id = create_segment(api, mine, leaf("c1"))
    braze_id = user(client, mine, "u1")["braze_id"]
    other = api.integration(api.create_workspace("other"))
    theirs = other.workspace
    past = instant().isoformat()
    for identifier in ({"external_id": "u1"}, {"braze_id": braze_id}):
        response = client.get("/users/cohort-history", params=identifier, headers=theirs.headers)
        assert response.status_code == 404, response.text
    response = client.get(cohort_history_path("amplitude", "c1"), headers=theirs.headers)
    assert response.status_code == 404, response.text
    reads = [
        (f"/segments/{segment_id}/size", {"as_of": past}),
        (f"/segments/{segment_id}/users", {"as_of": past}),
        (f"/segments/{segment_id}/export", {"as_of": past}),
        ("/segments/data_series", {"segment_id": segment_id, "length": "3"}),
    ]
    for path, params in reads:
        response = client.get(path, params=params, headers=theirs.headers)
        assert response.status_code == 404, (path, response.text)
    preview = client.post(
        "/segments/preview", json={"filter": leaf("c1"), "as_of": past}, headers=theirs.headers
    )
    assert preview.status_code == 400, preview.text
    assert "c1" in message(preview)
    # Their own user of the same external id has a history of its own.
    api.track(theirs, "u1")
    api.synced(other, "c9", adds("u1"))
    assert event_summary(api.user_history(theirs, external_id="u1")) == [
        ("amplitude", "c9", "entered", "partner_sync")
    ]
    assert event_summary(api.user_history(mine, external_id="u1")) == [
        ("amplitude", "c1", "entered", "partner_sync")
    ]


# --- permissions -----------------------------------------------------------------------------

USER_HISTORY = ("GET", "/users/cohort-history", {"external_id": "u1"}, Permission.COHORTS_READ)
HISTORY_ROUTES: list[tuple[str, str, dict[str, Any], Permission]] = [
    USER_HISTORY,
    ("GET", "/cohorts/amplitude/c1/history", {}, Permission.COHORTS_READ),
    ("GET", "/segments/data_series", {"segment_id": "x", "length": "3"}, Permission.SEGMENTS_READ),
    ("GET", "/segments/x/size", {"as_of": "2024-01-01T00:00:00Z"}, Permission.SEGMENTS_READ),
    ("GET", "/segments/x/users", {"as_of": "2024-01-01T00:00:00Z"}, Permission.SEGMENTS_READ),
    ("GET", "/segments/x/export", {"as_of": "2024-01-01T00:00:00Z"}, Permission.SEGMENTS_READ),
]


@pytest.mark.parametrize(("method", "path", "params", "permission"), HISTORY_ROUTES)
def test_history_routes_without_their_permission_are_403_naming_it(
    client: TestClient,
    api: Api,
    method: str,
    path: str,
    params: dict[str, Any],
    permission: Permission,
) -> None:
    api.partner("amplitude")
    others = [p.value for p in Permission if p is not permission]
    workspace = api.create_workspace(permissions=others)
    response = client.request(method, path, params=params, headers=workspace.headers)
    assert response.status_code == 403, response.text
    assert permission.value in message(response)


@pytest.mark.parametrize(("method", "path", "params", "permission"), HISTORY_ROUTES)
def test_history_routes_with_their_permission_alone_pass(
    client: TestClient,
    api: Api,
    method: str,
    path: str,
    params: dict[str, Any],
    permission: Permission,
) -> None:
    api.partner("amplitude")
    workspace = api.create_workspace(permissions=[permission.value])
    response = client.request(method, path, params=params, headers=workspace.headers)
    assert response.status_code == 404, response.text


def test_preview_as_of_needs_segments_read(client: TestClient, api: Api) -> None:
    integration = api.integration()
    api.synced(integration, "c1", adds("nobody"))
    body = {"filter": leaf("c1"), "as_of": instant().isoformat()}
    workspace_id = integration.workspace.id
    reader = bearer_of(api, workspace_id, [Permission.SEGMENTS_READ])
    response = client.post("/segments/preview", json=body, headers=reader)
    assert api.expect(response, 200)["size"] == 0
    others = [p for p in Permission if p is not Permission.SEGMENTS_READ]
    response = client.post(
        "/segments/preview", json=body, headers=bearer_of(api, workspace_id, others)
    )
    assert response.status_code == 403, response.text
    assert Permission.SEGMENTS_READ.value in message(response)


def test_user_history_is_open_to_a_key_that_reads_cohorts(client: TestClient, api: Api) -> None:
    integration = api.integration()
    api.track(integration.workspace, "u1")
    api.synced(integration, "c1", adds("u1"))
    reader = bearer_of(api, integration.workspace.id, [Permission.COHORTS_READ])
    response = client.get("/users/cohort-history", params={"external_id": "u1"}, headers=reader)
    assert event_summary(api.expect(response, 200)["events"]) == [
        ("amplitude", "c1", "entered", "partner_sync")
    ]


def test_user_history_is_closed_to_a_key_that_only_exports_users(
    client: TestClient, api: Api
) -> None:
    """The contract gives /users/cohort-history to cohorts.read alone: the 403 names it."""
    integration = api.integration()
    api.track(integration.workspace, "u1")
    api.synced(integration, "c1", adds("u1"))
    exporter = bearer_of(api, integration.workspace.id, [Permission.USERS_EXPORT_IDS])
    response = client.get("/users/cohort-history", params={"external_id": "u1"}, headers=exporter)
    assert response.status_code == 403, response.text
    assert Permission.COHORTS_READ.value in message(response)


def test_history_routes_need_a_workspace_key(client: TestClient, api: Api) -> None:
    api.partner("amplitude")
    for method, path, params, _ in HISTORY_ROUTES:
        assert client.request(method, path, params=params).status_code == 401
        response = client.request(method, path, params=params, headers=ADMIN_HEADERS)
        assert response.status_code == 401, response.text


def bearer_of(api: Api, workspace_id: str, permissions: Sequence[Permission]) -> dict[str, str]:
    return bearer(api.create_rest_key(workspace_id, [p.value for p in permissions]))
