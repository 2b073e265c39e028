"""Segments as they stood: ``as_of`` on size, users, export and preview, and
``GET /segments/data_series``, against sets worked out in Python."""

from datetime import UTC, datetime, time, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.support import Api, Integration, instant
from tests.support.partner import adds, message, removes
from tests.support.seeds import Stay, days_ago, seed_cohort_stays, seed_user, seeding, time_on
from tests.support.segments import (
    create_segment,
    evaluate,
    exactly_once,
    external_ids,
    leaf,
    preview_as_of,
    read_segment,
)

FILTERS: list[dict[str, Any]] = [
    leaf("A"),
    leaf("A", "excludes_value"),
    {"and": [leaf("A"), leaf("B", "excludes_value")]},
    {"or": [leaf("B"), leaf("A", "excludes_value")]},
    {"and": [leaf("B", "excludes_value"), {"or": [leaf("A", "excludes_value")]}]},
]


def check_reads(
    api: Api, integration: Integration, tree: dict[str, Any], as_of: str, expected: set[str]
) -> None:
    """Size, pages of two, export and preview of the filter as of the instant."""
    workspace = integration.workspace
    reads = read_segment(api, workspace, create_segment(api, workspace, tree), as_of, limit=2)
    assert reads.size == len(expected), (tree, as_of)
    assert exactly_once(external_ids(reads.users)) == expected, (tree, as_of)
    assert reads.export == reads.users
    preview = preview_as_of(api, workspace, tree, as_of)
    assert preview["size"] == len(expected)
    assert exactly_once(external_ids(preview["users"])) == expected


# --- as_of -----------------------------------------------------------------------------------


def test_as_of_between_syncs_gives_the_members_of_then(api: Api, integration: Integration) -> None:
    """Each read as of an instant between two syncs answers as the earlier sync left things; a
    user created later is nobody then, even for filters that only exclude."""
    api.track(integration.workspace, "u1", "u2", "u3", "u4")
    api.synced(integration, "B", adds("nobody"))
    before = instant()
    api.synced(integration, "A", adds("u1", "u2", "u3"))
    first = instant()
    api.synced(integration, "A", removes("u1"))
    api.synced(integration, "A", adds("u4"))
    api.synced(integration, "B", adds("u2"))
    second = instant()
    api.track(integration.workspace, "u5")
    api.synced(integration, "A", removes("u2"))
    api.synced(integration, "A", adds("u5"))
    everyone = {"u1", "u2", "u3", "u4"}
    states = [
        (before, {"A": set[str](), "B": set[str]()}),
        (first, {"A": {"u1", "u2", "u3"}, "B": set()}),
        (second, {"A": {"u2", "u3", "u4"}, "B": {"u2"}}),
    ]
    for moment, members in states:
        for tree in FILTERS:
            check_reads(
                api, integration, tree, moment.isoformat(), evaluate(tree, members, everyone)
            )
    # Without as_of: now.
    now = {"A": {"u3", "u4", "u5"}, "B": {"u2"}}
    for tree in FILTERS:
        expected = evaluate(tree, now, everyone | {"u5"})
        segment_id = create_segment(api, integration.workspace, tree)
        size = api.client.get(f"/segments/{segment_id}/size", headers=integration.workspace.headers)
        assert api.expect(size, 200) == {"size": len(expected)}


def test_pages_as_of_list_each_member_once_while_cohorts_change(
    api: Api, integration: Integration
) -> None:
    everyone = [f"u{n:02}" for n in range(30)]
    api.track(integration.workspace, *everyone)
    api.synced(integration, "A", adds(*everyone[:20]))
    api.synced(integration, "B", adds(*everyone[::3]))
    then = instant().isoformat()
    expected = {"A": set(everyone[:20]), "B": set(everyone[::3])}
    workspace = integration.workspace
    for tree in FILTERS:
        segment_id = create_segment(api, workspace, tree)
        listed: list[dict[str, Any]] = []
        params: dict[str, Any] = {"as_of": then, "limit": 3}
        churn = iter(zip(everyone[:20], everyone[20:] * 2, strict=True))
        while True:
            page = api.client.get(
                f"/segments/{segment_id}/users", params=params, headers=workspace.headers
            )
            body = api.expect(page, 200)
            listed += body["users"]
            if body["next_cursor"] is None:
                break
            params["cursor"] = body["next_cursor"]
            # Between pages the cohorts change; the walk as of ``then`` does not see it.
            leaving, entering = next(churn)
            api.synced(integration, "A", removes(leaving))
            api.synced(integration, "A", adds(entering))
            api.synced(integration, "B", adds(leaving))
        assert exactly_once(external_ids(listed)) == evaluate(tree, expected, set(everyone)), tree


