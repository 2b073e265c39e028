"""Two kohorte instances on one PostgreSQL database behave as one service.

Black-box: two `kohorte serve` processes, driven only through HTTP. Whatever one instance
writes or counts (memberships, sizes, the rate limit, invalidated and revoked keys) the other
sees on its very next request: no state lives in a process.
"""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support import ADMIN_HEADERS, Api, Integration, PartnerHandle
from tests.support.partner import adds, cohort_or_none, message, removes
from tests.support.servers import (
    ServerProcess,
    import_users,
    requires_postgres,
    servers_on_a_throwaway_database,
)

pytestmark = requires_postgres

RATE_LIMIT = 6
# A fixed one-hour window could roll over in the middle of a test: start clear of its end.
WINDOW_MARGIN = timedelta(seconds=15)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[ServerProcess]]:
    log_dir: Path = tmp_path_factory.mktemp("scale-out")
    extra_env = {"KOHORTE_PARTNER_RATE_LIMIT_PER_HOUR": str(RATE_LIMIT)}
    with servers_on_a_throwaway_database(log_dir, count=2, extra_env=extra_env) as running:
        yield running


@pytest.fixture
def apis(servers: list[ServerProcess]) -> Iterator[tuple[Api, Api]]:
    first, second = servers
    with first.api() as api_a, second.api() as api_b:
        yield api_a, api_b


def member_key(user: dict[str, Any]) -> str:
    if user["external_id"] is not None:
        return str(user["external_id"])
    return "device:" + ",".join(sorted(device["device_id"] for device in user["devices"]))


def counts(response_body: dict[str, Any]) -> tuple[int, int, int]:
    return response_body["added"], response_body["removed"], response_body["unmatched"]


def test_syncs_sent_alternately_to_both_instances_all_apply(apis: tuple[Api, Api]) -> None:
    api_a, api_b = apis
    integration = api_a.integration(api_a.create_workspace("alternating"), partner="alternating")
    workspace = integration.workspace
    api_a.track(workspace, *[f"u{n}" for n in range(10)])
    import_users(
        api_b,
        workspace,
        [{"external_id": f"u{n}"} for n in range(10, 19)]
        + [{"external_id": "u19", "user_aliases": [{"alias_name": "a-19", "alias_label": "crm"}]}]
        + [{"device_ids": ["phone-1"]}],
    )
    # Six partner requests in all (the rate limit of this key), alternating A and B.
    api_a.expect(api_a.name_cohort(integration, "shared", name="Shared"), 201)
    steps: list[tuple[Api, list[dict[str, Any]], tuple[int, int, int]]] = [
        (api_b, [adds(*[f"u{n}" for n in range(10)])], (10, 0, 0)),
        (api_a, [removes(*[f"u{n}" for n in range(5)]), adds("u10", "u11", "u12")], (3, 5, 0)),
        (
            api_b,
            [
                {"device_ids": ["phone-1"]},
                {"aliases": [{"alias_name": "a-19", "alias_label": "crm"}]},
                adds("u5", "nobody"),
            ],
            (2, 0, 1),
        ),
        (api_a, [removes("u12"), adds("u0")], (1, 1, 0)),
        (api_b, [adds("u15", "u16"), removes("u5"), adds("u5")], (3, 1, 0)),
    ]
    for api, changes, expected in steps:
        body = api.expect(api.sync(integration, "shared", changes), 201)
        assert counts(body) == expected, (changes, body)
    expected_members = {"u0", "u5", "u6", "u7", "u8", "u9", "u10", "u11", "u15", "u16", "u19"}
    expected_members.add("device:phone-1")
    for api in (api_a, api_b):
        cohort = api.cohort(integration, "shared")
        assert cohort["name"] == "Shared"
        assert cohort["size"] == len(expected_members)
        assert len(cohort["recent_syncs"]) == len(steps)
        members = [member_key(user) for user in api.cohort_members(integration, "shared")]
        assert sorted(members) == sorted(expected_members)


