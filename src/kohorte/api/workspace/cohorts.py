"""Cohorts of a workspace as partners pushed them: list, details, members.

Cohort ids may contain "/", so the routes take the rest of the path as the id; a trailing
"/users" selects the members route, "/history" the history route, "/unmatched" and "/why"
the routes that say why identifiers matched nobody and why a user is or is not a member; all
are therefore registered first.
"""

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from kohorte.api.deps import SessionDep, SettingsDep, permitted
from kohorte.api.query_params import Cursor, FirstDay, IdentifierQuery, LastDay, Limit
from kohorte.api.responses import ERROR_RESPONSES
from kohorte.api.workspace.users_schemas import HistoryEventOut
from kohorte.domain import cohort_why, cohorts, membership_history, unmatched
from kohorte.domain.access import WorkspaceAccess
from kohorte.domain.permissions import Permission
from kohorte.store.models import Cohort, CohortSync
from kohorte.store.user_views import UserView

router = APIRouter(prefix="/cohorts", tags=["cohorts"], responses=ERROR_RESPONSES)
Access = Annotated[WorkspaceAccess, Depends(permitted(Permission.COHORTS_READ))]


class CohortOut(BaseModel):
    partner: str
    cohort_id: str
    name: str | None
    created_at: datetime
    updated_at: datetime
    size: int
    last_synced_at: datetime | None

    @classmethod
    def of(cls, cohort: Cohort) -> "CohortOut":
        return cls.model_validate(_cohort_fields(cohort))


class SyncOut(BaseModel):
    received_at: datetime
    added: int
    removed: int
    unmatched: int


class CohortDetailOut(CohortOut):
    recent_syncs: list[SyncOut]


class CohortList(BaseModel):
    cohorts: list[CohortOut]


class AliasOut(BaseModel):
    alias_name: str
    alias_label: str


class DeviceOut(BaseModel):
    device_id: str


class ListedUser(BaseModel):
    external_id: str | None
    braze_id: str
    user_aliases: list[AliasOut]
    devices: list[DeviceOut]


class MemberPage(BaseModel):
    users: list[ListedUser]
    next_cursor: str | None


def _cohort_fields(cohort: Cohort) -> dict[str, object]:
    return {
        "partner": cohort.partner_name,
        "cohort_id": cohort.cohort_id,
        "name": cohort.name,
        "created_at": cohort.created_at,
        "updated_at": cohort.updated_at,
        "size": cohort.size,
        "last_synced_at": cohort.last_synced_at,
    }


def _sync_out(sync: CohortSync) -> SyncOut:
    return SyncOut.model_validate(sync, from_attributes=True)


def _listed_user(view: UserView) -> ListedUser:
    return ListedUser.model_validate(view)


@router.get("", response_model=CohortList)
def list_cohorts(
    session: SessionDep, access: Access, partner: Annotated[str | None, Query()] = None
) -> CohortList:
    found = cohorts.list_cohorts(session, access.workspace_id, partner)
    return CohortList(cohorts=[CohortOut.of(cohort) for cohort in found])


@router.get("/{partner}/{cohort_id:path}/users", response_model=MemberPage)
def list_cohort_members(
    partner: str,
    cohort_id: str,
    session: SessionDep,
    access: Access,
    limit: Limit = None,
    cursor: Cursor = None,
) -> MemberPage:
    page = cohorts.list_members(session, access.workspace_id, partner, cohort_id, limit, cursor)
    return MemberPage(
        users=[_listed_user(view) for view in page.items], next_cursor=page.next_cursor
    )


class HistoryDayOut(BaseModel):
    date: date
    entered: int
    left: int
    size: int


class CohortHistoryOut(BaseModel):
    days: list[HistoryDayOut]


