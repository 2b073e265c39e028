"""Helpers for tests of the partner cohort import surface, all through HTTP."""

from typing import Any
from urllib.parse import quote

import httpx

from tests.support.api import Api, Integration, post_json

CHANGES_MESSAGE = (
    "cohort_changes must be an array of objects each with key user_ids and/or device_ids "
    "mapping to an array of strings, or an aliases object"
)
LIMIT_MESSAGE = "Only 1,000 user_ids, device_ids, and aliases are allowed per request"
COHORT_ID_MESSAGE = "cohort_id must be a valid string"
NAME_MESSAGE = "name must be a non-empty string"
CREATED_AT_MESSAGE = "created_at must be a valid time as an ISO-8601 string"


def adds(*external_ids: str) -> dict[str, Any]:
    return {"user_ids": list(external_ids)}


def removes(*external_ids: str) -> dict[str, Any]:
    return {"user_ids": list(external_ids), "should_remove": True}


def message(response: httpx.Response) -> str:
    body = response.json()
    assert set(body) <= {"message", "errors"}, body
    return str(body["message"])


def post_partner(api: Api, path: str, body: object) -> httpx.Response:
    """A partner request: no headers but the content type, the credentials are in the body."""
    return post_json(api.client, path, body)


def sync(
    api: Api, integration: Integration, changes: list[dict[str, Any]], cohort_id: str = "c1"
) -> Any:
    """A partner sync of one cohort through HTTP, expected to succeed; its response body."""
    return api.expect(api.sync(integration, cohort_id, changes), 201)


def integration_with_users(api: Api, *external_ids: str) -> Integration:
    """An integration whose workspace already holds identified users of these external ids."""
    integration = api.integration()
    api.track(integration.workspace, *external_ids)
    return integration


def changes_body(integration: Integration, cohort_id: Any, changes: Any) -> dict[str, Any]:
    return {**integration.credentials, "cohort_id": cohort_id, "cohort_changes": changes}


def name_body(integration: Integration, **fields: Any) -> dict[str, Any]:
    defaults = {"cohort_id": "c1", "name": "Power users", "created_at": "2024-01-21T19:20:30Z"}
    return {**integration.credentials, **defaults, **fields}


def users_path(integration: Integration) -> str:
    return f"/partners/{integration.partner.name}/cohorts/users"


def cohorts_path(integration: Integration) -> str:
    return f"/partners/{integration.partner.name}/cohorts"


def cohort_or_none(api: Api, integration: Integration, cohort_id: str) -> Any:
    path = f"/cohorts/{integration.partner.name}/{quote(cohort_id, safe='/')}"
    response = api.client.get(path, headers=integration.workspace.headers)
    if response.status_code == 404:
        return None
    return api.expect(response, 200)


def cohort_ids(api: Api, integration: Integration) -> list[str]:
    listed = api.expect(api.client.get("/cohorts", headers=integration.workspace.headers), 200)
    return sorted(cohort["cohort_id"] for cohort in listed["cohorts"])


def data_points(api: Api, integration: Integration) -> int:
    usage = api.expect(api.client.get("/usage", headers=integration.workspace.headers), 200)
    return sum(
        entry["count"]
        for entry in usage["data_points"]
        if entry["partner"] == integration.partner.name
    )
