"""Shared helpers of the users API tests: calls through HTTP, as a client would make them."""

import json
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.support.api import WorkspaceHandle, post_json


def post_users(
    client: TestClient, workspace: WorkspaceHandle, path: str, body: Any
) -> httpx.Response:
    """A users API request with the workspace's REST API key."""
    return post_json(client, path, body, workspace.headers)


def exported(client: TestClient, workspace: WorkspaceHandle, **body: Any) -> dict[str, Any]:
    response = post_users(client, workspace, "/users/export/ids", body)
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


def ndjson(*lines: Any) -> bytes:
    return "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines).encode()


def import_body(
    client: TestClient, workspace: WorkspaceHandle, body: bytes | Iterator[bytes]
) -> Any:
    response = client.post("/users/import", content=body, headers=workspace.headers)
    assert response.status_code == 201, response.text
    return response.json()


def track(client: TestClient, workspace: WorkspaceHandle, **body: Any) -> dict[str, Any]:
    """``POST /users/track`` of this body, expected to succeed; the response body."""
    response = post_users(client, workspace, "/users/track", body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def identify(client: TestClient, workspace: WorkspaceHandle, **body: Any) -> Any:
    """``POST /users/identify`` of this body, expected to succeed; the response body."""
    response = post_users(client, workspace, "/users/identify", body)
    assert response.status_code == 201, response.text
    return response.json()
