"""Users, their aliases and devices: set-based reads and writes (a few statements a batch).

Which user holds an identifier is looked up in ``store/identities.py``.
"""

import itertools
import os
import secrets
import time
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from kohorte.store.batches import in_batch
from kohorte.store.dialect import dialect_insert, is_postgresql
from kohorte.store.identities import users_by_braze_id, users_by_external_id
from kohorte.store.models import Cohort, CohortMembership, User, UserAlias, UserDevice
from kohorte.store.types import utcnow


def new_braze_id() -> str:
    return new_braze_ids(1)[0]


def new_braze_ids(count: int) -> list[str]:
    """Braze ids shaped as Braze's own, MongoDB ObjectIds: 24 hex digits, the time in seconds
    (4 bytes), 5 random bytes per process, a counter (3 bytes). Ids made later sort later, so
    the unique index on braze ids grows at its end instead of taking a random page per new
    user (with random ids, half of a bulk import's time on SQLite at 200,000 users)."""
    prefix = f"{int(time.time()) & 0xFFFFFFFF:08x}{_process_random()}"
    return [f"{prefix}{next(_braze_id_counter) & 0xFFFFFF:06x}" for _ in range(count)]


_braze_id_counter = itertools.count(secrets.randbelow(1 << 24))
_process_randoms: dict[int, str] = {}


def _process_random() -> str:
    """Drawn again in a forked worker, which would otherwise repeat its parent's ids."""
    return _process_randoms.setdefault(os.getpid(), secrets.token_hex(5))


def external_ids_of(session: Session, user_ids: Collection[int]) -> dict[int, str | None]:
    if not user_ids:
        return {}
    rows = session.execute(
        select(User.id, User.external_id).where(in_batch(session, User.id, user_ids))
    )
    return dict(rows.all())


