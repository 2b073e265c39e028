"""Custom-attribute segment tests: users with attributes, and the Python model of the rules.

The model is the contract's rules written plainly: a filter value matches only stored values of
its own JSON type (booleans are not numbers, 5 equals 5.0), ``includes_value`` looks only into
stored arrays, the negative operators are the negations of the positive ones.
"""

from typing import Any

from tests.support.segments import Universe

NEGATIONS = {"not_equals": "equals", "not_exists": "exists", "excludes_value": "includes_value"}


def attribute_leaf(attribute: Any, op: Any, *value: Any) -> dict[str, Any]:
    """A custom-attribute leaf; the value is left out when none is given (exists)."""
    found: dict[str, Any] = {"filter": "custom_attribute", "attribute": attribute, "op": op}
    if value:
        found["value"] = value[0]
    return found


def track_attributes(world: Universe, users: dict[str, dict[str, Any]]) -> None:
    """Users (by external id) with their custom attributes, through ``/users/track``."""
    entries = [{"external_id": user, **attributes} for user, attributes in users.items()]
    for start in range(0, len(entries), 75):
        response = world.api.client.post(
            "/users/track", json={"attributes": entries[start : start + 75]}, headers=world.headers
        )
        world.api.expect(response, 201)
    world.users += [user for user in users if user not in world.users]


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else type(value).__name__


def attribute_holds(attributes: dict[str, Any], leaf: dict[str, Any]) -> bool:
    op = leaf["op"]
    positive = _positive(
        attributes.get(leaf["attribute"]), NEGATIONS.get(op, op), leaf.get("value")
    )
    return not positive if op in NEGATIONS else positive


def _positive(stored: Any, op: str, value: Any) -> bool:
    if stored is None:
        return False
    if op == "exists":
        return True
    if op == "includes_value":
        return isinstance(stored, list) and any(_same(item, value) for item in stored)
    if op == "equals":
        return _same(stored, value)
    if json_type(stored) != "number":
        return False
    return bool(stored > value if op == "greater_than" else stored < value)


def _same(stored: Any, value: Any) -> bool:
    return json_type(stored) == json_type(value) and bool(stored == value)


def evaluate_with_attributes(
    tree: dict[str, Any],
    members: dict[str, set[str]],
    attributes: dict[str, dict[str, Any]],
) -> set[str]:
    """The external ids a filter of cohort and attribute leaves selects."""
    if "and" in tree:
        return set.intersection(
            *(evaluate_with_attributes(t, members, attributes) for t in tree["and"])
        )
    if "or" in tree:
        return set.union(*(evaluate_with_attributes(t, members, attributes) for t in tree["or"]))
    if tree["filter"] == "custom_attribute":
        return {user for user, found in attributes.items() if attribute_holds(found, tree)}
    cohort = members.get(tree["value"], set())
    return cohort if tree["op"] == "includes_value" else set(attributes) - cohort
