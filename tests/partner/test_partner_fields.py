"""Field rules of the partner endpoints: exact messages, their order, and that a 400 changes
nothing."""

from typing import Any

import pytest

from tests.support import Api, Integration
from tests.support.partner import (
    CHANGES_MESSAGE,
    COHORT_ID_MESSAGE,
    CREATED_AT_MESSAGE,
    LIMIT_MESSAGE,
    NAME_MESSAGE,
    changes_body,
    cohort_ids,
    cohort_or_none,
    cohorts_path,
    integration_with_users,
    message,
    name_body,
    post_partner,
    users_path,
)

MISSING = object()
BAD_COHORT_IDS: list[Any] = [
    MISSING,
    None,
    5,
    1.5,
    True,
    [],
    {},
    "",
    "a\x00b",
    "\ud800",
    "a" * 1001,
]
BAD_CHANGES: list[Any] = [
    MISSING,
    None,
    "[]",
    {},
    {"user_ids": ["a"]},
    [1],
    [None],
    [[]],
    [{}],
    [{"should_remove": True}],
    [{"user_id": ["a"]}],
    [{"user_ids": "a"}],
    [{"user_ids": None}],
    [{"user_ids": [1]}],
    [{"user_ids": [None]}],
    [{"user_ids": [["a"]]}],
    [{"device_ids": {"a": 1}}],
    [{"device_ids": [True]}],
    [{"aliases": {"alias_name": "a", "alias_label": "b"}}],
    [{"aliases": ["a"]}],
    [{"aliases": [{"alias_name": "a"}]}],
    [{"aliases": [{"alias_label": "b"}]}],
    [{"aliases": [{"alias_name": None, "alias_label": "b"}]}],
    [{"aliases": [{"alias_name": "a", "alias_label": 2}]}],
    [{"user_ids": [], "should_remove": "true"}],
    [{"user_ids": [], "should_remove": None}],
    [{"user_ids": [], "should_remove": 1}],
]


@pytest.fixture
def integration(api: Api) -> Integration:
    return integration_with_users(api, "u1", "u2")


