"""Test helpers that drive kohorte only through its HTTP API, as a client would."""

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def post_json(
    client: httpx.Client, path: str, body: object, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    """POST a JSON body serialised with ASCII escapes, so that tests can send lone surrogates
    (as JSON \\ud800 escapes) as real clients can."""
    sent = {**(headers or {}), "Content-Type": "application/json"}
    return client.post(path, content=json.dumps(body).encode(), headers=sent)


@dataclass(frozen=True)
class WorkspaceHandle:
    id: str
    rest_key: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.rest_key)


@dataclass(frozen=True)
class PartnerHandle:
    name: str
    api_key: str


@dataclass(frozen=True)
class Integration:
    """A workspace connected to a partner through one data import key."""

    workspace: WorkspaceHandle
    partner: PartnerHandle
    client_secret: str

    @property
    def credentials(self) -> dict[str, str]:
        return {"partner_api_key": self.partner.api_key, "client_secret": self.client_secret}


class Api:
    """The API through a client: an in-process TestClient, or httpx against a running server."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self._partners: dict[str, PartnerHandle] = {}

    def expect(self, response: httpx.Response, status: int) -> Any:
        assert response.status_code == status, (response.status_code, response.text)
        return response.json() if response.content else None

    # --- instance admin -------------------------------------------------------------------
    def create_workspace(
        self, name: str = "acme", permissions: list[str] | None = None
    ) -> WorkspaceHandle:
        created = self.expect(
            self.client.post("/admin/workspaces", json={"name": name}, headers=ADMIN_HEADERS), 201
        )
        return WorkspaceHandle(created["id"], self.create_rest_key(created["id"], permissions))

    def create_rest_key(self, workspace_id: str, permissions: list[str] | None = None) -> str:
        body: dict[str, Any] = {"name": "test key"}
        if permissions is not None:
            body["permissions"] = permissions
        response = self.client.post(
            f"/admin/workspaces/{workspace_id}/api-keys", json=body, headers=ADMIN_HEADERS
        )
        return str(self.expect(response, 201)["key"])

    def partner(self, name: str = "amplitude") -> PartnerHandle:
        if name not in self._partners:
            response = self.client.post(
                "/admin/partners", json={"name": name}, headers=ADMIN_HEADERS
            )
            created = self.expect(response, 201)
            self._partners[name] = PartnerHandle(name, created["partner_api_key"])
        return self._partners[name]

    # --- workspace ------------------------------------------------------------------------
    def create_data_import_key(self, workspace: WorkspaceHandle, partner: str) -> str:
        response = self.client.post(
            f"/integrations/{partner}/data-import-keys", headers=workspace.headers
        )
        return str(self.expect(response, 201)["key"])

    def integration(
        self, workspace: WorkspaceHandle | None = None, partner: str = "amplitude"
    ) -> Integration:
        workspace = workspace or self.create_workspace()
        handle = self.partner(partner)
        return Integration(workspace, handle, self.create_data_import_key(workspace, partner))

    def track(self, workspace: WorkspaceHandle, *external_ids: str) -> None:
        attributes = [{"external_id": external_id} for external_id in external_ids]
        for start in range(0, len(attributes), 75):
            response = self.client.post(
                "/users/track",
                json={"attributes": attributes[start : start + 75]},
                headers=workspace.headers,
            )
            self.expect(response, 201)

    def add_devices(self, workspace: WorkspaceHandle, devices: list[dict[str, str]]) -> None:
        response = self.client.post(
            "/users/devices", json={"devices": devices}, headers=workspace.headers
        )
        self.expect(response, 201)

    def add_aliases(self, workspace: WorkspaceHandle, aliases: list[dict[str, str]]) -> None:
        response = self.client.post(
            "/users/alias/new", json={"user_aliases": aliases}, headers=workspace.headers
        )
        self.expect(response, 201)

    # --- partner surface ------------------------------------------------------------------
    def name_cohort(
        self,
        integration: Integration,
        cohort_id: str,
        name: str = "A cohort",
        created_at: str = "2024-01-21T19:20:30+05:00",
    ) -> httpx.Response:
        body = {**integration.credentials, "cohort_id": cohort_id, "name": name}
        body["created_at"] = created_at
        response: httpx.Response = self.client.post(
            f"/partners/{integration.partner.name}/cohorts", json=body
        )
        return response

    def sync(
        self, integration: Integration, cohort_id: str, changes: list[dict[str, Any]]
    ) -> httpx.Response:
        body = {**integration.credentials, "cohort_id": cohort_id, "cohort_changes": changes}
        response: httpx.Response = self.client.post(
            f"/partners/{integration.partner.name}/cohorts/users", json=body
        )
        return response

    def synced(self, integration: Integration, cohort_id: str, *changes: dict[str, Any]) -> Any:
        """A sync that must succeed; its body (``added``, ``removed``, ``unmatched``)."""
        return self.expect(self.sync(integration, cohort_id, list(changes)), 201)

    # --- reads ----------------------------------------------------------------------------
    def cohort(self, integration: Integration, cohort_id: str) -> Any:
        path = f"/cohorts/{integration.partner.name}/{quote(cohort_id, safe='/')}"
        return self.expect(self.client.get(path, headers=integration.workspace.headers), 200)

    def cohort_members(self, integration: Integration, cohort_id: str) -> list[dict[str, Any]]:
        path = f"/cohorts/{integration.partner.name}/{quote(cohort_id, safe='/')}/users"
        return self.walk_pages(path, integration.workspace.headers)

    def walk_pages(
        self,
        path: str,
        headers: dict[str, str],
        limit: int = 100,
        params: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Every user of a paged list; ``params`` are sent with each page (``as_of``)."""
        users: list[dict[str, Any]] = []
        params = {**(params or {}), "limit": limit}
        while True:
            page = self.expect(self.client.get(path, params=params, headers=headers), 200)
            users.extend(page["users"])
            if page["next_cursor"] is None:
                return users
            params["cursor"] = page["next_cursor"]

    def member_external_ids(self, integration: Integration, cohort_id: str) -> set[str | None]:
        return {user["external_id"] for user in self.cohort_members(integration, cohort_id)}

    # --- membership history ---------------------------------------------------------------
    def user_history(self, workspace: WorkspaceHandle, **identifier: str) -> list[dict[str, Any]]:
        """``GET /users/cohort-history`` for the user named by ``identifier``: its events."""
        response = self.client.get(
            "/users/cohort-history", params=identifier, headers=workspace.headers
        )
        events: list[dict[str, Any]] = self.expect(response, 200)["events"]
        return events

    def cohort_days(
        self, integration: Integration, cohort_id: str, window: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """``GET /cohorts/{partner}/{cohort_id}/history``, ``window`` its ``from`` and ``to``."""
        response = self.client.get(
            cohort_history_path(integration.partner.name, cohort_id),
            params=window,
            headers=integration.workspace.headers,
        )
        days: list[dict[str, Any]] = self.expect(response, 200)["days"]
        return days

    def cohort_today(self, integration: Integration, cohort_id: str) -> tuple[int, int, int]:
        """(entered, left, size) of today in the cohort's history."""
        last = self.cohort_days(integration, cohort_id)[-1]
        assert last["date"] == datetime.now(UTC).date().isoformat(), last
        return last["entered"], last["left"], last["size"]


def event_summary(events: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """History events without their times: (partner, cohort_id, event, cause) each."""
    return [(e["partner"], e["cohort_id"], e["event"], e["cause"]) for e in events]


def cohort_history_path(partner: str, cohort_id: str) -> str:
    return f"/cohorts/{partner}/{quote(cohort_id, safe='/')}/history"


def instant() -> datetime:
    """A moment strictly between what the store wrote before and what it writes after."""
    time.sleep(0.002)
    now = datetime.now(UTC)
    time.sleep(0.002)
    return now
