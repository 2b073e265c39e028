"""Membership history: a user's events, a cohort's days, the kept window and pruning.

History is the stays themselves (``store.membership_history``): every change a partner sync or
a merge made, minus what deleted or merged-away users took with them. ``KOHORTE_HISTORY_DAYS``
bounds how far back it is kept; a read that asks about an earlier time is refused with a 400
that says from when history is kept, rather than answered from incomplete history.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from kohorte.domain import days
from kohorte.domain.cohorts import require_cohort
from kohorte.domain.errors import InvalidInput, NotFound
from kohorte.domain.users import fields
from kohorte.store import identities
from kohorte.store import membership_history as store
from kohorte.store.memberships import StayCause
from kohorte.store.types import utcnow

CAUSES = {StayCause.PARTNER_SYNC: "partner_sync", StayCause.MERGE: "merge"}
ONE_IDENTIFIER = (
    "Give exactly one of external_id, braze_id, device_id, or alias_label with alias_name"
)


@dataclass(frozen=True)
class Event:
    partner: str
    cohort_id: str
    event: str
    at: datetime
    cause: str


@dataclass(frozen=True)
class Day:
    day: date
    entered: int
    left: int
    size: int


@dataclass(frozen=True)
class UserRef:
    """How ``/users/cohort-history`` names its user: exactly one of these."""

    external_id: str | None = None
    braze_id: str | None = None
    device_id: str | None = None
    alias_label: str | None = None
    alias_name: str | None = None


def user_history(session: Session, workspace_id: str, ref: UserRef) -> list[Event]:
    user_id = _find_user(session, workspace_id, ref)
    return [
        Event(e.partner, e.cohort_id, e.event, e.at, CAUSES[StayCause(e.cause)])
        for e in store.user_events(session, user_id)
    ]


def cohort_history(
    session: Session,
    workspace_id: str,
    partner: str,
    cohort_id: str,
    window: tuple[str | None, str | None],
    history_days: int | None,
) -> list[Day]:
    """Per day from ``from`` to ``to``: events that day and the size at its end (today: now)."""
    now = utcnow()
    cohort = require_cohort(session, workspace_id, partner, cohort_id)
    first, last = _kept_window(session, window, history_days, now)
    return _days_backwards(first, last, store.cohort_window(session, cohort.id, first, last))


def _kept_window(
    session: Session, window: tuple[str | None, str | None], history_days: int | None, now: datetime
) -> tuple[date, date]:
    """The days asked for; without ``from``, the default window starts no earlier than the
    first whole day still kept. A range reaching before the kept history is a 400 naming the
    bound the client sent (``to`` when it sent no ``from``)."""
    first, last = days.resolve_range(*window, now.date())
    if last > now.date():
        raise InvalidInput(f"to ({last}) is after today ({now.date()})")
    horizon = kept_from(session, history_days, now)
    if horizon is None:
        return first, last
    if window[0] is None:
        first = min(last, max(first, _first_whole_day(horizon)))
    _refuse_before(days.start_of(first), horizon, "from" if window[0] is not None else "to")
    return first, last


def _first_whole_day(horizon: datetime) -> date:
    """A horizon at midnight keeps all of its day."""
    day = horizon.date()
    return day if days.start_of(day) >= horizon else day + timedelta(days=1)


def _days_backwards(first: date, last: date, window: store.CohortWindow) -> list[Day]:
    """Sizes from the last day's back: a day ends with the next day's size, less what entered
    and plus what left on the next day. Only the window is walked."""
    counts = {found.day: found for found in window.days}
    result: list[Day] = []
    size = window.size
    for back in range((last - first).days + 1):
        day = last - timedelta(days=back)
        found = counts.get(day, store.DayCounts(day, 0, 0))
        result.append(Day(day, found.entered, found.left, size))
        size += found.left - found.entered
    return result[::-1]


def kept_from(session: Session, history_days: int | None, now: datetime) -> datetime | None:
    """The earliest instant history still answers for (None: all of it is kept)."""
    bounds = [store.pruned_before(session)]
    if history_days:
        bounds.append(now - timedelta(days=history_days))
    found = [bound for bound in bounds if bound is not None]
    return max(found, default=None)


def check_kept(session: Session, instant: datetime, history_days: int | None, name: str) -> None:
    _refuse_before(instant, kept_from(session, history_days, utcnow()), name)


def _refuse_before(instant: datetime, horizon: datetime | None, name: str) -> None:
    if horizon is not None and instant < horizon:
        raise InvalidInput(
            f"{name} ({instant.isoformat()}) is before the kept history: membership history "
            f"is kept from {horizon.isoformat()}"
        )


def as_of(session: Session, text: str | None, history_days: int | None) -> datetime | None:
    """A client's ``as_of``: None (now) when not given, else a kept past instant."""
    if text is None:
        return None
    instant = days.parse_instant(text, "as_of", utcnow())
    check_kept(session, instant, history_days, "as_of")
    return instant