def with_field(body: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    if value is MISSING:
        return {key: item for key, item in body.items() if key != field}
    return {**body, field: value}


@pytest.mark.parametrize("cohort_id", BAD_COHORT_IDS)
def test_cohort_id_must_be_a_valid_string(
    api: Api, integration: Integration, cohort_id: Any
) -> None:
    sync = with_field(
        changes_body(integration, "x", [{"user_ids": ["u1"]}]), "cohort_id", cohort_id
    )
    named = with_field(name_body(integration), "cohort_id", cohort_id)
    for path, body in ((users_path(integration), sync), (cohorts_path(integration), named)):
        response = post_partner(api, path, body)
        assert response.status_code == 400
        assert response.json() == {"message": COHORT_ID_MESSAGE}


def test_cohort_id_up_to_1000_bytes(api: Api, integration: Integration) -> None:
    longest = "é" * 500
    assert (
        post_partner(
            api, cohorts_path(integration), name_body(integration, cohort_id=longest)
        ).status_code
        == 201
    )
    assert cohort_ids(api, integration) == [longest]
    too_long = "é" * 500 + "a"
    response = post_partner(
        api, cohorts_path(integration), name_body(integration, cohort_id=too_long)
    )
    assert message(response) == COHORT_ID_MESSAGE


@pytest.mark.parametrize("changes", BAD_CHANGES)
def test_malformed_cohort_changes(api: Api, integration: Integration, changes: Any) -> None:
    body = with_field(changes_body(integration, "c1", []), "cohort_changes", changes)
    response = post_partner(api, users_path(integration), body)
    assert response.status_code == 400
    assert response.json() == {"message": CHANGES_MESSAGE}
    assert cohort_or_none(api, integration, "c1") is None


def test_cohort_id_is_checked_before_cohort_changes(api: Api, integration: Integration) -> None:
    response = post_partner(api, users_path(integration), changes_body(integration, "", None))
    assert message(response) == COHORT_ID_MESSAGE


def test_shape_is_checked_before_the_limit(api: Api, integration: Integration) -> None:
    changes = [{"user_ids": [f"u{n}" for n in range(1001)]}, {"user_ids": [1]}]
    response = post_partner(api, users_path(integration), changes_body(integration, "c1", changes))
    assert message(response) == CHANGES_MESSAGE


def test_change_objects_accept_any_of_the_keys_and_ignore_others(
    api: Api, integration: Integration
) -> None:
    changes = [
        {"user_ids": ["u1"]},
        {"device_ids": []},
        {"aliases": [{"alias_name": "n", "alias_label": "l", "extra": 1}]},
        {"user_ids": [], "device_ids": [], "aliases": [], "should_remove": False, "note": "x"},
    ]
    response = post_partner(api, users_path(integration), changes_body(integration, "c1", changes))
    assert response.status_code == 201
    assert response.json() == {"message": "success", "added": 1, "removed": 0, "unmatched": 1}


def thousand_mixed() -> list[dict[str, Any]]:
    return [
        {"user_ids": [f"x{n}" for n in range(400)], "device_ids": [f"d{n}" for n in range(100)]},
        {"aliases": [{"alias_name": f"a{n}", "alias_label": "l"} for n in range(300)]},
        {"device_ids": [f"d{n}" for n in range(200)], "should_remove": True},
    ]


def test_exactly_1000_identifiers_over_all_objects_and_kinds(
    api: Api, integration: Integration
) -> None:
    response = post_partner(
        api, users_path(integration), changes_body(integration, "c1", thousand_mixed())
    )
    assert response.status_code == 201
    assert response.json()["unmatched"] == 1000


@pytest.mark.parametrize(
    "extra",
    [
        {"user_ids": ["u1"]},
        {"device_ids": ["d"]},
        {"aliases": [{"alias_name": "a", "alias_label": "l"}]},
        {"user_ids": ["u1"], "should_remove": True},
    ],
)
def test_1001_identifiers_are_refused(
    api: Api, integration: Integration, extra: dict[str, Any]
) -> None:
    changes = [*thousand_mixed(), extra]
    response = post_partner(api, users_path(integration), changes_body(integration, "c1", changes))
    assert response.status_code == 400
    assert response.json() == {"message": LIMIT_MESSAGE}
    assert cohort_or_none(api, integration, "c1") is None


def test_duplicates_count_towards_the_limit(api: Api, integration: Integration) -> None:
    changes = [{"user_ids": ["u1"] * 1001}]
    response = post_partner(api, users_path(integration), changes_body(integration, "c1", changes))
    assert message(response) == LIMIT_MESSAGE


@pytest.mark.parametrize(
    "name", [MISSING, None, "", "   ", 5, ["n"], "a\x00", "\ud800", "n" * 1001]
)
def test_name_must_be_a_non_empty_string(api: Api, integration: Integration, name: Any) -> None:
    body = with_field(name_body(integration), "name", name)
    response = post_partner(api, cohorts_path(integration), body)
    assert response.status_code == 400
    assert response.json() == {"message": NAME_MESSAGE}
    assert cohort_or_none(api, integration, "c1") is None


@pytest.mark.parametrize(
    "created_at",
    [
        MISSING,
        None,
        "",
        "yesterday",
        "2024-13-01T00:00:00Z",
        "2024-01-21 25:00",
        1705864830,
        "\ud800",
        "2024\x00",
    ],
)
def test_created_at_must_be_iso_8601(api: Api, integration: Integration, created_at: Any) -> None:
    body = with_field(name_body(integration), "created_at", created_at)
    response = post_partner(api, cohorts_path(integration), body)
    assert response.status_code == 400
    assert response.json() == {"message": CREATED_AT_MESSAGE}
    assert cohort_or_none(api, integration, "c1") is None


def test_naming_fields_are_checked_in_table_order(api: Api, integration: Integration) -> None:
    path = cohorts_path(integration)
    everything_wrong = name_body(integration, cohort_id=1, name="", created_at="x")
    assert message(post_partner(api, path, everything_wrong)) == COHORT_ID_MESSAGE
    assert message(post_partner(api, path, {**everything_wrong, "cohort_id": "c1"})) == NAME_MESSAGE
    assert (
        message(post_partner(api, path, name_body(integration, created_at="x")))
        == CREATED_AT_MESSAGE
    )


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("2024-01-21T19:20:30+05:00", "2024-01-21T14:20:30Z"),
        ("2024-01-21T19:20:30Z", "2024-01-21T19:20:30Z"),
        ("2024-01-21T19:20:30.123Z", "2024-01-21T19:20:30.123000Z"),
        ("2024-01-21T19:20:30", "2024-01-21T19:20:30Z"),
        ("2024-01-21", "2024-01-21T00:00:00Z"),
    ],
)
def test_created_at_is_stored_in_utc(
    api: Api, integration: Integration, sent: str, stored: str
) -> None:
    assert (
        post_partner(
            api, cohorts_path(integration), name_body(integration, created_at=sent)
        ).status_code
        == 201
    )
    assert cohort_or_none(api, integration, "c1")["created_at"] == stored


def test_sync_ignores_naming_fields(api: Api, integration: Integration) -> None:
    body = {**changes_body(integration, "c1", [{"user_ids": ["u1"]}]), "name": 5, "created_at": "x"}
    assert post_partner(api, users_path(integration), body).status_code == 201
