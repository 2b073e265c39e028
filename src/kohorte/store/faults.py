"""SQL of the faults injected on demand: created, listed in order, consumed one at a time."""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from kohorte.store.emulator_tables import Fault

# A fault used up by another request between our read and our update: look again, a few times.
CONSUME_ATTEMPTS = 5


@dataclass(frozen=True)
class TakenFault:
    status: int | None
    delay_ms: int


def create(
    session: Session,
    partner: str | None,
    cohort_id: str | None,
    status: int | None,
    count: int,
    delay_ms: int,
) -> Fault:
    values = {"partner": partner, "cohort_id": cohort_id, "status": status}
    fault_id = session.execute(
        insert(Fault).values(**values, remaining=count, delay_ms=delay_ms).returning(Fault.id)
    ).scalar_one()
    return session.get_one(Fault, fault_id)


def list_all(session: Session) -> list[Fault]:
    return list(session.scalars(select(Fault).order_by(Fault.id)))


def delete_one(session: Session, fault_id: int) -> bool:
    deleted = session.execute(delete(Fault).where(Fault.id == fault_id).returning(Fault.id))
    return deleted.first() is not None


def delete_all(session: Session) -> None:
    session.execute(delete(Fault))


def any_matching(session: Session, partner: str, cohort_id: str | None) -> bool:
    return session.scalar(_oldest_matching(partner, cohort_id)) is not None


def take(session: Session, partner: str, cohort_id: str | None) -> TakenFault | None:
    """Count one off the oldest fault matching the request; gone when used up.

    Called after ``any_matching`` found one (that read takes no write lock). The decrement
    is guarded by ``remaining > 0``: two requests racing for the last use cannot both take it.
    """
    for _ in range(CONSUME_ATTEMPTS):
        fault_id = session.scalar(_oldest_matching(partner, cohort_id))
        if fault_id is None:
            return None
        taken = session.execute(
            update(Fault)
            .where(Fault.id == fault_id, Fault.remaining > 0)
            .values(remaining=Fault.remaining - 1)
            .returning(Fault.status, Fault.delay_ms, Fault.remaining)
        ).one_or_none()
        if taken is not None:
            if taken.remaining <= 0:
                session.execute(delete(Fault).where(Fault.id == fault_id))
            return TakenFault(taken.status, taken.delay_ms)
    return None


def _oldest_matching(partner: str, cohort_id: str | None) -> Select[int]:
    cohort_match: ColumnElement[bool] = Fault.cohort_id.is_(None)
    if cohort_id is not None:
        cohort_match = or_(cohort_match, Fault.cohort_id == cohort_id)
    return (
        select(Fault.id)
        .where(or_(Fault.partner.is_(None), Fault.partner == partner), cohort_match)
        .where(Fault.remaining > 0)
        .order_by(Fault.id)
        .limit(1)
    )