def test_as_of_reads_past_stays(api: Api, engine: Engine, integration: Integration) -> None:
    """Stays seeded with past times; users created at different times."""
    workspace_id = integration.workspace.id
    created = {"late": time_on(6, 12)}
    seed_cohort_stays(
        engine,
        workspace_id,
        "A",
        [
            Stay("u1", time_on(10, 8), time_on(4, 8)),
            Stay("u2", time_on(8, 9)),
            Stay("late", time_on(5, 9), time_on(3, 9)),
            Stay("u1", time_on(2, 9)),
        ],
        created,
    )
    seed_cohort_stays(engine, workspace_id, "B", [Stay("u3", time_on(7, 9), time_on(1, 9))])
    moments = [
        (time_on(11), {"A": set[str](), "B": set[str]()}, {"u1", "u2", "u3"}),
        (time_on(8, 9), {"A": {"u1", "u2"}, "B": set()}, {"u1", "u2", "u3"}),
        (time_on(6, 11, 59), {"A": {"u1", "u2"}, "B": {"u3"}}, {"u1", "u2", "u3"}),
        (time_on(6, 12), {"A": {"u1", "u2"}, "B": {"u3"}}, {"u1", "u2", "u3", "late"}),
        (time_on(4, 8), {"A": {"u2", "late"}, "B": {"u3"}}, {"u1", "u2", "u3", "late"}),
        (time_on(1, 9), {"A": {"u1", "u2"}, "B": set()}, {"u1", "u2", "u3", "late"}),
    ]
    for moment, members, everyone in moments:
        for tree in FILTERS:
            check_reads(
                api, integration, tree, moment.isoformat(), evaluate(tree, members, everyone)
            )


def test_as_of_without_an_offset_is_utc_and_offsets_are_honoured(
    api: Api, integration: Integration
) -> None:
    api.track(integration.workspace, "u1", "u2")
    api.synced(integration, "A", adds("u1"))
    then = instant()
    api.synced(integration, "A", adds("u2"))
    spellings = [
        then.replace(tzinfo=None).isoformat(),
        then.isoformat().replace("+00:00", "Z"),
        then.astimezone(timezone(timedelta(hours=-5))).isoformat(),
        then.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat(),
    ]
    for spelling in spellings:
        check_reads(api, integration, leaf("A"), spelling, {"u1"})


def segment_reads(segment_id: str) -> list[tuple[str, str]]:
    return [
        ("GET", f"/segments/{segment_id}/size"),
        ("GET", f"/segments/{segment_id}/users"),
        ("GET", f"/segments/{segment_id}/export"),
        ("POST", "/segments/preview"),
    ]


def future() -> str:
    return (datetime.now(UTC) + timedelta(minutes=1)).isoformat()


@pytest.mark.parametrize(
    "as_of",
    [
        "future",
        "3000-01-01T00:00:00Z",
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-01-01T25:00:00Z",
        "2024-01-01T00:00:00+25:00",
        "12345",
        "",
        "2024-01-01T00:00:00Z trailing",
    ],
)
def test_future_or_unreadable_as_of_is_400(
    client: TestClient, api: Api, integration: Integration, as_of: str
) -> None:
    api.synced(integration, "A", adds("nobody"))
    segment_id = create_segment(api, integration.workspace, leaf("A"))
    value = future() if as_of == "future" else as_of
    headers = integration.workspace.headers
    for method, path in segment_reads(segment_id):
        if method == "POST":
            body = {"filter": leaf("A"), "as_of": value}
            response = client.post(path, json=body, headers=headers)
        else:
            response = client.get(path, params={"as_of": value}, headers=headers)
        assert response.status_code == 400, (path, response.text)
        assert message(response)


def test_preview_as_of_must_be_a_string(
    client: TestClient, api: Api, integration: Integration
) -> None:
    api.synced(integration, "A", adds("nobody"))
    for value in (1700000000, True, {"at": "2024-01-01T00:00:00Z"}):
        body = {"filter": leaf("A"), "as_of": value}
        response = client.post(
            "/segments/preview", json=body, headers=integration.workspace.headers
        )
        assert response.status_code == 400, response.text


def test_as_of_on_an_unknown_segment_is_404(
    client: TestClient, api: Api, integration: Integration
) -> None:
    params = {"as_of": instant().isoformat()}
    for _, path in segment_reads("missing")[:3]:
        response = client.get(path, params=params, headers=integration.workspace.headers)
        assert response.status_code == 404, response.text


# --- data_series -----------------------------------------------------------------------------


def series(
    api: Api, integration: Integration, segment_id: str, length: int, ending_at: str | None = None
) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"segment_id": segment_id, "length": str(length)}
    if ending_at is not None:
        params["ending_at"] = ending_at
    response = api.client.get(
        "/segments/data_series", params=params, headers=integration.workspace.headers
    )
    body = api.expect(response, 200)
    assert set(body) == {"message", "data"}
    assert body["message"] == "success"
    data: list[dict[str, Any]] = body["data"]
    return data


def end_of(back: int) -> datetime:
    """The last microsecond of the day ``back`` days ago."""
    return datetime.combine(days_ago(back - 1), time.min, tzinfo=UTC) - timedelta(microseconds=1)


SERIES_STAYS = [
    Stay("u1", time_on(9, 8), time_on(4, 8)),
    Stay("u2", time_on(8, 9)),
    Stay("u3", time_on(5, 9), time_on(3, 9)),
    Stay("u3", time_on(3, 10), time_on(3, 11)),
    Stay("u1", time_on(2, 9)),
]