def wait_clear_of_window_end() -> None:
    now = datetime.now(UTC)
    window_end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    if window_end - now < WINDOW_MARGIN:
        time.sleep((window_end - now).total_seconds() + 1)


def test_rate_limit_is_one_count_across_instances(apis: tuple[Api, Api]) -> None:
    api_a, api_b = apis
    integration = api_a.integration(api_a.create_workspace("limited"), partner="limited")
    wait_clear_of_window_end()
    remaining: list[int] = []
    resets: set[str] = set()
    for number in range(RATE_LIMIT):
        api = (api_a, api_b)[number % 2]
        response = api.sync(integration, "limited", [])
        api.expect(response, 201)
        assert response.headers["X-RateLimit-Limit"] == str(RATE_LIMIT)
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
        resets.add(response.headers["X-RateLimit-Reset"])
    assert remaining == list(reversed(range(RATE_LIMIT)))
    assert len(resets) == 1
    # The limit-th + 1 request, on A, and the next on B: both over the one shared count.
    for api in (api_a, api_b):
        over = api.sync(integration, "limited", [adds("anyone")])
        assert over.status_code == 429, over.text
        assert message(over) == "Rate limit exceeded"
        assert over.headers["X-RateLimit-Remaining"] == "0"
    assert cohort_or_none(api_b, integration, "limited") is None


def test_invalidated_data_import_key_is_rejected_by_the_other_instance_at_once(
    apis: tuple[Api, Api],
) -> None:
    api_a, api_b = apis
    workspace = api_a.create_workspace("rotating")
    partner = api_a.partner("rotating")
    path = f"/integrations/{partner.name}/data-import-keys"
    issued = api_a.expect(api_a.client.post(path, headers=workspace.headers), 201)
    old = Integration(workspace, partner, issued["key"])
    new = Integration(workspace, partner, api_a.create_data_import_key(workspace, partner.name))
    # B has accepted the old key before (anything it might remember, it remembers now).
    api_b.expect(api_b.sync(old, "rotating", []), 201)
    api_a.expect(api_a.client.delete(f"{path}/{issued['id']}", headers=workspace.headers), 204)
    rejected = api_b.sync(old, "rotating", [adds("anyone")])
    assert rejected.status_code == 401, rejected.text
    assert message(rejected) == "Invalid client secret"
    renamed = api_b.name_cohort(old, "rotating")
    assert renamed.status_code == 401, renamed.text
    assert message(renamed) == "Invalid client secret"
    assert cohort_or_none(api_b, new, "rotating") is None
    api_b.expect(api_b.sync(new, "rotating", []), 201)


def test_revoked_partner_api_key_is_rejected_by_the_other_instance_at_once(
    apis: tuple[Api, Api],
) -> None:
    api_a, api_b = apis
    created = api_a.expect(
        api_a.client.post("/admin/partners", json={"name": "revoking"}, headers=ADMIN_HEADERS),
        201,
    )
    second = api_a.expect(
        api_a.client.post("/admin/partners/revoking/api-keys", headers=ADMIN_HEADERS), 201
    )
    workspace = api_a.create_workspace("revoking")
    secret = api_a.create_data_import_key(workspace, "revoking")
    kept = Integration(workspace, PartnerHandle("revoking", created["partner_api_key"]), secret)
    revoked = Integration(workspace, PartnerHandle("revoking", second["partner_api_key"]), secret)
    api_b.expect(api_b.sync(revoked, "revoking", []), 201)
    api_a.expect(
        api_a.client.delete(
            f"/admin/partners/revoking/api-keys/{second['id']}", headers=ADMIN_HEADERS
        ),
        204,
    )
    rejected = api_b.sync(revoked, "revoking", [adds("anyone")])
    assert rejected.status_code == 401, rejected.text
    assert message(rejected) == "Invalid Partner API key"
    assert cohort_or_none(api_b, kept, "revoking") is None
    api_b.expect(api_b.sync(kept, "revoking", []), 201)
