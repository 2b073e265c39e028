"""Evaluating segment filters: one set-based statement per size or page, at any instant.

The domain hands over a resolved filter tree (``Node``); everything SQL about it is here. A query
walks either the workspace's users or, when the filter requires membership of some cohort, that
cohort's stays (ordered by user id in both the index of open stays and the primary key), since
no user outside it can match. The rest of the filter is a condition on the walked user id, made
of EXISTS / NOT EXISTS over ``cohort_memberships``, which PostgreSQL plans as semi- and
anti-joins. Pages are keyset walks on the user id.

``as_of`` evaluates the filter over the stays as they stood at that instant: a user is a
member at T of a cohort holding a stay with entered_at <= T < left_at (left_at null: still
open). Stays of one user in one cohort never overlap, so a walk meets each user at most once.
Without ``as_of``, the open stays are read through their partial index.

Custom-attribute leaves (``AttributeTest``, compiled per dialect in ``store.segment_attributes``)
test the walked user's row: a walk over a cohort then joins ``users`` on the user id, once,
whatever the number of attribute leaves. Attributes have no history: the domain refuses them
under ``as_of``.

Walking a cohort relies on kohorte's rule that a cohort holds only users of its own workspace.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Engine,
    Select,
    and_,
    exists,
    false,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler

from kohorte.store.database import read_only_session
from kohorte.store.models import CohortMembership, User
from kohorte.store.segment_attributes import AttributeTest, attribute_condition
from kohorte.store.user_views import UserView, user_views


@dataclass(frozen=True)
class CohortTest:
    """A leaf: membership (``includes``) or not of a cohort; ``cohort_pk`` None when the
    cohort does not exist, which a stored filter may name: it is then empty."""

    cohort_pk: int | None
    size: int
    includes: bool


@dataclass(frozen=True)
class Every:
    children: tuple["Node", ...]


@dataclass(frozen=True)
class Some:
    children: tuple["Node", ...]


Node = CohortTest | AttributeTest | Every | Some


@dataclass(frozen=True)
class Selection:
    """Whom to count or list: a workspace's users matching ``tree`` at ``as_of`` (None: now)."""

    workspace_id: str
    tree: Node
    as_of: datetime | None = None


@dataclass(frozen=True)
class _Walk:
    source: Any  # the users table, or the aliased stays of the driving cohort
    user_id: ColumnElement[int]
    scope: ColumnElement[bool]
    # The leaf the walk itself satisfies; testing it again would cost a join.
    implied: CohortTest | None
    # The walked user's custom attributes (None: the filter tests none).
    attributes: ColumnElement[Any] | None = None
    # The walked user's row when a cohort walk joins ``users`` (aliased User).
    person: Any = None

    def select(self, *columns: Any) -> Select[Any]:
        query = select(*columns).select_from(self.source)
        if self.person is None:
            return query
        return query.join(self.person, self.person.id == self.user_id)


def count_members(session: Session, selection: Selection) -> int:
    return int(session.scalar(count_statement(selection)) or 0)


def member_ids(session: Session, selection: Selection, after: int | None, limit: int) -> list[int]:
    """Up to ``limit`` member ids above ``after``, in id order (one keyset page)."""
    return list(session.scalars(page_statement(selection, after, limit)))


def member_views(engine: Engine, selection: Selection, batch: int) -> Iterator[list[UserView]]:
    """Every member, in batches of views, each read in its own short read-only transaction,
    so memory stays flat and SQLite's write lock is never held."""
    after: int | None = None
    with read_only_session(engine) as session:
        while True:
            ids = member_ids(session, selection, after, batch)
            views = user_views(session, ids)
            session.commit()
            if views:
                yield views
            if len(ids) < batch:
                return
            after = ids[-1]


def page_statement(selection: Selection, after: int | None, limit: int) -> Select[Any]:
    walk = _walk(selection)
    query = walk.select(walk.user_id).where(walk.scope, _condition(selection, walk, after))
    if after is not None:
        query = query.where(walk.user_id > after)
        if walk.person is not None:  # not carried across the join (see _in_cohort)
            query = query.where(walk.person.id > after)
    return query.order_by(walk.user_id).limit(limit)


def count_statement(selection: Selection) -> Select[Any]:
    walk = _walk(selection)
    return walk.select(func.count()).where(walk.scope, _condition(selection, walk, None))


