"""Stays written by syncs whose clocks disagree: a sync takes its time before it waits for
locks, so another sync that took a later time may have committed first. A new stay then begins
no earlier than the user's previous stay ended (no instant counts the user twice), and every
event is counted on the day of the instant its stay actually records (both stores)."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from kohorte.store.membership_history import day_counts
from kohorte.store.models import Cohort, CohortMembership, User
from tests.support import Api
from tests.support.partner import adds, removes
from tests.support.seeds import Stay, seed_cohort_stays, seeding

# A time the store holds that is later than any sync's "now": a concurrent sync's, as seen
# by a sync that took its time before that one committed. Tomorrow: across a midnight.
LATER = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), datetime.min.time())
LATER = LATER.replace(hour=0, minute=30, tzinfo=UTC)

SHAPES: dict[str, list[dict[str, Any]]] = {
    "matched in one": [adds("u1")],
    "in order": [adds("u1"), adds("u1")],
    "replayed": [adds("u1"), removes("u1"), adds("u1")],
}


def stays_of(engine: Engine, external_id: str) -> list[tuple[datetime, datetime | None]]:
    with seeding(engine) as session:
        rows = session.execute(
            select(CohortMembership.entered_at, CohortMembership.left_at)
            .join(User, User.id == CohortMembership.user_id)
            .where(User.external_id == external_id)
            .order_by(CohortMembership.entered_at)
        ).all()
    return [(entered, left) for entered, left in rows]


def events_per_day(engine: Engine) -> dict[str, tuple[int, int]]:
    with seeding(engine) as session:
        cohort_pk = session.scalar(select(func.min(Cohort.id)))
        counts = day_counts(int(cohort_pk or 0), LATER.date() - timedelta(days=30))
        rows = session.execute(
            select(counts.c.day, func.sum(counts.c.entered), func.sum(counts.c.exited)).group_by(
                counts.c.day
            )
        ).all()
    found = {str(day): (int(came), int(went)) for day, came, went in rows}
    return {day: counts for day, counts in found.items() if counts != (0, 0)}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_stay_begins_no_earlier_than_the_previous_one_ended(
    api: Api, engine: Engine, shape: str
) -> None:
    integration = api.integration()
    entered = LATER - timedelta(days=3)
    seed_cohort_stays(engine, integration.workspace.id, "c1", [Stay("u1", entered, LATER)])
    api.synced(integration, "c1", *SHAPES[shape])
    stays = stays_of(engine, "u1")
    assert stays[0] == (entered, LATER)
    assert stays[-1][0] >= LATER
    assert stays[-1][1] is None
    for (_, ended), (began, _) in pairwise(stays):
        assert ended is not None
        assert began >= ended
    # The entered event is on the day the stay began: tomorrow, not today.
    per_day = events_per_day(engine)
    assert per_day[LATER.date().isoformat()][0] == len(stays) - 1
    assert sum(came for came, _ in per_day.values()) == len(stays)
    assert sum(went for _, went in per_day.values()) == len(stays) - 1


def test_an_exit_is_counted_on_the_day_its_stay_ends(api: Api, engine: Engine) -> None:
    """A stay that began after this sync's now ends when it began: on that day."""
    integration = api.integration()
    seed_cohort_stays(engine, integration.workspace.id, "c1", [Stay("u1", LATER)])
    api.synced(integration, "c1", removes("u1"))
    assert stays_of(engine, "u1") == [(LATER, LATER)]
    assert events_per_day(engine) == {LATER.date().isoformat(): (1, 1)}