@dataclass(frozen=True)
class Pruned:
    stays: int
    before: datetime
    skipped: bool = False  # another prune was running: this one did nothing


def prune(session: Session, history_days: int | None, now: datetime | None = None) -> Pruned:
    """Fold away the events older than the window: the stays that ended before it. No current
    membership and no size at a time still kept changes.

    Commits as it goes: the horizon first (reads before it are refused from then on), then
    short batches, each its own transaction, so no lock is held for long (on SQLite: the write
    lock). On PostgreSQL one prune runs at a time; one that finds another running skips.
    """
    if history_days is None or history_days <= 0:
        raise InvalidInput(
            "history days must be a positive number of days (set KOHORTE_HISTORY_DAYS)"
        )
    before = (now or utcnow()) - timedelta(days=history_days)
    if not store.take_prune_lock(session):
        session.rollback()
        return Pruned(0, before, skipped=True)
    store.record_horizon(session, before)
    session.commit()
    stays = _in_batches(session, lambda: store.prune_stays(session, before))
    _in_batches(session, lambda: store.prune_days(session, before.date()))
    return Pruned(stays, before)


def _in_batches(session: Session, batch: Callable[[], int]) -> int:
    """Runs ``batch`` in transactions of its own until it deletes less than a full batch, or
    another prune takes over (it deletes the same rows); returns how many it deleted."""
    total = 0
    while store.take_prune_lock(session):
        deleted = batch()
        session.commit()
        total += deleted
        if deleted < store.PRUNE_BATCH:
            break
    session.rollback()
    return total


def _find_user(session: Session, workspace_id: str, ref: UserRef) -> int:
    given = [value for value in (ref.external_id, ref.braze_id, ref.device_id) if value is not None]
    has_alias = ref.alias_label is not None or ref.alias_name is not None
    if len(given) + has_alias != 1:
        raise InvalidInput(ONE_IDENTIFIER)
    found = _lookup(session, workspace_id, ref)
    if found is None:
        raise NotFound("User not found")
    return found


def _lookup(session: Session, workspace_id: str, ref: UserRef) -> int | None:
    if ref.external_id is not None:
        value = fields.identifier(ref.external_id, "external_id")
        return identities.users_by_external_id(session, workspace_id, [value]).get(value)
    if ref.braze_id is not None:
        value = fields.identifier(ref.braze_id, "braze_id")
        return identities.users_by_braze_id(session, workspace_id, [value]).get(value)
    if ref.device_id is not None:
        value = fields.identifier(ref.device_id, "device_id")
        return identities.device_owners(session, workspace_id, [value]).get(value)
    alias = fields.alias(
        {"alias_label": ref.alias_label, "alias_name": ref.alias_name}, "alias_label/alias_name"
    )
    return identities.users_by_alias(session, workspace_id, [alias.key]).get(alias.key)
