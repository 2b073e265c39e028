"""Unit tests of the cohort read and usage services, against rows seeded into the store."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from kohorte.domain import cohorts, days, usage
from kohorte.domain.errors import InvalidInput, NotFound
from kohorte.domain.pagination import encode_cursor
from tests.support.seeds import (
    add_members,
    remove_members,
    seed_cohort,
    seed_data_points,
    seed_partner,
    seed_sync,
    seed_user,
    seed_users_bulk,
    seed_workspace,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
MAX_PAGES = 200  # a walk that never ends fails instead of hanging


@pytest.fixture
def workspace_id(session: Session) -> str:
    seed_partner(session, "amplitude")
    seed_partner(session, "mixpanel")
    return seed_workspace(session)


def walk(session: Session, workspace_id: str, cohort_id: str, limit: int) -> list[str | None]:
    seen: list[str | None] = []
    cursor = None
    for _ in range(MAX_PAGES):
        page = cohorts.list_members(session, workspace_id, "amplitude", cohort_id, limit, cursor)
        seen.extend(view["external_id"] for view in page.items)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor
    raise AssertionError("the walk did not end")


# --- listing and details ------------------------------------------------------------------------


def test_list_cohorts_orders_by_partner_then_id_and_filters(
    session: Session, workspace_id: str
) -> None:
    seed_cohort(session, workspace_id, "mixpanel", "m1")
    seed_cohort(session, workspace_id, "amplitude", "b")
    seed_cohort(session, workspace_id, "amplitude", "a")
    listed = cohorts.list_cohorts(session, workspace_id, None)
    assert [(c.partner_name, c.cohort_id) for c in listed] == [
        ("amplitude", "a"),
        ("amplitude", "b"),
        ("mixpanel", "m1"),
    ]
    only = cohorts.list_cohorts(session, workspace_id, "mixpanel")
    assert [c.cohort_id for c in only] == ["m1"]


def test_list_cohorts_sees_only_its_workspace(session: Session, workspace_id: str) -> None:
    other = seed_workspace(session, "other")
    seed_cohort(session, other, "amplitude", "theirs")
    assert cohorts.list_cohorts(session, workspace_id, None) == []
    assert cohorts.list_cohorts(session, workspace_id, "amplitude") == []


@pytest.mark.parametrize("partner", ["heap", "Amplitude", "\x00", "x" * 10_000])
def test_list_cohorts_of_an_unknown_partner_is_not_found(
    session: Session, workspace_id: str, partner: str
) -> None:
    with pytest.raises(NotFound, match="Partner"):
        cohorts.list_cohorts(session, workspace_id, partner)


def test_get_cohort_shows_the_twenty_newest_syncs_newest_first(
    session: Session, workspace_id: str
) -> None:
    pk = seed_cohort(session, workspace_id, "amplitude", "c")
    for minute in range(25):
        seed_sync(session, pk, T0 + timedelta(minutes=minute), added=minute)
    detail = cohorts.get_cohort(session, workspace_id, "amplitude", "c")
    assert detail.cohort.cohort_id == "c"
    assert [sync.added for sync in detail.recent_syncs] == list(range(24, 4, -1))


def test_get_cohort_ignores_syncs_of_other_cohorts(session: Session, workspace_id: str) -> None:
    mine = seed_cohort(session, workspace_id, "amplitude", "c")
    other = seed_cohort(session, workspace_id, "mixpanel", "c")
    seed_sync(session, mine, T0, added=1)
    seed_sync(session, other, T0 + timedelta(hours=1), added=2)
    assert [
        s.added for s in cohorts.get_cohort(session, workspace_id, "amplitude", "c").recent_syncs
    ] == [1]


def test_get_cohort_unknown_names_partner_and_id(session: Session, workspace_id: str) -> None:
    seed_cohort(session, workspace_id, "amplitude", "c")
    with pytest.raises(NotFound) as caught:
        cohorts.get_cohort(session, workspace_id, "mixpanel", "c")
    assert caught.value.message == "Cohort 'c' of partner 'mixpanel' not found"


def test_get_cohort_of_another_workspace_is_not_found(session: Session, workspace_id: str) -> None:
    other = seed_workspace(session, "other")
    seed_cohort(session, other, "amplitude", "c")
    with pytest.raises(NotFound):
        cohorts.get_cohort(session, workspace_id, "amplitude", "c")


@pytest.mark.parametrize("cohort_id", ["", "a\x00b", "\ud800", "x" * 1001])
def test_unstorable_cohort_ids_are_not_found_and_not_echoed(
    session: Session, workspace_id: str, cohort_id: str
) -> None:
    with pytest.raises(NotFound) as caught:
        cohorts.get_cohort(session, workspace_id, "amplitude", cohort_id)
    assert caught.value.message == "Cohort not found"


# --- members ----------------------------------------------------------------------------------


def test_members_are_paged_by_user_id_each_exactly_once(
    session: Session, workspace_id: str
) -> None:
    ids = seed_users_bulk(session, workspace_id, [f"u{n}" for n in range(7)])
    seed_cohort(session, workspace_id, "amplitude", "c", members=reversed(ids))
    assert walk(session, workspace_id, "c", 2) == [f"u{n}" for n in range(7)]
    assert walk(session, workspace_id, "c", 7) == [f"u{n}" for n in range(7)]
    assert walk(session, workspace_id, "c", 1000) == [f"u{n}" for n in range(7)]


def test_a_full_last_page_ends_the_walk(session: Session, workspace_id: str) -> None:
    ids = seed_users_bulk(session, workspace_id, ["a", "b", "c", "d"])
    seed_cohort(session, workspace_id, "amplitude", "c", members=ids)
    first = cohorts.list_members(session, workspace_id, "amplitude", "c", 2)
    assert first.next_cursor is not None
    second = cohorts.list_members(session, workspace_id, "amplitude", "c", 2, first.next_cursor)
    assert [v["external_id"] for v in second.items] == ["c", "d"]
    assert second.next_cursor is None


def test_default_page_is_one_hundred(session: Session, workspace_id: str) -> None:
    ids = seed_users_bulk(session, workspace_id, [f"u{n:03}" for n in range(101)])
    seed_cohort(session, workspace_id, "amplitude", "c", members=ids)
    page = cohorts.list_members(session, workspace_id, "amplitude", "c")
    assert len(page.items) == 100
    assert page.next_cursor is not None


def test_members_show_aliases_and_devices(session: Session, workspace_id: str) -> None:
    user = seed_user(session, workspace_id, None, aliases=[("email", "a@x")], devices=["d1", "d2"])
    seed_cohort(session, workspace_id, "amplitude", "c", members=[user])
    (view,) = cohorts.list_members(session, workspace_id, "amplitude", "c").items
    assert view["external_id"] is None
    assert view["user_aliases"] == [{"alias_name": "a@x", "alias_label": "email"}]
    assert view["devices"] == [{"device_id": "d1"}, {"device_id": "d2"}]


def test_members_present_throughout_a_walk_are_returned_exactly_once(
    session: Session, workspace_id: str
) -> None:
    early = seed_users_bulk(session, workspace_id, [f"early{n}" for n in range(3)])
    ids = seed_users_bulk(session, workspace_id, [f"u{n:02}" for n in range(20)])
    late = seed_users_bulk(session, workspace_id, [f"late{n}" for n in range(3)])
    joining = [user for pair in zip(early, late, strict=True) for user in pair]
    pk = seed_cohort(session, workspace_id, "amplitude", "c", members=ids[::2] + ids[1::2])
    leaving = [ids[1], ids[9], ids[18]]
    seen: list[str | None] = []
    page = cohorts.list_members(session, workspace_id, "amplitude", "c", 4)
    for _ in range(MAX_PAGES):
        seen.extend(view["external_id"] for view in page.items)
        if page.next_cursor is None:
            break
        # Between pages, users join (behind and ahead of the cursor) and members leave.
        add_members(session, pk, joining[:1])
        remove_members(session, pk, leaving[:1])
        joining, leaving = joining[1:], leaving[1:]
        page = cohorts.list_members(session, workspace_id, "amplitude", "c", 4, page.next_cursor)
    assert len(seen) == len(set(seen))
    throughout = {f"u{n:02}" for n in range(20)} - {"u01", "u09", "u18"}
    assert throughout <= set(seen)
    assert "late1" in seen


@pytest.mark.parametrize("limit", [0, -1, 1001, 10**30])
def test_limit_outside_one_to_a_thousand_is_refused(
    session: Session, workspace_id: str, limit: int
) -> None:
    seed_cohort(session, workspace_id, "amplitude", "c")
    with pytest.raises(InvalidInput, match="limit must be between 1 and 1000"):
        cohorts.list_members(session, workspace_id, "amplitude", "c", limit)


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "bm90IGpzb24",
        "eyJhZnRlciI6ImEifQ",
        encode_cursor(2**63),
        encode_cursor(-(2**64)),
    ],
)
def test_invalid_cursor_is_refused(session: Session, workspace_id: str, cursor: str) -> None:
    seed_cohort(session, workspace_id, "amplitude", "c")
    with pytest.raises(InvalidInput, match="cursor is not valid"):
        cohorts.list_members(session, workspace_id, "amplitude", "c", 10, cursor)


def test_members_of_an_unknown_cohort_is_not_found(session: Session, workspace_id: str) -> None:
    with pytest.raises(NotFound, match="Cohort 'nope' of partner 'amplitude' not found"):
        cohorts.list_members(session, workspace_id, "amplitude", "nope")


# --- usage ------------------------------------------------------------------------------------

TODAY = date(2024, 3, 15)


def test_default_range_is_the_thirty_days_ending_today() -> None:
    assert days.resolve_range(None, None, TODAY) == (date(2024, 2, 15), TODAY)


def test_only_to_given_ends_the_default_window_there() -> None:
    assert days.resolve_range(None, "2024-01-31", TODAY) == (date(2024, 1, 2), date(2024, 1, 31))


def test_only_from_given_runs_to_today() -> None:
    assert days.resolve_range("2024-03-01", None, TODAY) == (date(2024, 3, 1), TODAY)


def test_the_default_window_stops_at_the_first_day_of_the_calendar() -> None:
    assert days.resolve_range(None, "0001-01-03", TODAY) == (date(1, 1, 1), date(1, 1, 3))


def test_a_range_may_cover_366_days_but_not_367() -> None:
    assert days.resolve_range("2024-01-01", "2024-12-31", TODAY)[1] == date(2024, 12, 31)
    with pytest.raises(InvalidInput, match="367 days; at most 366"):
        days.resolve_range("2023-12-31", "2024-12-31", TODAY)


def test_from_after_to_is_refused() -> None:
    with pytest.raises(
        InvalidInput, match=r"from \(2024-03-02\) must not be after to \(2024-03-01\)"
    ):
        days.resolve_range("2024-03-02", "2024-03-01", TODAY)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2024-1-01",
        "20240101",
        "2024-02-30",
        "2024-13-01",
        "0000-01-01",
        "2024-W01-1",
        "2024-01-01T00:00",
        " 2024-01-01",
        "\u0662\u0660\u0662\u0664-\u0660\u0661-\u0660\u0661",
        "2024-01-01\x00",
        "x" * 100_000,
    ],
)
def test_dates_must_be_written_yyyy_mm_dd(text: str) -> None:
    with pytest.raises(InvalidInput, match="to must be a date written YYYY-MM-DD"):
        days.resolve_range(None, text, TODAY)


def test_data_points_in_range_ordered_by_day_then_partner(
    session: Session, workspace_id: str
) -> None:
    other = seed_workspace(session, "other")
    seed_data_points(session, workspace_id, "mixpanel", date(2024, 3, 2), 5)
    seed_data_points(session, workspace_id, "amplitude", date(2024, 3, 2), 7)
    seed_data_points(session, workspace_id, "amplitude", date(2024, 3, 1), 3)
    seed_data_points(session, workspace_id, "amplitude", date(2024, 2, 29), 100)
    seed_data_points(session, workspace_id, "amplitude", date(2024, 3, 3), 100)
    seed_data_points(session, other, "amplitude", date(2024, 3, 2), 100)
    points = usage.data_points(session, workspace_id, "2024-03-01", "2024-03-02")
    assert [(p.day, p.partner, p.count) for p in points] == [
        (date(2024, 3, 1), "amplitude", 3),
        (date(2024, 3, 2), "amplitude", 7),
        (date(2024, 3, 2), "mixpanel", 5),
    ]


def test_data_points_default_to_the_last_thirty_days(session: Session, workspace_id: str) -> None:
    for days_ago in (0, 29, 30):
        seed_data_points(
            session, workspace_id, "amplitude", TODAY - timedelta(days=days_ago), days_ago
        )
    points = usage.data_points(session, workspace_id, today=TODAY)
    assert [p.count for p in points] == [29, 0]
