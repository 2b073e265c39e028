"""Moving what an anonymous user owns onto the identified user it merges into.

Each function takes a {source user id: target user id} mapping (every target at most once)
and costs one statement for all pairs: the mapping becomes a CASE over the source id.
"""

from collections.abc import Mapping

from sqlalchemy import Case, and_, case, exists, update
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from kohorte.store.models import UserAlias, UserDevice

Pairs = Mapping[int, int]


def _target_of(pairs: Pairs, source_column: InstrumentedAttribute[int]) -> Case[int]:
    return case(pairs, value=source_column)


def move_devices(session: Session, pairs: Pairs) -> None:
    session.execute(
        update(UserDevice)
        .where(UserDevice.user_id.in_(list(pairs)))
        .values(user_id=_target_of(pairs, UserDevice.user_id))
        .execution_options(synchronize_session=False)
    )


def move_aliases(session: Session, pairs: Pairs) -> None:
    """Move the sources' aliases unless the target already has one with that label."""
    held = aliased(UserAlias)
    target_has_label = exists().where(
        and_(
            held.user_id == _target_of(pairs, UserAlias.user_id),
            held.alias_label == UserAlias.alias_label,
        )
    )
    session.execute(
        update(UserAlias)
        .where(UserAlias.user_id.in_(list(pairs)), ~target_has_label)
        .values(user_id=_target_of(pairs, UserAlias.user_id))
        .execution_options(synchronize_session=False)
    )
