"""Reading the journal: filters, pages, and the per-workspace view of REST API keys."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.support import ADMIN_HEADERS, Api, Integration
from tests.support.journal import journal, journal_page
from tests.support.partner import changes_body, post_partner, users_path


@pytest.fixture
def two(api: Api) -> tuple[Integration, Integration]:
    """Two workspaces, each synced twice (c1, then c2), and one 400 of the first."""
    first = api.integration()
    second = api.integration(api.create_workspace("other"), partner="mixpanel")
    for integration in (first, second):
        api.synced(integration, "c1")
        api.synced(integration, "c2")
    assert post_partner(api, users_path(first), changes_body(first, None, [])).status_code == 400
    return first, second


def cohorts_of(entries: list[dict[str, object]]) -> list[object]:
    return [entry["cohort_id"] for entry in entries]


def test_newest_first(api: Api, two: tuple[Integration, Integration]) -> None:
    entries = journal(api)
    assert [entry["id"] for entry in entries] == sorted((e["id"] for e in entries), reverse=True)
    assert cohorts_of(entries) == [None, "c2", "c1", "c2", "c1"]


def test_filter_by_partner_workspace_and_cohort(
    api: Api, two: tuple[Integration, Integration]
) -> None:
    first, second = two
    assert cohorts_of(journal(api, partner="mixpanel")) == ["c2", "c1"]
    assert len(journal(api, workspace_id=first.workspace.id)) == 3
    assert {e["workspace_id"] for e in journal(api, cohort_id="c1")} == {
        first.workspace.id,
        second.workspace.id,
    }
    assert journal(api, partner="mixpanel", cohort_id="c2")[0]["workspace_id"] == (
        second.workspace.id
    )


def test_filter_by_status_code_and_class(api: Api, two: tuple[Integration, Integration]) -> None:
    assert [e["status"] for e in journal(api, status="400")] == [400]
    assert [e["status"] for e in journal(api, status="4xx")] == [400]
    assert len(journal(api, status="2xx")) == 4
    assert journal(api, status="404") == []


def test_filter_by_since(api: Api, two: tuple[Integration, Integration]) -> None:
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert journal(api, since=future) == []
    assert len(journal(api, since=past)) == 5
    assert len(journal(api, since="2000-01-01T00:00:00Z")) == 5


def test_pages_with_a_cursor(api: Api, two: tuple[Integration, Integration]) -> None:
    seen: list[object] = []
    page = journal_page(api, limit=2)
    while True:
        assert len(page["entries"]) <= 2
        seen.extend(entry["id"] for entry in page["entries"])
        if page["next_cursor"] is None:
            break
        page = journal_page(api, limit=2, cursor=page["next_cursor"])
    assert seen == [entry["id"] for entry in journal(api)]
    assert len(seen) == 5


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("status", "4x"),
        ("status", "abc"),
        ("status", "600"),
        ("since", "yesterday"),
        ("limit", "0"),
        ("limit", "1001"),
        ("limit", "many"),
        ("cursor", "not-a-cursor"),
    ],
)
def test_bad_filters_are_400(api: Api, param: str, value: str) -> None:
    response = api.client.get("/admin/journal", params={param: value}, headers=ADMIN_HEADERS)
    assert response.status_code == 400
    assert param in response.json()["message"]


def test_a_workspace_key_sees_only_its_workspace(
    api: Api, two: tuple[Integration, Integration]
) -> None:
    first, second = two
    key = api.create_rest_key(first.workspace.id, ["journal.read"])
    headers = {"Authorization": f"Bearer {key}"}
    response = api.client.get("/journal", headers=headers)
    assert response.status_code == 200
    entries = response.json()["entries"]
    assert {entry["workspace_id"] for entry in entries} == {first.workspace.id}
    assert len(entries) == 3
    # Asking for another workspace's entries does not widen the view.
    asked = api.client.get(
        "/journal", params={"workspace_id": second.workspace.id}, headers=headers
    )
    assert {entry["workspace_id"] for entry in asked.json()["entries"]} == {first.workspace.id}
    filtered = api.client.get("/journal", params={"status": "4xx"}, headers=headers)
    assert [entry["status"] for entry in filtered.json()["entries"]] == [400]


def test_the_workspace_view_needs_journal_read(
    api: Api, two: tuple[Integration, Integration]
) -> None:
    first, _ = two
    key = api.create_rest_key(first.workspace.id, ["cohorts.read"])
    response = api.client.get("/journal", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403
    assert api.client.get("/journal").status_code == 401
    assert api.client.get("/journal", headers=ADMIN_HEADERS).status_code == 401
