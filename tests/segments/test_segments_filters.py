"""Unit tests of segment filter parsing: shapes, bounds, messages, normalised JSON."""

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kohorte.domain.errors import InvalidInput
from kohorte.domain.segments.filters import (
    MAX_DEPTH,
    MAX_LEAVES,
    CohortRef,
    Combination,
    Leaf,
    filter_json,
    leaves,
    parse_filter,
    shown,
)
from tests.support.segments import leaf


def test_a_leaf_names_partner_cohort_and_operator() -> None:
    parsed = parse_filter(leaf("power", "excludes_value", partner="treasure_data"))
    assert parsed == Leaf(CohortRef("treasure_data", "power"), includes=False)


def test_combinations_nest_and_keep_their_order() -> None:
    tree = {"or": [leaf("a"), {"and": [leaf("b"), leaf("c", "excludes_value")]}]}
    parsed = parse_filter(tree)
    assert isinstance(parsed, Combination)
    assert parsed.operator == "or"
    assert [leaf.cohort.cohort_id for leaf in leaves(parsed)] == ["a", "b", "c"]
    assert [leaf.path for leaf in leaves(parsed)] == [
        "filter.or[0]",
        "filter.or[1].and[0]",
        "filter.or[1].and[1]",
    ]
    assert filter_json(parsed) == tree


def test_depth_and_size_bounds() -> None:
    tree: dict[str, Any] = leaf("a")
    for _ in range(MAX_DEPTH - 1):
        tree = {"and": [tree]}
    assert parse_filter(tree)
    with pytest.raises(InvalidInput, match="nested at most"):
        parse_filter({"or": [tree]})
    assert parse_filter({"or": [leaf("a")] * MAX_LEAVES})
    with pytest.raises(InvalidInput, match=f"at most {MAX_LEAVES} cohorts"):
        parse_filter({"or": [leaf("a")] * (MAX_LEAVES + 1)})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "filter must be an object"),
        ({}, "filter lacks 'filter', 'op', 'value'"),
        ({"and": "x"}, "filter.and must be a non-empty array of filters"),
        ({"or": [None]}, "filter.or[0] must be an object"),
        ({**leaf("a"), "filter": "Amplitude_Cohorts"}, "unknown filter 'Amplitude_Cohorts'"),
        ({**leaf("a"), "filter": "_cohorts"}, "unknown filter"),
        ({**leaf("a"), "filter": None}, "unknown filter a null"),
        ({**leaf("a"), "op": "includes"}, "unknown operator 'includes'"),
        ({**leaf("a"), "op": True}, "unknown operator a boolean"),
        ({**leaf("a"), "value": ["a"]}, "not a array"),
        ({**leaf("a"), "value": "\ud800"}, "filter.value must be a cohort id"),
        ({**leaf("a"), "value": "é" * 501}, "at most 1,000 bytes"),
    ],
)
def test_messages_say_what_is_wrong_and_where(raw: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_filter(raw)
    assert message in raised.value.message


def test_messages_never_echo_unstorable_or_huge_text() -> None:
    assert shown("a\u0000\ud800") == "'a\\x00\\ud800'"
    assert len(shown("x" * 10_000)) == 80
    with pytest.raises(InvalidInput) as raised:
        parse_filter({**leaf("a"), "op": "\ud800" * 1000})
    raised.value.message.encode("utf-8")
    assert len(raised.value.message) < 300


trees = st.recursive(
    st.builds(
        leaf,
        st.text(min_size=1, max_size=20).filter(lambda s: "\x00" not in s),
        st.sampled_from(["includes_value", "excludes_value"]),
        st.from_regex(r"[a-z0-9][a-z0-9_-]{0,10}", fullmatch=True),
    ),
    lambda children: st.dictionaries(
        st.sampled_from(["and", "or"]),
        st.lists(children, min_size=1, max_size=3),
        min_size=1,
        max_size=1,
    ),
    max_leaves=12,
)


@given(trees)
def test_normalised_json_parses_back_to_the_same_filter(tree: dict[str, Any]) -> None:
    parsed = parse_filter(tree)
    assert filter_json(parsed) == tree
    assert parse_filter(filter_json(parsed)) == parsed
