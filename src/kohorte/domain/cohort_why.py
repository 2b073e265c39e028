"""Why a user is or is not in a cohort: who the identifier names, whether they are a member,
what history says, and when a sync of the cohort last sent the identifier unmatched.

The identifier resolves as the users API resolves it (an external id, an alias's holder, a
device's owner whether identified or not); the answer's precedence is the contract's: a member
is ``member`` however addressed; otherwise a device id whose owner has an external id is
``device_of_identified_user`` (partner syncs do not match it); otherwise ``no_user``,
``never_added`` (no event in this cohort) or ``removed`` (the last event is the removal).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kohorte.domain.cohort_import.matcher import Kind
from kohorte.domain.cohorts import require_cohort
from kohorte.domain.errors import InvalidInput
from kohorte.domain.membership_history import CAUSES, Event
from kohorte.domain.users import fields
from kohorte.store import identities, membership_history, unmatched
from kohorte.store.membership_history import ENTERED
from kohorte.store.memberships import StayCause
from kohorte.store.models import Cohort
from kohorte.store.user_views import UserView, user_views

ONE_IDENTIFIER = "Give exactly one of external_id, device_id, or alias_label with alias_name"


@dataclass(frozen=True)
class Question:
    """How ``why`` names its user: exactly one of these (an alias: both of its fields)."""

    external_id: str | None = None
    device_id: str | None = None
    alias_label: str | None = None
    alias_name: str | None = None


@dataclass(frozen=True)
class Answer:
    member: bool
    reason: str
    user: UserView | None
    last_unmatched_at: datetime | None
    events: list[Event]


@dataclass(frozen=True)
class _Asked:
    """The question's identifier as the ledger keys it."""

    kind: Kind
    label: str
    value: str


def why(
    session: Session, workspace_id: str, partner: str, cohort_id: str, question: Question
) -> Answer:
    asked = _asked(question)
    cohort = require_cohort(session, workspace_id, partner, cohort_id)
    user_id, identified_device = _holder(session, workspace_id, asked)
    events = _events(session, cohort, user_id)
    member = bool(events) and events[-1].event == ENTERED
    return Answer(
        member,
        _reason(member, user_id, identified_device, events),
        next(iter(user_views(session, [user_id])), None) if user_id is not None else None,
        unmatched.last_seen(session, cohort.id, asked.kind, asked.label, asked.value),
        events,
    )


def _asked(question: Question) -> _Asked:
    given = [v for v in (question.external_id, question.device_id) if v is not None]
    has_alias = question.alias_label is not None or question.alias_name is not None
    if len(given) + has_alias != 1:
        raise InvalidInput(ONE_IDENTIFIER)
    if question.external_id is not None:
        return _Asked(Kind.EXTERNAL_ID, "", fields.identifier(question.external_id, "external_id"))
    if question.device_id is not None:
        return _Asked(Kind.DEVICE_ID, "", fields.identifier(question.device_id, "device_id"))
    if question.alias_label is None or question.alias_name is None:
        raise InvalidInput(ONE_IDENTIFIER)
    label = fields.identifier(question.alias_label, "alias_label")
    return _Asked(Kind.ALIAS, label, fields.identifier(question.alias_name, "alias_name"))


def _holder(session: Session, workspace_id: str, asked: _Asked) -> tuple[int | None, bool]:
    """The user the identifier names, and whether it is a device of an identified user."""
    if asked.kind is Kind.EXTERNAL_ID:
        found = identities.users_by_external_id(session, workspace_id, [asked.value])
        return found.get(asked.value), False
    if asked.kind is Kind.ALIAS:
        key = (asked.label, asked.value)
        return identities.users_by_alias(session, workspace_id, [key]).get(key), False
    owner = identities.device_holders(session, workspace_id, [asked.value]).get(asked.value)
    return (None, False) if owner is None else (owner.user_id, owner.identified)


def _events(session: Session, cohort: Cohort, user_id: int | None) -> list[Event]:
    """The user's events in this cohort, oldest first: its last says whether they are in."""
    if user_id is None:
        return []
    return [
        Event(e.partner, e.cohort_id, e.event, e.at, CAUSES[StayCause(e.cause)])
        for e in membership_history.user_events(session, user_id)
        if (e.partner, e.cohort_id) == (cohort.partner_name, cohort.cohort_id)
    ]


def _reason(member: bool, user_id: int | None, identified_device: bool, events: list[Event]) -> str:
    if member:
        return "member"
    if identified_device:
        return "device_of_identified_user"
    if user_id is None:
        return "no_user"
    return "removed" if events else "never_added"
