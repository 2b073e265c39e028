"""From a filter tree to the one SQL statement that counts or pages a segment's members.

Cohorts are resolved in one query per filter. A new or changed filter must name partners and
cohorts that exist (strict); a stored filter whose cohort has since disappeared is evaluated as
if that cohort were empty, so a saved segment keeps answering.

When a filter requires membership of a cohort (it is an ``includes_value`` leaf, or an ``and``
holding one), the query walks that cohort's members, the smallest such cohort if there are
several, instead of every user of the workspace: a size over a cohort of half a million then
reads half a million index entries, not every user.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from kohorte.domain.errors import InvalidInput
from kohorte.domain.segments.filters import CohortRef, Combination, Filter, Leaf, leaves, shown
from kohorte.store import segment_queries as queries
from kohorte.store import segments as store
from kohorte.store.segment_queries import MemberCondition, Walk
from kohorte.store.segments import CohortRow


@dataclass(frozen=True)
class Resolved:
    """What a filter's leaves refer to: partners' display names and the cohorts found."""

    partners: Mapping[str, str]
    cohorts: Mapping[CohortRef, CohortRow]


@dataclass(frozen=True)
class Members:
    """A resolved filter, ready to be compiled for a count or for any page of the walk."""

    tree: Filter
    resolved: Resolved
    workspace_id: str

    @property
    def walk(self) -> Walk:
        driver = _driving_leaf(self.tree, self.resolved)
        if driver is None:
            return queries.workspace_users(self.workspace_id)
        return queries.cohort_members(self.resolved.cohorts[driver.cohort].pk)

    def condition(self, walk: Walk, after: int | None = None) -> MemberCondition:
        """The condition on ``walk`` selecting members, for a page starting above ``after``."""
        # The walked cohort's own leaf holds for every row walked; testing it again would cost
        # a join.
        implied = _driving_leaf(self.tree, self.resolved)
        return compile_filter(self.tree, self.resolved, _Target(walk.user_id, after, implied))


def resolve(session: Session, workspace_id: str, tree: Filter) -> Resolved:
    refs = {leaf.cohort for leaf in leaves(tree)}
    partners = store.existing_partners(session, {ref.partner for ref in refs})
    found = store.find_cohorts(session, workspace_id, {(r.partner, r.cohort_id) for r in refs})
    cohorts = {
        ref: found[ref.partner, ref.cohort_id]
        for ref in refs
        if (ref.partner, ref.cohort_id) in found
    }
    return Resolved(partners, cohorts)


def resolve_strictly(session: Session, workspace_id: str, tree: Filter) -> Resolved:
    """As ``resolve``, but every partner and cohort named must exist in this workspace."""
    resolved = resolve(session, workspace_id, tree)
    for leaf in leaves(tree):
        _check_known(leaf, resolved)
    return resolved


@dataclass(frozen=True)
class _Target:
    """What a compiled condition tests: the walked user id, the page bound, a leaf known true."""

    user_id: ColumnElement[int]
    after: int | None
    implied: Leaf | None


def compile_filter(tree: Filter, resolved: Resolved, target: _Target) -> MemberCondition:
    if isinstance(tree, Leaf):
        return _compile_leaf(tree, resolved, target)
    children = [compile_filter(child, resolved, target) for child in tree.children]
    return queries.all_of(children) if tree.operator == "and" else queries.any_of(children)


def _compile_leaf(leaf: Leaf, resolved: Resolved, target: _Target) -> MemberCondition:
    cohort = resolved.cohorts.get(leaf.cohort)
    if leaf == target.implied:
        return queries.everybody()
    if cohort is None:
        return queries.nobody() if leaf.includes else queries.everybody()
    if leaf.includes:
        return queries.in_cohort(cohort.pk, target.user_id, target.after)
    return queries.not_in_cohort(cohort.pk, target.user_id, target.after)


def _driving_leaf(tree: Filter, resolved: Resolved) -> Leaf | None:
    """The smallest existing cohort every member must belong to, if the filter requires one."""
    candidates = [tree] if isinstance(tree, Leaf) else _required_leaves(tree)
    found = [leaf for leaf in candidates if leaf.includes and leaf.cohort in resolved.cohorts]
    return min(found, key=lambda leaf: resolved.cohorts[leaf.cohort].size, default=None)


def _required_leaves(tree: Combination) -> list[Leaf]:
    if tree.operator != "and":
        return []
    return [child for child in tree.children if isinstance(child, Leaf)]


def _check_known(leaf: Leaf, resolved: Resolved) -> None:
    partner, cohort_id = leaf.cohort.partner, leaf.cohort.cohort_id
    if partner not in resolved.partners:
        raise InvalidInput(f"{leaf.path}.filter: unknown partner {shown(partner)}")
    if leaf.cohort not in resolved.cohorts:
        raise InvalidInput(
            f"{leaf.path}.value: unknown cohort {shown(cohort_id)} of partner "
            f"{shown(partner)} in this workspace"
        )
