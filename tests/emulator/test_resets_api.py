"""POST /admin/reset and POST /admin/workspaces/{id}/reset (emulator controls)."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kohorte.api.app import create_app
from kohorte.settings import Settings
from tests.support import ADMIN_HEADERS, Api, Integration, bearer
from tests.support.partner import cohort_ids, data_points
from tests.support.resets import admin_listing, emulator_rows, filled_integration
from tests.support.users import exported

EMPTY = {"journal_entries": 0, "unmatched_identifiers": 0, "faults": 0}


def reset_workspace(api: Api, workspace_id: str, status: int = 204) -> None:
    api.expect(
        api.client.post(f"/admin/workspaces/{workspace_id}/reset", headers=ADMIN_HEADERS), status
    )


def segment_names(api: Api, integration: Integration) -> list[str]:
    listed = api.client.get("/segments/list", headers=integration.workspace.headers)
    return [segment["name"] for segment in api.expect(listed, 200)["segments"]]


def known_users(client: TestClient, integration: Integration) -> list[str]:
    found = exported(client, integration.workspace, external_ids=["alice", "bob"])["users"]
    return sorted(user["external_id"] for user in found)


def test_a_workspace_reset_empties_it_and_keeps_its_keys(
    api: Api, client: TestClient, engine: Engine
) -> None:
    integration = filled_integration(api, engine)
    reset_workspace(api, integration.workspace.id)
    assert known_users(client, integration) == []
    assert cohort_ids(api, integration) == []
    assert segment_names(api, integration) == []
    assert data_points(api, integration) == 0
    assert emulator_rows(engine, integration.workspace.id) | {"faults": 0} == EMPTY
    # The same REST API key and the same partner credentials keep working.
    api.track(integration.workspace, "alice")
    assert api.synced(integration, "c1", {"user_ids": ["alice"]})["added"] == 1
    assert api.cohort_today(integration, "c1")[0] == 1


def test_a_workspace_reset_leaves_other_workspaces_alone(
    api: Api, client: TestClient, engine: Engine
) -> None:
    kept = filled_integration(api, engine)
    reset = api.integration(partner="amplitude")
    api.track(reset.workspace, "alice")
    api.synced(reset, "c1", {"user_ids": ["alice"]})
    reset_workspace(api, reset.workspace.id)
    assert known_users(client, kept) == ["alice", "bob"]
    assert cohort_ids(api, kept) == ["c1"]
    assert segment_names(api, kept) == ["S"]
    assert emulator_rows(engine, kept.workspace.id) == {
        "journal_entries": 2,
        "unmatched_identifiers": 1,
        "faults": 1,
    }


def test_a_workspace_reset_of_an_unknown_workspace_is_not_found(api: Api) -> None:
    response = api.client.post("/admin/workspaces/nope/reset", headers=ADMIN_HEADERS)
    assert response.status_code == 404
    assert response.json() == {"message": "Workspace 'nope' not found"}


def test_deleting_a_workspace_removes_its_emulator_rows(api: Api, engine: Engine) -> None:
    integration = filled_integration(api, engine)
    api.expect(
        api.client.delete(f"/admin/workspaces/{integration.workspace.id}", headers=ADMIN_HEADERS),
        204,
    )
    assert emulator_rows(engine, integration.workspace.id) | {"faults": 0} == EMPTY
    rows = emulator_rows(engine)
    assert (rows["journal_entries"], rows["unmatched_identifiers"]) == (0, 0)


def test_an_instance_reset_removes_everything_but_the_admin_token(api: Api, engine: Engine) -> None:
    integration = filled_integration(api, engine)
    api.expect(api.client.post("/admin/reset", headers=ADMIN_HEADERS), 204)
    assert admin_listing(api) == {"partners": [], "workspaces": [], "keys": {}}
    assert emulator_rows(engine) == EMPTY
    assert api.client.get("/cohorts", headers=integration.workspace.headers).status_code == 401
    assert api.sync(integration, "c1", []).status_code == 401
    # Everything can be built again, with the same names.
    again = api.__class__(api.client).integration(partner="amplitude")
    api.track(again.workspace, "alice")
    assert api.synced(again, "c1", {"user_ids": ["alice"]})["added"] == 1


def test_an_instance_reset_with_a_generated_admin_token_keeps_it(
    settings: Settings, engine: Engine
) -> None:
    app = create_app(settings.model_copy(update={"admin_token": None}), engine)
    with TestClient(app, base_url="http://kohorte.test") as client:
        from kohorte.domain.access import ensure_admin_token
        from kohorte.store.database import make_session_factory

        with make_session_factory(engine)() as session, session.begin():
            token = ensure_admin_token(session)
        assert token is not None
        assert client.post("/admin/reset", headers=bearer(token)).status_code == 204
        assert client.get("/admin/workspaces", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("path", ["/admin/reset", "/admin/workspaces/demo/reset"])
def test_resets_need_the_admin_token(api: Api, path: str) -> None:
    workspace = api.create_workspace()
    assert api.client.post(path, headers=workspace.headers).status_code == 401
    assert api.client.post(path).status_code == 401
    assert len(admin_listing(api)["workspaces"]) == 1


@pytest.mark.parametrize("path", ["/admin/reset", "/admin/workspaces/demo/reset"])
def test_resets_are_unknown_paths_when_the_control_api_is_off(
    settings: Settings, engine: Engine, path: str
) -> None:
    app = create_app(settings.model_copy(update={"control_api": False}), engine)
    with TestClient(app, base_url="http://kohorte.test") as client:
        api = Api(client)
        api.create_workspace()
        unknown = client.post("/admin/no-such-route", headers=ADMIN_HEADERS)
        for headers in (ADMIN_HEADERS, {}):
            response = client.post(path, headers=headers)
            assert (response.status_code, response.json()) == (404, unknown.json())
        assert len(admin_listing(api)["workspaces"]) == 1
