"""Faults on demand: the next partner requests that match wait, then fail as asked.

Kept in the store, so that every worker of the server applies the same faults, each use
counted once.
"""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain.errors import NotFound
from kohorte.domain.pagination import MAX_KEY
from kohorte.store import faults as store
from kohorte.store.emulator_tables import Fault
from kohorte.store.faults import TakenFault

# The answer of each status a fault may inject, as the vendor words it.
FAULT_MESSAGES = {
    423: "Resource locked",
    429: "Rate limit exceeded",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}
MAX_DELAY_MS = 60_000
# Requests a fault applies to: far beyond any test, and within the store's integers.
MAX_COUNT = 1_000_000
UNKNOWN_FAULT_MESSAGE = "No fault with this id"


@dataclass(frozen=True)
class FaultSpec:
    partner: str | None
    cohort_id: str | None
    status: int | None
    count: int
    delay_ms: int


@dataclass(frozen=True)
class FaultView:
    id: int
    partner: str | None
    cohort_id: str | None
    status: int | None
    count: int
    delay_ms: int


def create(session: Session, spec: FaultSpec) -> FaultView:
    """``spec`` is already checked (the HTTP model holds the rules, so OpenAPI shows them)."""
    fault = store.create(
        session, spec.partner, spec.cohort_id, spec.status, spec.count, spec.delay_ms
    )
    return _view(fault)


def list_faults(session: Session) -> list[FaultView]:
    return [_view(fault) for fault in store.list_all(session)]


def delete(session: Session, fault_id: int) -> None:
    # An id beyond BIGINT names no fault, and the store could not even be asked about it.
    if not 0 < fault_id <= MAX_KEY or not store.delete_one(session, fault_id):
        raise NotFound(UNKNOWN_FAULT_MESSAGE)


def clear(session: Session) -> None:
    store.delete_all(session)


def any_matching(session: Session, partner: str, cohort_id: str | None) -> bool:
    return store.any_matching(session, partner, cohort_id)


def take(session: Session, partner: str, cohort_id: str | None) -> TakenFault | None:
    """Use up one application of the oldest fault matching this request, if any."""
    return store.take(session, partner, cohort_id)


def _view(fault: Fault) -> FaultView:
    return FaultView(
        fault.id, fault.partner, fault.cohort_id, fault.status, fault.remaining, fault.delay_ms
    )
