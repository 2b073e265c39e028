"""The partner cohort import API, wire-compatible with Braze's (credentials in the body)."""

from fastapi import APIRouter

from kohorte.api import metrics
from kohorte.api.deps import SessionDep, SettingsDep
from kohorte.api.partner import schemas
from kohorte.api.partner.deps import JsonObjectDep, PartnerCallerDep, PartnerRoute
from kohorte.domain.cohort_import import sync as cohort_sync

router = APIRouter(
    prefix="/partners/{partner}", tags=["partner cohort import"], route_class=PartnerRoute
)


@router.post(
    "/cohorts",
    status_code=201,
    response_model=schemas.CohortNamed,
    summary="Name a cohort (create it, or rename it keeping its first created_at)",
    openapi_extra=schemas.request_body(schemas.CohortNameRequest),
    responses={201: {"headers": schemas.RATE_LIMIT_HEADERS}, **schemas.NAME_ERRORS},
)
def name_cohort(
    body: JsonObjectDep, caller: PartnerCallerDep, session: SessionDep
) -> schemas.CohortNamed:
    cohort_sync.name_cohort(session, caller, body)
    return schemas.CohortNamed()


@router.post(
    "/cohorts/users",
    status_code=201,
    response_model=schemas.CohortUsersChanged,
    summary="Add and remove members of a cohort, in order and all at once",
    openapi_extra=schemas.request_body(schemas.CohortUsersRequest),
    responses={201: {"headers": schemas.RATE_LIMIT_HEADERS}, **schemas.CHANGES_ERRORS},
)
def change_cohort_users(
    body: JsonObjectDep, caller: PartnerCallerDep, session: SessionDep, settings: SettingsDep
) -> schemas.CohortUsersChanged:
    result = cohort_sync.sync_cohort(session, caller, body, settings.unmatched_per_cohort)
    metrics.record_identifiers(result.matched, result.unmatched)
    return schemas.CohortUsersChanged(
        added=result.added, removed=result.removed, unmatched=result.unmatched
    )
