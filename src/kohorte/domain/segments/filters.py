"""Segment filters: the JSON a client sends, checked for shape and turned into a tree.

A leaf names one partner cohort, ``{"filter": "<partner>_cohorts", "op": "includes_value" |
"excludes_value", "value": "<cohort_id>"}``, or tests a custom attribute
(``{"filter": "custom_attribute", ...}``, see ``segments.attributes``); ``{"and": [...]}`` and
``{"or": [...]}`` combine filters. Whether the partner and cohort exist is checked later,
against the store.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

from kohorte.domain.errors import InvalidInput
from kohorte.domain.partners import PARTNER_NAME
from kohorte.domain.segments.attributes import (
    ATTRIBUTE_FILTER,
    AttributeLeaf,
    attribute_json,
    json_type,
    parse_attribute_leaf,
)
from kohorte.domain.text import is_valid_cohort_id

# Bounds that no real segment comes near and that keep the compiled SQL small.
MAX_DEPTH = 8
MAX_LEAVES = 64
FILTER_SUFFIX = "_cohorts"
OPERATORS = {"includes_value": True, "excludes_value": False}
LEAF_KEYS = frozenset({"filter", "op", "value"})
SHOWN_CHARACTERS = 80

Operator = Literal["and", "or"]


@dataclass(frozen=True)
class CohortRef:
    partner: str
    cohort_id: str


@dataclass(frozen=True)
class Leaf:
    cohort: CohortRef
    includes: bool
    # Where the leaf sits in the request, so that later checks can point at it.
    path: str = field(default="filter", compare=False)


@dataclass(frozen=True)
class Combination:
    operator: Operator
    children: tuple["Filter", ...]


Filter = Leaf | AttributeLeaf | Combination


def parse_filter(raw: object) -> Filter:
    """The filter tree of ``raw``, or InvalidInput naming the first thing wrong and where."""
    return _Parser().node(raw, "filter", 1)


def filter_json(tree: Filter) -> dict[str, Any]:
    """The normalised JSON of a filter: exactly the keys above, in that order."""
    if isinstance(tree, AttributeLeaf):
        return attribute_json(tree)
    if isinstance(tree, Leaf):
        operator = "includes_value" if tree.includes else "excludes_value"
        return {
            "filter": tree.cohort.partner + FILTER_SUFFIX,
            "op": operator,
            "value": tree.cohort.cohort_id,
        }
    return {tree.operator: [filter_json(child) for child in tree.children]}


def leaves(tree: Filter) -> list[Leaf]:
    """The cohort leaves, in the order they are written."""
    if isinstance(tree, AttributeLeaf):
        return []
    if isinstance(tree, Leaf):
        return [tree]
    return [leaf for child in tree.children for leaf in leaves(child)]


def attribute_leaves(tree: Filter) -> list[AttributeLeaf]:
    if isinstance(tree, AttributeLeaf):
        return [tree]
    if isinstance(tree, Leaf):
        return []
    return [leaf for child in tree.children for leaf in attribute_leaves(child)]


def shown(value: object) -> str:
    """A value quoted for an error message: escaped (never NUL or a lone surrogate) and short."""
    text = repr(value) if isinstance(value, str) else f"a {json_type(value)}"
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 3] + "..."


class _Parser:
    def __init__(self) -> None:
        self.leaf_count = 0

    def node(self, raw: object, path: str, depth: int) -> Filter:
        if depth > MAX_DEPTH:
            raise InvalidInput(f"{path}: filters may be nested at most {MAX_DEPTH} levels deep")
        if not isinstance(raw, dict):
            raise InvalidInput(
                f'{path} must be an object: a cohort filter, {{"and": [...]}} or '
                f'{{"or": [...]}}, not {shown(raw)}'
            )
        if "and" in raw or "or" in raw:
            return self.combination(raw, path, depth)
        return self.leaf(raw, path)

    def combination(self, raw: dict[str, Any], path: str, depth: int) -> Combination:
        if len(raw) != 1:
            raise InvalidInput(f"{path} must have exactly one key, 'and' or 'or'")
        operator: Operator = "and" if "and" in raw else "or"
        children = raw[operator]
        if not isinstance(children, list) or not children:
            raise InvalidInput(f"{path}.{operator} must be a non-empty array of filters")
        return Combination(
            operator,
            tuple(
                self.node(child, f"{path}.{operator}[{index}]", depth + 1)
                for index, child in enumerate(children)
            ),
        )

    def leaf(self, raw: dict[str, Any], path: str) -> Leaf | AttributeLeaf:
        self.leaf_count += 1
        if self.leaf_count > MAX_LEAVES:
            raise InvalidInput(
                f"{path}: a filter may name at most {MAX_LEAVES} cohorts and attributes"
            )
        if raw.get("filter") == ATTRIBUTE_FILTER:
            return parse_attribute_leaf(raw, path)
        _check_leaf_keys(raw, path)
        partner = _partner_of(raw["filter"], f"{path}.filter")
        includes = _includes(raw["op"], f"{path}.op")
        if not is_valid_cohort_id(raw["value"]):
            raise InvalidInput(
                f"{path}.value must be a cohort id (a non-empty string of at most 1,000 bytes), "
                f"not {shown(raw['value'])}"
            )
        return Leaf(CohortRef(partner, raw["value"]), includes, path)


def _check_leaf_keys(raw: dict[str, Any], path: str) -> None:
    missing = sorted(LEAF_KEYS - raw.keys())
    unknown = sorted(raw.keys() - LEAF_KEYS)
    if unknown:
        names = ", ".join(shown(key) for key in unknown)
        raise InvalidInput(
            f"{path} has unknown key(s) {names}; a cohort filter has 'filter', 'op' and 'value'"
        )
    if missing:
        raise InvalidInput(f"{path} lacks {', '.join(repr(key) for key in missing)}")


def _partner_of(name: object, path: str) -> str:
    partner = (
        name.removesuffix(FILTER_SUFFIX)
        if isinstance(name, str) and name.endswith(FILTER_SUFFIX)
        else ""
    )
    if not PARTNER_NAME.fullmatch(partner):
        raise InvalidInput(
            f"{path}: unknown filter {shown(name)}; cohort filters are named "
            f"'<partner>_cohorts', e.g. 'amplitude_cohorts', attribute filters "
            f"{ATTRIBUTE_FILTER!r}"
        )
    return partner


def _includes(operator: object, path: str) -> bool:
    if not isinstance(operator, str) or operator not in OPERATORS:
        raise InvalidInput(
            f"{path}: unknown operator {shown(operator)}; use 'includes_value' or 'excludes_value'"
        )
    return OPERATORS[operator]
