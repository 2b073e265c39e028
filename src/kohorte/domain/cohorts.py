"""Reading a workspace's cohorts: listing, details with recent syncs, members page by page."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain.errors import NotFound
from kohorte.domain.pagination import Page, check_limit, decode_cursor, page_from_keys
from kohorte.domain.partners import PARTNER_NAME, require_partner
from kohorte.domain.text import is_valid_cohort_id
from kohorte.store import cohort_reads as store
from kohorte.store.models import Cohort, CohortSync
from kohorte.store.user_views import UserView, user_views

RECENT_SYNCS_SHOWN = 20


@dataclass(frozen=True)
class CohortDetail:
    cohort: Cohort
    recent_syncs: Sequence[CohortSync]


def list_cohorts(session: Session, workspace_id: str, partner: str | None) -> Sequence[Cohort]:
    """All cohorts of the workspace, or those of one partner (which must exist)."""
    if partner is not None:
        _require_partner(session, partner)
    return store.list_cohorts(session, workspace_id, partner)


def get_cohort(session: Session, workspace_id: str, partner: str, cohort_id: str) -> CohortDetail:
    cohort = require_cohort(session, workspace_id, partner, cohort_id)
    return CohortDetail(cohort, store.recent_syncs(session, cohort.id, RECENT_SYNCS_SHOWN))


def list_members(
    session: Session,
    workspace_id: str,
    partner: str,
    cohort_id: str,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[UserView]:
    """One page of members ordered by user id; members present throughout a walk are each
    returned exactly once, whatever else joins or leaves meanwhile."""
    page_size = check_limit(limit)
    after = decode_cursor(cursor)
    cohort = require_cohort(session, workspace_id, partner, cohort_id)
    keys = store.member_ids_after(session, cohort.id, after, page_size + 1)
    page_keys, next_cursor = page_from_keys(keys, page_size)
    return Page(user_views(session, page_keys), next_cursor)


def require_cohort(session: Session, workspace_id: str, partner: str, cohort_id: str) -> Cohort:
    # Text the store could never hold (NUL, lone surrogates, oversized) names no cohort; it is
    # answered without a query and never echoed back.
    cohort = None
    if PARTNER_NAME.fullmatch(partner) and is_valid_cohort_id(cohort_id):
        cohort = store.find_cohort(session, workspace_id, partner, cohort_id)
    if cohort is None:
        raise NotFound(_cohort_not_found(partner, cohort_id))
    return cohort


def _require_partner(session: Session, partner: str) -> None:
    if not PARTNER_NAME.fullmatch(partner):
        raise NotFound("Partner not found: partner names match [a-z0-9][a-z0-9_-]*")
    require_partner(session, partner)


def _cohort_not_found(partner: str, cohort_id: str) -> str:
    if PARTNER_NAME.fullmatch(partner) and is_valid_cohort_id(cohort_id):
        return f"Cohort '{cohort_id}' of partner '{partner}' not found"
    return "Cohort not found"


def cohort_exists(session: Session, workspace_id: str, partner: str, cohort_id: str) -> bool:
    try:
        require_cohort(session, workspace_id, partner, cohort_id)
    except NotFound:
        return False
    return True
