"""POST /users/export/ids with fields_to_export: exactly the fields asked for."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kohorte.domain.users.export import EXPORT_FIELDS, exported_users
from kohorte.store import identities
from tests.support import Api, WorkspaceHandle
from tests.support.databases import counting_statements
from tests.support.users import alias, exported, post_users


def a_user(api: Api, client: TestClient) -> WorkspaceHandle:
    integration = api.integration()
    workspace = integration.workspace
    api.track(workspace, "u1")
    api.add_aliases(workspace, [{"external_id": "u1", **alias("a1")}])
    api.add_devices(workspace, [{"device_id": "d1", "external_id": "u1"}])
    api.sync(integration, "c1", [{"user_ids": ["u1"]}])
    body = {"attributes": [{"external_id": "u1", "vip": True}]}
    post_users(client, workspace, "/users/track", body)
    return workspace


@pytest.mark.parametrize(
    "fields",
    [["external_id"], ["braze_id", "devices"], ["cohorts", "user_aliases"], ["custom_attributes"]],
)
def test_a_user_has_exactly_the_fields_asked_for(
    client: TestClient, api: Api, fields: list[str]
) -> None:
    workspace = a_user(api, client)
    full = exported(client, workspace, external_ids=["u1"])["users"][0]
    only = exported(client, workspace, external_ids=["u1"], fields_to_export=fields)["users"]
    assert only == [{name: full[name] for name in fields}]


def test_fields_without_data_are_shown_empty_when_asked_for(client: TestClient, api: Api) -> None:
    workspace = a_user(api, client)
    fields = ["custom_events", "purchases", "first_name", "gender", "external_id"]
    users = exported(client, workspace, external_ids=["u1"], fields_to_export=fields)["users"]
    assert users == [
        {
            "custom_events": [],
            "purchases": [],
            "first_name": None,
            "gender": None,
            "external_id": "u1",
        }
    ]


def test_the_default_view_is_unchanged_by_empty_extras(client: TestClient, api: Api) -> None:
    workspace = a_user(api, client)
    user = exported(client, workspace, external_ids=["u1"])["users"][0]
    assert set(user) == {
        "external_id",
        "braze_id",
        "user_aliases",
        "devices",
        "cohorts",
        "custom_attributes",
    }


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        (["external_id", "email_address"], "email_address"),
        (["nope"], "nope"),
        ([], "at least one field"),
    ],
)
def test_an_unknown_field_is_a_400_naming_it(
    client: TestClient, api: Api, fields: list[Any], named: str
) -> None:
    workspace = a_user(api, client)
    body = {"external_ids": ["u1"], "fields_to_export": fields}
    response = post_users(client, workspace, "/users/export/ids", body)
    assert response.status_code == 400, response.text
    assert named in response.json()["message"]


@pytest.mark.parametrize("fields", [[1], "external_id", [None]])
def test_fields_that_are_not_strings_are_a_400(client: TestClient, api: Api, fields: Any) -> None:
    workspace = a_user(api, client)
    body = {"external_ids": ["u1"], "fields_to_export": fields}
    assert post_users(client, workspace, "/users/export/ids", body).status_code == 400


def test_fields_not_wanted_cost_no_query(
    api: Api, client: TestClient, session: Session, engine: Engine
) -> None:
    workspace = a_user(api, client)
    user_id = identities.users_by_external_id(session, workspace.id, ["u1"])["u1"]
    with counting_statements(engine) as statements:
        assert exported_users(session, [user_id], ["external_id"]) == [{"external_id": "u1"}]
    assert len(statements) == 1
    with counting_statements(engine) as statements:
        every = exported_users(session, [user_id] * 3, list(EXPORT_FIELDS))
    assert len(statements) == 5
    assert [set(user) for user in every] == [set(EXPORT_FIELDS)] * 3
