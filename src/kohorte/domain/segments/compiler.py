"""From a filter tree to the one SQL condition that selects a segment's members.

Cohorts are resolved in one query per filter. A new or changed filter must name partners and
cohorts that exist (strict); a stored filter whose cohort has since disappeared is evaluated as
if that cohort were empty, so a saved segment keeps answering.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain.errors import InvalidInput
from kohorte.domain.segments.filters import CohortRef, Filter, Leaf, leaves, shown
from kohorte.store import segments as store
from kohorte.store.segments import CohortRow, MemberCondition


@dataclass(frozen=True)
class Resolved:
    """What a filter's leaves refer to: partners' display names and the cohorts found."""

    partners: Mapping[str, str]
    cohorts: Mapping[CohortRef, CohortRow]


def resolve(session: Session, workspace_id: str, tree: Filter) -> Resolved:
    refs = {leaf.cohort for leaf in leaves(tree)}
    partners = store.existing_partners(session, {ref.partner for ref in refs})
    found = store.find_cohorts(session, workspace_id, {(r.partner, r.cohort_id) for r in refs})
    cohorts = {
        ref: found[(ref.partner, ref.cohort_id)]
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


def compile_filter(tree: Filter, resolved: Resolved, after: int | None = None) -> MemberCondition:
    """The condition selecting the filter's members, for a page starting above ``after``."""
    if isinstance(tree, Leaf):
        return _compile_leaf(tree, resolved, after)
    children = [compile_filter(child, resolved, after) for child in tree.children]
    return store.all_of(children) if tree.operator == "and" else store.any_of(children)


def _compile_leaf(leaf: Leaf, resolved: Resolved, after: int | None) -> MemberCondition:
    cohort = resolved.cohorts.get(leaf.cohort)
    if cohort is None:
        return store.nobody() if leaf.includes else store.everybody()
    if leaf.includes:
        return store.in_cohort(cohort.pk, after)
    return store.not_in_cohort(cohort.pk, after)


def _check_known(leaf: Leaf, resolved: Resolved) -> None:
    partner, cohort_id = leaf.cohort.partner, leaf.cohort.cohort_id
    if partner not in resolved.partners:
        raise InvalidInput(f"{leaf.path}.filter: unknown partner {shown(partner)}")
    if leaf.cohort not in resolved.cohorts:
        raise InvalidInput(
            f"{leaf.path}.value: unknown cohort {shown(cohort_id)} of partner "
            f"{shown(partner)} in this workspace"
        )


@dataclass(frozen=True)
class Members:
    """A resolved filter, ready to be compiled for a count or for any page of the walk."""

    tree: Filter
    resolved: Resolved

    def condition(self, after: int | None = None) -> MemberCondition:
        return compile_filter(self.tree, self.resolved, after)
