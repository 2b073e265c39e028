"""Statements per partner request: a fixed handful, whatever the batch size (both stores)."""

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.support import Api
from tests.support.databases import counting_statements
from tests.support.seeds import seed_user, seed_users_bulk, seeding

# Admission (credentials, rate-limit count) and the sync (lock, cohort, three lookups, enter,
# leave, sync log, counter delta), with room for the transaction statements of each store.
# Plus the emulator controls around the route: the fault check (a read) and the journal
# entry (insert, eviction), with their transaction statements.
MOST_STATEMENTS = 16 + 5


def seed(engine: Engine, workspace_id: str, users: int) -> None:
    with seeding(engine) as session:
        seed_users_bulk(session, workspace_id, [f"u{n}" for n in range(users)])
        for n in range(users):
            seed_user(session, workspace_id, devices=[f"d{n}"], aliases=[("crm", f"a{n}")])


def ids(start: int, end: int) -> dict[str, Any]:
    """Identifiers of every kind for the users numbered from start to end."""
    return {
        "user_ids": [f"u{i}" for i in range(start, end)],
        "device_ids": [f"d{i}" for i in range(start, end)],
        "aliases": [{"alias_label": "crm", "alias_name": f"a{i}"} for i in range(start, end)],
    }


def replayed(n: int) -> tuple[list[dict[str, Any]], tuple[int, int]]:
    """Adds of n users of every kind, then removes of half of them: replayed in order."""
    return [ids(0, n), {**ids(n // 2, n), "should_remove": True}], (2 * n, n)


def matched_in_one(n: int) -> tuple[list[dict[str, Any]], tuple[int, int]]:
    """Adds of some users and removes of others: matched and written in one statement."""
    return [ids(0, n), {**ids(n, n + n // 2), "should_remove": True}], (2 * n, 0)


@pytest.mark.parametrize("shape", [replayed, matched_in_one])
def test_statements_do_not_grow_with_the_batch(
    api: Api, engine: Engine, shape: Callable[[int], tuple[list[dict[str, Any]], tuple[int, int]]]
) -> None:
    integration = api.integration()
    seed(engine, integration.workspace.id, 333)
    for n in (2, 222):  # the first sync of a window also drops the key's older windows
        api.expect(api.name_cohort(integration, f"cohort-{n}"), 201)
    api.expect(api.sync(integration, "cohort-2", []), 201)
    counted = []
    for n in (2, 222):
        changes, expected = shape(n)
        with counting_statements(engine) as statements:
            response = api.sync(integration, f"cohort-{n}", changes)
        assert response.status_code == 201, response.text
        assert (response.json()["added"], response.json()["removed"]) == expected
        counted.append(statements)
    small, large = counted
    assert len(small) == len(large) <= MOST_STATEMENTS, (small, large)
    # Everything matched: the ledger of unmatched identifiers costs nothing.
    assert not [sql for sql in small + large if "unmatched_identifiers" in sql]


# The ledger of unmatched identifiers: a lookup per kind for the reason, the upsert, and the
# bound when the upsert added identifiers.
LEDGER_STATEMENTS = 5


def test_unmatched_identifiers_cost_a_fixed_handful_more(api: Api, engine: Engine) -> None:
    integration = api.integration()
    seed(engine, integration.workspace.id, 333)
    requests = {
        "matched": [ids(0, 100)],
        "one-each-unmatched": [ids(0, 99), ids(400, 401)],
        "mostly-unmatched": [ids(400, 500), ids(0, 1)],
    }
    for cohort_id in requests:
        api.expect(api.name_cohort(integration, cohort_id), 201)
    api.expect(api.sync(integration, "matched", []), 201)
    counted = {}
    for cohort_id, changes in requests.items():
        with counting_statements(engine) as statements:
            api.expect(api.sync(integration, cohort_id, changes), 201)
        counted[cohort_id] = statements
    some, every = counted["one-each-unmatched"], counted["mostly-unmatched"]
    assert len(some) == len(every) == len(counted["matched"]) + LEDGER_STATEMENTS, (some, every)
    assert len([sql for sql in every if "unmatched_identifiers" in sql]) == 2
