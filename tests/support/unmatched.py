"""Helpers of the unmatched identifiers and ``why`` tests, through HTTP as a client calls."""

from typing import Any
from urllib.parse import quote

import httpx

from tests.support.api import Api, Integration
from tests.support.users import alias


def with_users(api: Api, *more: str) -> Integration:
    """An integration whose workspace holds u1 (alias crm/a1, device d-known), the identified
    users ``more``, and the anonymous owner of device d-anon."""
    integration = api.integration()
    workspace = integration.workspace
    api.track(workspace, "u1", *more)
    api.add_aliases(workspace, [{"external_id": "u1", **alias("a1")}])
    api.add_devices(workspace, [{"device_id": "d-known", "external_id": "u1"}])
    api.add_devices(workspace, [{"device_id": "d-anon"}])
    return integration


def unmatched_path(integration: Integration, cohort_id: str) -> str:
    return f"/cohorts/{integration.partner.name}/{quote(cohort_id, safe='/')}/unmatched"


def why_path(integration: Integration, cohort_id: str) -> str:
    return f"/cohorts/{integration.partner.name}/{quote(cohort_id, safe='/')}/why"


def unmatched_page(
    api: Api, integration: Integration, cohort_id: str, **params: Any
) -> httpx.Response:
    response: httpx.Response = api.client.get(
        unmatched_path(integration, cohort_id), params=params, headers=integration.workspace.headers
    )
    return response


def all_unmatched(
    api: Api, integration: Integration, cohort_id: str, limit: int = 100
) -> list[dict[str, Any]]:
    """Every identifier of the cohort's ledger, page after page, in the order listed."""
    found: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": limit}
    while True:
        page = api.expect(unmatched_page(api, integration, cohort_id, **params), 200)
        assert set(page) == {"identifiers", "next_cursor"}, page
        found.extend(page["identifiers"])
        if page["next_cursor"] is None:
            return found
        params["cursor"] = page["next_cursor"]


def by_value(identifiers: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    """The listed identifiers keyed by (kind, value), an alias's value as (label, name)."""
    return {(i["kind"], _value_key(i["value"])): i for i in identifiers}


def _value_key(value: Any) -> Any:
    return (value["alias_label"], value["alias_name"]) if isinstance(value, dict) else value


def asked_why(
    api: Api, integration: Integration, cohort_id: str, **identifier: str
) -> httpx.Response:
    response: httpx.Response = api.client.get(
        why_path(integration, cohort_id), params=identifier, headers=integration.workspace.headers
    )
    return response


def why(api: Api, integration: Integration, cohort_id: str, **identifier: str) -> Any:
    """``GET /cohorts/{partner}/{cohort_id}/why`` that must succeed; its body."""
    return api.expect(asked_why(api, integration, cohort_id, **identifier), 200)
