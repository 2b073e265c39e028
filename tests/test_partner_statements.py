"""Statements per partner request: a fixed handful, whatever the batch size (both stores)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from tests.seed import seed_user, seed_users_bulk
from tests.seed_cohorts import seeding
from tests.support import Api, Integration

# Admission (credentials, rate-limit count) and the sync (lock, cohort, three lookups, enter,
# leave, sync log, counter delta), with room for the transaction statements of each store.
MOST_STATEMENTS = 16


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def seed(engine: Engine, workspace_id: str, users: int) -> None:
    with seeding(engine) as session:
        seed_users_bulk(session, workspace_id, [f"u{n}" for n in range(users)])
        for n in range(users):
            seed_user(session, workspace_id, devices=[f"d{n}"], aliases=[("crm", f"a{n}")])


def mixed(n: int) -> list[dict[str, Any]]:
    """Adds then removes of n identifiers of every kind, half of them in both."""

    def ids(start: int, end: int) -> dict[str, Any]:
        return {
            "user_ids": [f"u{i}" for i in range(start, end)],
            "device_ids": [f"d{i}" for i in range(start, end)],
            "aliases": [{"alias_label": "crm", "alias_name": f"a{i}"} for i in range(start, end)],
        }

    return [ids(0, n), {**ids(n // 2, n), "should_remove": True}]


def statements_of_sync(api: Api, engine: Engine, integration: Integration, n: int) -> list[str]:
    with counting(engine) as statements:
        response = api.sync(integration, f"cohort-{n}", mixed(n))
    assert response.status_code == 201, response.text
    assert (response.json()["added"], response.json()["removed"]) == (2 * n, n)
    return statements


def test_statements_do_not_grow_with_the_batch(api: Api, engine: Engine) -> None:
    integration = api.integration()
    seed(engine, integration.workspace.id, 222)
    for n in (2, 222):  # the first sync of a window also drops the key's older windows
        api.expect(api.name_cohort(integration, f"cohort-{n}"), 201)
    api.expect(api.sync(integration, "cohort-2", []), 201)
    small = statements_of_sync(api, engine, integration, 2)
    large = statements_of_sync(api, engine, integration, 222)
    assert len(small) == len(large) <= MOST_STATEMENTS, (small, large)
