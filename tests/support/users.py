"""Shared helpers of the users API tests: calls through HTTP, as a client would make them."""

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.support import WorkspaceHandle


def post(client: TestClient, workspace: WorkspaceHandle, path: str, body: Any) -> Any:
    """POST JSON; escaped as ASCII so that tests can send lone surrogates as real clients can."""
    headers = {**workspace.headers, "Content-Type": "application/json"}
    return client.post(path, content=json.dumps(body).encode(), headers=headers)


def exported(client: TestClient, workspace: WorkspaceHandle, **body: Any) -> dict[str, Any]:
    response = post(client, workspace, "/users/export/ids", body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def user(client: TestClient, workspace: WorkspaceHandle, external_id: str) -> dict[str, Any]:
    users = exported(client, workspace, external_ids=[external_id])["users"]
    assert len(users) == 1, users
    found: dict[str, Any] = users[0]
    return found


def user_by_device(client: TestClient, workspace: WorkspaceHandle, device_id: str) -> Any:
    users = exported(client, workspace, device_id=device_id)["users"]
    return users[0] if users else None


def alias(name: str, label: str = "crm") -> dict[str, str]:
    return {"alias_name": name, "alias_label": label}
