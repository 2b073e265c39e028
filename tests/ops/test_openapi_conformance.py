"""Every operation of kohorte's own OpenAPI, driven by schemathesis with valid credentials.

The schema is what clients generate their code from; this proves the app keeps to it: no answer
is a 5xx, every answer (status, headers, body) is one the schema documents, a request the schema
forbids is refused and one it allows is not refused for its shape. Runs on the store the suite
runs on (SQLite or PostgreSQL), through the in-process app.
"""

import os
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
)

from kohorte.api.app import create_app
from kohorte.settings import Settings
from tests.support import ADMIN_HEADERS, ADMIN_TOKEN, Api, Integration

# The schema does not depend on the store; the requests go to the test's own app and store.
SPEC = create_app(Settings(database_url="sqlite:///never-opened.db", admin_token=ADMIN_TOKEN))
schema = schemathesis.openapi.from_dict(SPEC.openapi())
# The same examples on every run, so a failure in CI is one a developer can reproduce; no NUL
# characters, which no identifier may hold and the document cannot say.
schema.config.generation.update(
    deterministic=True,
    allow_x00=False,
    allow_extra_parameters=False,
    # The test sends real credentials: a generated Authorization header would be replaced.
    with_security_parameters=False,
)

# The users import body is NDJSON, documented as binary: sent as the bytes generated.
schemathesis.serializer.alias("application/x-ndjson", "application/octet-stream")

PARTNER = "amplitude"
# schemathesis hands cookies and raw content to the TestClient in ways httpx deprecates.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Setting per-request cookies:DeprecationWarning",
    "ignore:Use 'content=<...>':DeprecationWarning",
)
# Per operation: enough for CI (about two minutes for all); raise it for a deeper search.
EXAMPLES = int(os.environ.get("KOHORTE_SCHEMATHESIS_EXAMPLES", "8"))
# Rules that an OpenAPI document cannot write, so a request that keeps to the schema may still
# be refused there, rightly: exactly one of several query parameters names the user; a time
# must lie in the past and within the kept history; a date range spans at most 366 days.
RULES_THE_SCHEMA_CANNOT_SAY = frozenset(
    {
        "GET /users/cohort-history",
        "GET /cohorts/{partner}/{cohort_id}/why",
        "GET /cohorts/{partner}/{cohort_id}/history",
        "GET /usage",
        "GET /segments/data_series",
        "POST /segments/preview",
        "GET /segments/{segment_id}/size",
        "GET /segments/{segment_id}/users",
        "GET /segments/{segment_id}/export",
        # The callback's host must be one the operator allowed.
        "POST /users/export/segment",
        # A cohort filter must name a partner that exists.
        "POST /segments",
        "PUT /segments/{segment_id}",
    }
)
# Braze's partial success: a bad event or purchase is reported in the 201's errors and the
# others are applied, so a body the schema forbids can rightly be accepted.
PARTIAL_SUCCESS = frozenset({"POST /users/track"})


@pytest.fixture
def integration(api: Api) -> Integration:
    integration = api.integration(partner=PARTNER)
    api.track(integration.workspace, "user-1", "user-2")
    return integration


def _credentials(case: Any, integration: Integration) -> dict[str, str]:
    """The headers a real client of that operation sends; generated ones would only test 401."""
    if case.path.startswith("/admin"):
        return ADMIN_HEADERS
    if case.path.startswith("/partners"):
        return {}
    return integration.workspace.headers


def _with_real_identities(case: Any, integration: Integration) -> None:
    # Known names and keys where the schema has them, so the operation's own rules are reached.
    parameters = case.path_parameters or {}
    if "partner" in parameters:
        parameters["partner"] = PARTNER
    if "workspace_id" in parameters:
        parameters["workspace_id"] = integration.workspace.id
    if case.path.startswith("/partners") and isinstance(case.body, dict):
        case.body.update(integration.credentials)
    # A cursor is opaque: a client only sends one that a previous page gave it.
    if case.query:
        case.query.pop("cursor", None)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_to_its_schema(
    case: Any, client: TestClient, integration: Integration
) -> None:
    _with_real_identities(case, integration)
    kwargs = case.as_transport_kwargs(
        base_url=str(client.base_url), headers=_credentials(case, integration)
    )
    response = client.request(**kwargs)
    assert response.status_code < 500, (response.status_code, response.text)
    excluded = [ignored_auth]
    operation = f"{case.method.upper()} {case.path}"
    if operation in RULES_THE_SCHEMA_CANNOT_SAY:
        excluded.append(positive_data_acceptance)
    if operation in PARTIAL_SUCCESS:
        excluded.append(negative_data_rejection)
    case.validate_response(response, excluded_checks=excluded)