@router.get("/{partner}/{cohort_id:path}/history", response_model=CohortHistoryOut)
def cohort_history(
    partner: str,
    cohort_id: str,
    session: SessionDep,
    settings: SettingsDep,
    access: Access,
    first: FirstDay = None,
    last: LastDay = None,
) -> CohortHistoryOut:
    """Per UTC day: members entered, members left, and the size at the end of the day (today:
    now), oldest first (kohorte extension)."""
    found = membership_history.cohort_history(
        session, access.workspace_id, partner, cohort_id, (first, last), settings.history_days
    )
    return CohortHistoryOut(
        days=[HistoryDayOut(date=d.day, entered=d.entered, left=d.left, size=d.size) for d in found]
    )


class UnmatchedOut(BaseModel):
    kind: Literal["external_id", "device_id", "alias"]
    value: str | AliasOut = Field(description="The id; for an alias, its name and label")
    reason: Literal[
        "no user with this external_id",
        "no user with this alias",
        "no user with this device_id",
        "device belongs to an identified user",
    ] = Field(description="Why it matched nobody when last seen")
    count: int = Field(description="Requests that sent it unmatched")
    first_seen_at: datetime
    last_seen_at: datetime

    @classmethod
    def of(cls, found: unmatched.Identifier) -> "UnmatchedOut":
        value: str | AliasOut = found.value
        if found.alias_label is not None:
            value = AliasOut(alias_name=found.value, alias_label=found.alias_label)
        fields = {k: v for k, v in vars(found).items() if k not in ("value", "alias_label")}
        return cls.model_validate({**fields, "value": value})


class UnmatchedPage(BaseModel):
    identifiers: list[UnmatchedOut]
    next_cursor: str | None


@router.get("/{partner}/{cohort_id:path}/unmatched", response_model=UnmatchedPage)
def list_unmatched(
    partner: str,
    cohort_id: str,
    session: SessionDep,
    access: Access,
    limit: Limit = None,
    cursor: Cursor = None,
) -> UnmatchedPage:
    """Identifiers that partner syncs of the cohort sent and that matched no user, the most
    recently seen first (kohorte extension)."""
    page = unmatched.list_unmatched(session, access.workspace_id, partner, cohort_id, limit, cursor)
    return UnmatchedPage(
        identifiers=[UnmatchedOut.of(found) for found in page.items],
        next_cursor=page.next_cursor,
    )


class WhyOut(BaseModel):
    member: bool
    reason: Literal["member", "no_user", "device_of_identified_user", "never_added", "removed"]
    user: ListedUser | None
    last_unmatched_at: datetime | None = Field(
        description="When a sync of this cohort last sent this identifier unmatched"
    )
    events: list[HistoryEventOut] = Field(description="The user's events in this cohort")


@router.get("/{partner}/{cohort_id:path}/why", response_model=WhyOut)
def why(
    partner: str,
    cohort_id: str,
    session: SessionDep,
    access: Access,
    external_id: IdentifierQuery = None,
    device_id: IdentifierQuery = None,
    alias_label: IdentifierQuery = None,
    alias_name: IdentifierQuery = None,
) -> WhyOut:
    """Why the user named by exactly one identifier is or is not a member (kohorte
    extension)."""
    question = cohort_why.Question(external_id, device_id, alias_label, alias_name)
    answer = cohort_why.why(session, access.workspace_id, partner, cohort_id, question)
    return WhyOut(
        member=answer.member,
        reason=answer.reason,
        user=None if answer.user is None else _listed_user(answer.user),
        last_unmatched_at=answer.last_unmatched_at,
        events=[HistoryEventOut.model_validate(e, from_attributes=True) for e in answer.events],
    )


@router.get("/{partner}/{cohort_id:path}", response_model=CohortDetailOut)
def get_cohort(
    partner: str, cohort_id: str, session: SessionDep, access: Access
) -> CohortDetailOut:
    detail = cohorts.get_cohort(session, access.workspace_id, partner, cohort_id)
    return CohortDetailOut.model_validate(
        {
            **_cohort_fields(detail.cohort),
            "recent_syncs": [_sync_out(sync) for sync in detail.recent_syncs],
        }
    )