def sizes(stays: list[Stay], moments: list[datetime]) -> list[int]:
    return [sum(s.entered <= t and (s.left is None or s.left > t) for s in stays) for t in moments]


def test_data_series_sizes_at_the_end_of_each_day(
    api: Api, engine: Engine, integration: Integration
) -> None:
    seed_cohort_stays(engine, integration.workspace.id, "A", SERIES_STAYS)
    api.track(integration.workspace, "u4")
    api.synced(integration, "A", adds("u4"))
    api.synced(integration, "A", removes("u2"))
    now = datetime.now(UTC)
    stays = [*SERIES_STAYS[:1], Stay("u2", time_on(8, 9), now), *SERIES_STAYS[2:], Stay("u4", now)]
    segment_id = create_segment(api, integration.workspace, leaf("A"))
    data = series(api, integration, segment_id, 12)
    assert [point["time"] for point in data] == [
        days_ago(back).isoformat() for back in range(11, -1, -1)
    ]
    assert [point["size"] for point in data] == sizes(
        stays, [end_of(back) for back in range(11, 0, -1)] + [datetime.now(UTC)]
    )
    # Today's entry is the size now.
    size = api.client.get(f"/segments/{segment_id}/size", headers=integration.workspace.headers)
    assert data[-1]["size"] == api.expect(size, 200)["size"] == 2
    assert [p["size"] for p in series(api, integration, segment_id, 1)] == [2]
    assert len(series(api, integration, segment_id, 100)) == 100


def test_data_series_ending_in_the_past(api: Api, engine: Engine, integration: Integration) -> None:
    seed_cohort_stays(engine, integration.workspace.id, "A", SERIES_STAYS)
    with seeding(engine) as session:
        seed_user(session, integration.workspace.id, "late", created_at=time_on(6, 12))
    workspace = integration.workspace
    ending = time_on(3, 10, 30)
    for tree in (leaf("A"), leaf("A", "excludes_value")):
        segment_id = create_segment(api, workspace, tree)
        data = series(api, integration, segment_id, 7, ending.isoformat())
        assert [p["time"] for p in data] == [days_ago(back).isoformat() for back in range(9, 2, -1)]
        moments = [end_of(back) for back in range(9, 3, -1)] + [ending]
        members = [
            {s.user for s in SERIES_STAYS if s.entered <= t and (s.left is None or s.left > t)}
            for t in moments
        ]
        everyone = [
            {"u1", "u2", "u3"} | ({"late"} if t >= time_on(6, 12) else set()) for t in moments
        ]
        expected = [
            len(evaluate(tree, {"A": now}, people))
            for now, people in zip(members, everyone, strict=True)
        ]
        assert [p["size"] for p in data] == expected, tree


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"length": "3"}, 400),
        ({"segment_id": "", "length": "3"}, 400),
        ({"segment_id": "S"}, 400),
        ({"segment_id": "S", "length": "0"}, 400),
        ({"segment_id": "S", "length": "101"}, 400),
        ({"segment_id": "S", "length": "-1"}, 400),
        ({"segment_id": "S", "length": "1.5"}, 400),
        ({"segment_id": "S", "length": "three"}, 400),
        ({"segment_id": "S", "length": ""}, 400),
        ({"segment_id": "S", "length": "3", "ending_at": "future"}, 400),
        ({"segment_id": "S", "length": "3", "ending_at": "soon"}, 400),
        ({"segment_id": "S", "length": "3", "ending_at": "2024-02-30T00:00:00Z"}, 400),
        ({"segment_id": "missing", "length": "3"}, 404),
    ],
)
def test_data_series_rules(
    client: TestClient, api: Api, integration: Integration, params: dict[str, str], status: int
) -> None:
    api.synced(integration, "A", adds("nobody"))
    segment_id = create_segment(api, integration.workspace, leaf("A"))
    sent = {k: segment_id if v == "S" else v for k, v in params.items()}
    if sent.get("ending_at") == "future":
        sent["ending_at"] = future()
    response = client.get(
        "/segments/data_series", params=sent, headers=integration.workspace.headers
    )
    assert response.status_code == status, response.text
    assert message(response)


def test_data_series_and_cohort_history_agree_on_events_at_midnight(
    api: Api, engine: Engine, integration: Integration
) -> None:
    """An event at 00:00:00 UTC belongs to the day it starts: the day before ends without it."""
    seed_cohort_stays(
        engine,
        integration.workspace.id,
        "A",
        [Stay("u1", time_on(3)), Stay("u2", time_on(10, 12), time_on(2))],
    )
    segment_id = create_segment(api, integration.workspace, leaf("A"))
    days = api.cohort_days(integration, "A", {"from": days_ago(5).isoformat()})
    assert [d["size"] for d in days] == [1, 1, 2, 1, 1, 1]
    assert [p["size"] for p in series(api, integration, segment_id, 6)] == [1, 1, 2, 1, 1, 1]
