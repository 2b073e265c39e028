"""From a filter tree to what the store evaluates: the cohorts its leaves name, resolved.

Cohorts are resolved in one query per filter. A new or changed filter must name partners and
cohorts that exist (strict); a stored filter whose cohort has since disappeared is evaluated as
if that cohort were empty, so a saved segment keeps answering. The store compiles the result
(``store.segment_members``); nothing here is SQL.

Custom attributes keep no history, so a filter that tests one is evaluated now only: reading it
as of a past instant (``as_of``, ``/segments/data_series``) is a 400 naming the leaf, rather
than an answer mixing past memberships with today's attributes.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from kohorte.domain.errors import InvalidInput
from kohorte.domain.segments.attributes import AttributeLeaf
from kohorte.domain.segments.filters import (
    CohortRef,
    Filter,
    Leaf,
    attribute_leaves,
    leaves,
    shown,
)
from kohorte.store import segments as store
from kohorte.store.segment_attributes import AttributeTest
from kohorte.store.segment_members import CohortTest, Every, Node, Selection, Some
from kohorte.store.segments import CohortRow


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


def selection(
    workspace_id: str, tree: Filter, resolved: Resolved, as_of: datetime | None = None
) -> Selection:
    if as_of is not None:
        refuse_history(tree, "cannot be read as of a past time")
    return Selection(workspace_id, _node(tree, resolved), as_of)


def refuse_history(tree: Filter, consequence: str) -> None:
    """A 400 naming the first custom-attribute leaf, if the filter has one."""
    found = attribute_leaves(tree)
    if found:
        raise InvalidInput(
            f"{found[0].path}: custom attributes keep no history, so a segment filter that "
            f"tests one {consequence}"
        )


def _node(tree: Filter, resolved: Resolved) -> Node:
    if isinstance(tree, AttributeLeaf):
        return AttributeTest(tree.attribute, tree.op, tree.value)
    if isinstance(tree, Leaf):
        cohort = resolved.cohorts.get(tree.cohort)
        if cohort is None:
            return CohortTest(None, 0, tree.includes)
        return CohortTest(cohort.pk, cohort.size, tree.includes)
    children = tuple(_node(child, resolved) for child in tree.children)
    return Every(children) if tree.operator == "and" else Some(children)


def _check_known(leaf: Leaf, resolved: Resolved) -> None:
    partner, cohort_id = leaf.cohort.partner, leaf.cohort.cohort_id
    if partner not in resolved.partners:
        raise InvalidInput(f"{leaf.path}.filter: unknown partner {shown(partner)}")
    if leaf.cohort not in resolved.cohorts:
        raise InvalidInput(
            f"{leaf.path}.value: unknown cohort {shown(cohort_id)} of partner "
            f"{shown(partner)} in this workspace"
        )
