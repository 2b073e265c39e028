"""A filter in words, as segment details show it: "Amplitude Cohorts includes 'Power users'"."""

from kohorte.domain.segments.attributes import AttributeLeaf, describe_attribute
from kohorte.domain.segments.filters import Filter, Leaf
from kohorte.domain.segments.resolution import Resolved


def describe(tree: Filter, resolved: Resolved) -> str:
    if isinstance(tree, AttributeLeaf):
        return describe_attribute(tree)
    if isinstance(tree, Leaf):
        return _describe_leaf(tree, resolved)
    joiner = f" {tree.operator.upper()} "
    return joiner.join(_describe_part(child, resolved) for child in tree.children)


def _describe_part(tree: Filter, resolved: Resolved) -> str:
    # Nested combinations are bracketed so that "A AND (B OR C)" reads unambiguously.
    text = describe(tree, resolved)
    return text if isinstance(tree, Leaf | AttributeLeaf) else f"({text})"


def _describe_leaf(leaf: Leaf, resolved: Resolved) -> str:
    partner = resolved.partners.get(leaf.cohort.partner, leaf.cohort.partner)
    cohort = resolved.cohorts.get(leaf.cohort)
    # A cohort never named by its partner (or since removed) is shown by its id.
    label = cohort.name if cohort is not None and cohort.name else leaf.cohort.cohort_id
    verb = "includes" if leaf.includes else "excludes"
    return f"{partner} Cohorts {verb} '{label}'"