def alias_labels_of(session: Session, user_ids: Collection[int]) -> dict[int, dict[str, str]]:
    """Each user's aliases as {label: name}."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(UserAlias.user_id, UserAlias.alias_label, UserAlias.alias_name).where(
            in_batch(session, UserAlias.user_id, user_ids)
        )
    ).all()
    labels: dict[int, dict[str, str]] = {}
    for user_id, label, name in rows:
        labels.setdefault(user_id, {})[label] = name
    return labels


def create_identified_users(
    session: Session, workspace_id: str, attributes_by_external_id: Mapping[str, dict[str, Any]]
) -> dict[str, int]:
    """Create the users whose external ids are new (a concurrent creator wins); all their ids."""
    if not attributes_by_external_id:
        return {}
    now = utcnow()
    rows = [
        _user_row(workspace_id, external_id, attributes, now)
        for external_id, attributes in attributes_by_external_id.items()
    ]
    insert = dialect_insert(session, User.__table__).on_conflict_do_nothing(
        index_elements=["workspace_id", "external_id"]
    )
    session.execute(insert, rows)
    return users_by_external_id(session, workspace_id, list(attributes_by_external_id))


def create_anonymous_users(
    session: Session, workspace_id: str, attributes: list[dict[str, Any]]
) -> list[int]:
    """One user without an external id per entry; their ids in the order given."""
    if not attributes:
        return []
    now = utcnow()
    rows = [_user_row(workspace_id, None, attrs, now) for attrs in attributes]
    session.execute(dialect_insert(session, User.__table__), rows)
    ids = users_by_braze_id(session, workspace_id, [row["braze_id"] for row in rows])
    return [ids[row["braze_id"]] for row in rows]


def _user_row(
    workspace_id: str, external_id: str | None, attributes: dict[str, Any], now: Any
) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "external_id": external_id,
        "braze_id": new_braze_id(),
        "custom_attributes": attributes,
        "created_at": now,
        "updated_at": now,
    }


def custom_attributes_of(
    session: Session, user_ids: Collection[int], *, for_update: bool = True
) -> dict[int, dict[str, Any]]:
    """Current attributes; rows locked on PostgreSQL (for_update) so read-modify-write holds."""
    return _documents_of(session, User.custom_attributes, user_ids, for_update)


def save_custom_attributes(session: Session, attributes: Mapping[int, dict[str, Any]]) -> None:
    _save_documents(session, "custom_attributes", attributes)


def _documents_of(
    session: Session,
    column: InstrumentedAttribute[dict[str, Any]],
    user_ids: Collection[int],
    for_update: bool,
) -> dict[int, dict[str, Any]]:
    """A JSON column of the users (custom attributes or profile), each as a fresh dict."""
    if not user_ids:
        return {}
    query = select(User.id, column).where(in_batch(session, User.id, user_ids))
    if for_update:
        query = query.order_by(User.id).with_for_update()
    return {user_id: dict(document or {}) for user_id, document in session.execute(query).all()}


def _save_documents(session: Session, column: str, documents: Mapping[int, dict[str, Any]]) -> None:
    if not documents:
        return
    now = utcnow()
    session.execute(
        update(User),
        [{"id": user_id, column: doc, "updated_at": now} for user_id, doc in documents.items()],
    )


def set_external_ids(session: Session, external_ids: Mapping[int, str]) -> None:
    if not external_ids:
        return
    now = utcnow()
    session.execute(
        update(User),
        [
            {"id": user_id, "external_id": external_id, "updated_at": now}
            for user_id, external_id in external_ids.items()
        ],
    )


def add_aliases(
    session: Session, workspace_id: str, aliases: Iterable[tuple[int, str, str]]
) -> None:
    """Insert (user_id, label, name) aliases; one already taken is left to its holder."""
    rows = [
        {"workspace_id": workspace_id, "user_id": user_id, "alias_label": label, "alias_name": name}
        for user_id, label, name in aliases
    ]
    if rows:
        session.execute(dialect_insert(session, UserAlias.__table__).on_conflict_do_nothing(), rows)


def add_devices(session: Session, workspace_id: str, devices: Mapping[str, int]) -> None:
    """Insert devices for their users; a device already known keeps its owner."""
    rows = _device_rows(workspace_id, devices)
    if rows:
        session.execute(
            dialect_insert(session, UserDevice.__table__).on_conflict_do_nothing(), rows
        )


def assign_devices(session: Session, workspace_id: str, devices: Mapping[str, int]) -> None:
    """Insert devices or hand them over to the given users."""
    rows = _device_rows(workspace_id, devices)
    if not rows:
        return
    insert = dialect_insert(session, UserDevice.__table__)
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["workspace_id", "device_id"],
            set_={"user_id": insert.excluded.user_id},
        ),
        rows,
    )


def _device_rows(workspace_id: str, devices: Mapping[str, int]) -> list[dict[str, Any]]:
    return [
        {"workspace_id": workspace_id, "device_id": device_id, "user_id": user_id}
        for device_id, user_id in devices.items()
    ]


def delete_users(session: Session, user_ids: Collection[int]) -> int:
    """Delete users; aliases and devices go with them (foreign key cascade), memberships do
    not (see ``memberships.remove_users``)."""
    if not user_ids:
        return 0
    result = session.execute(delete(User).where(User.id.in_(set(user_ids))))
    return int(result.rowcount)  # type: ignore[attr-defined]


def cohorts_of(
    session: Session, user_ids: Collection[int]
) -> dict[int, list[tuple[str, str, str | None]]]:
    """Each user's cohorts as (partner, cohort_id, name), in a stable order."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(CohortMembership.user_id, Cohort.partner_name, Cohort.cohort_id, Cohort.name)
        .join(Cohort, Cohort.id == CohortMembership.cohort_pk)
        .where(
            in_batch(session, CohortMembership.user_id, user_ids),
            CohortMembership.left_at.is_(None),
        )
        .order_by(CohortMembership.user_id, Cohort.partner_name, Cohort.cohort_id)
    ).all()
    cohorts: dict[int, list[tuple[str, str, str | None]]] = {}
    for user_id, partner, cohort_id, name in rows:
        cohorts.setdefault(user_id, []).append((partner, cohort_id, name))
    return cohorts


def refresh_statistics(session: Session) -> None:
    """Let PostgreSQL's planner see how far a bulk import has grown the users tables: with
    autovacuum lagging (or off) it would keep planning for empty tables."""
    if is_postgresql(session):
        session.execute(text("ANALYZE users, user_aliases, user_devices"))


def profiles_of(session: Session, user_ids: Collection[int]) -> dict[int, dict[str, Any]]:
    """Standard profile fields; rows locked on PostgreSQL so read-modify-write holds."""
    return _documents_of(session, User.profile, user_ids, for_update=True)


def save_profiles(session: Session, profiles: Mapping[int, dict[str, Any]]) -> None:
    _save_documents(session, "profile", profiles)