def _walk(selection: Selection) -> _Walk:
    driver = _driving_leaf(selection.tree)
    if driver is None or driver.cohort_pk is None:
        # Served by ix_users_workspace_id_id; a user created after as_of was nobody then.
        scope = User.workspace_id == selection.workspace_id
        if selection.as_of is not None:
            scope = and_(scope, User.created_at <= selection.as_of)
        attributes = (
            User.custom_attributes.expression if _tests_attributes(selection.tree) else None
        )
        return _Walk(User, User.id.expression, scope, None, attributes)
    walked = aliased(CohortMembership, name="walked")
    scope = _stay_holds(walked, driver.cohort_pk, selection.as_of)
    if not _tests_attributes(selection.tree):
        return _Walk(walked, walked.user_id.expression, scope, driver)
    person = aliased(User, name="walked_user")
    attributes = person.custom_attributes.expression
    return _Walk(walked, walked.user_id.expression, scope, driver, attributes, person)


def _tests_attributes(tree: Node) -> bool:
    if isinstance(tree, AttributeTest):
        return True
    if isinstance(tree, CohortTest):
        return False
    return any(_tests_attributes(child) for child in tree.children)


def _stay_holds(stays: Any, cohort_pk: int, as_of: datetime | None) -> ColumnElement[bool]:
    """The row is a stay of the cohort that holds at ``as_of`` (or now)."""
    if as_of is None:
        return and_(stays.cohort_pk == cohort_pk, stays.left_at.is_(None))
    return and_(
        stays.cohort_pk == cohort_pk,
        stays.entered_at <= as_of,
        or_(stays.left_at.is_(None), stays.left_at > as_of),
    )


def _driving_leaf(tree: Node) -> CohortTest | None:
    """The smallest existing cohort every member must belong to, if the filter requires one."""
    candidates = [tree] if isinstance(tree, CohortTest) else []
    if isinstance(tree, Every):
        candidates = [child for child in tree.children if isinstance(child, CohortTest)]
    found = [leaf for leaf in candidates if leaf.includes and leaf.cohort_pk is not None]
    return min(found, key=lambda leaf: leaf.size, default=None)


def _condition(selection: Selection, walk: _Walk, after: int | None) -> ColumnElement[bool]:
    return _compiled(selection.tree, walk, after, selection.as_of)


def _compiled(
    tree: Node, walk: _Walk, after: int | None, as_of: datetime | None
) -> ColumnElement[bool]:
    if isinstance(tree, CohortTest):
        return _leaf(tree, walk, after, as_of)
    if isinstance(tree, AttributeTest):
        assert walk.attributes is not None  # _walk provides them whenever a leaf tests one
        return _AttributeMatch(tree, walk.attributes)
    children = [_compiled(child, walk, after, as_of) for child in tree.children]
    return and_(*children) if isinstance(tree, Every) else or_(*children)


def _leaf(
    leaf: CohortTest, walk: _Walk, after: int | None, as_of: datetime | None
) -> ColumnElement[bool]:
    if leaf == walk.implied:
        return true()
    if leaf.cohort_pk is None:
        return false() if leaf.includes else true()
    member = _in_cohort(leaf.cohort_pk, walk.user_id, after, as_of)
    return member if leaf.includes else ~member


def _in_cohort(
    cohort_pk: int, user_id: ColumnElement[int], after: int | None, as_of: datetime | None
) -> ColumnElement[bool]:
    """Whether the walked user is in the cohort: a correlated EXISTS.

    ``after`` repeats a page's keyset bound inside the subquery: PostgreSQL carries equalities
    but not inequalities across a join, and without it a merge join would read the cohort's
    members from the start on every page.
    """
    stays = aliased(CohortMembership, name="probed")
    conditions = [_stay_holds(stays, cohort_pk, as_of), stays.user_id == user_id]
    if after is not None:
        conditions.append(stays.user_id > after)
    return exists().where(*conditions).correlate_except(stays)


class _AttributeMatch(ColumnElement[bool]):
    """An attribute test, compiled for the dialect the statement is compiled for, so that
    the statements above stay dialect-free (``store.segment_attributes``)."""

    type = Boolean()
    inherit_cache = False  # holds a dataclass the statement cache cannot key on

    def __init__(self, test: AttributeTest, attributes: ColumnElement[Any]) -> None:
        self.test = test
        self.attributes = attributes


@compiles(_AttributeMatch)
def _compile_attribute_match(element: _AttributeMatch, compiler: SQLCompiler, **kw: Any) -> str:
    postgresql = compiler.dialect.name == "postgresql"
    condition = attribute_condition(element.test, element.attributes, postgresql)
    return compiler.process(condition, **kw)
