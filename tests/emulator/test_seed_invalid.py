"""Seed files that break a rule: one SeedError naming the file, the place and the problem,
and nothing of the file applied (the store is unchanged, row for row)."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from kohorte.seed.loader import SeedError
from tests.support import ADMIN_HEADERS, Api
from tests.support.seed_files import REST_KEY, apply, example, store_rows, write_seed

Mutation = Callable[[dict[str, Any]], None]


def _workspace(document: dict[str, Any]) -> dict[str, Any]:
    workspace: dict[str, Any] = document["workspaces"][0]
    return workspace


def _set(path: str, value: object) -> Mutation:
    """Set the value at a dotted path such as 'workspaces.0.api_keys.0.key'."""

    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        del target[last]

    return mutate


def _both(first: Mutation, second: Mutation) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        first(document)
        second(document)

    return mutate


def _second_rest_key(key: str) -> Mutation:
    def mutate(document: dict[str, Any]) -> None:
        _workspace(document)["api_keys"].append({"name": "second", "key": key})

    return mutate


CASES: dict[str, tuple[Mutation, str, str]] = {
    "unknown field": (_set("workspaces.0.colour", "red"), "workspaces[0].colour", "unknown field"),
    "unknown top-level field": (_set("tenants", []), "tenants", "unknown field"),
    "missing field": (_delete("workspaces.0.name"), "workspaces[0].name", "missing field"),
    "missing key": (
        _delete("workspaces.0.data_import_keys.0.key"),
        "workspaces[0].data_import_keys[0].key",
        "missing field",
    ),
    "bad partner name": (
        _set("partners.0.name", "Amplitude"),
        "partners[0].name",
        "name must match",
    ),
    "short key": (
        _second_rest_key("short-key"),
        "workspaces[0].api_keys[1].key",
        "a key must be at least 16 characters",
    ),
    "short partner key": (
        _set("partners.0.api_keys.0", "x" * 15),
        "partners[0].api_keys[0]",
        "at least 16 characters",
    ),
    "key used twice": (
        _second_rest_key("seed-partner-key-amplitude-0001"),
        "workspaces[0].api_keys[1].key",
        "the same key value is used at partners[0].api_keys[0]",
    ),
    "data import key for an unknown partner": (
        _set("workspaces.0.data_import_keys.0.partner", "mixpanel"),
        "workspaces[0].data_import_keys[0].partner",
        "Partner 'mixpanel' not found",
    ),
    "cohort for an unknown partner": (
        _set("workspaces.0.cohorts.0.partner", "mixpanel"),
        "workspaces[0].cohorts[0].partner",
        "Partner 'mixpanel' not found",
    ),
    "member matching no user": (
        _set("workspaces.0.cohorts.0.members.user_ids", ["alice", "nobody"]),
        "workspaces[0].cohorts[0].members.user_ids[1]",
        "matches no user of the workspace",
    ),
    "device id of an identified user": (
        _both(
            _set("workspaces.0.users.0.device_ids", ["alices-phone"]),
            _set("workspaces.0.cohorts.0.members.device_ids", ["phone-42", "alices-phone"]),
        ),
        "workspaces[0].cohorts[0].members.device_ids[1]",
        "matches no user",
    ),
    "alias matching no user": (
        _set("workspaces.0.cohorts.0.members.aliases", [{"alias_name": "x", "alias_label": "crm"}]),
        "workspaces[0].cohorts[0].members.aliases[0]",
        "matches no user",
    ),
    "malformed member": (
        _set("workspaces.0.cohorts.0.members.user_ids", [7]),
        "workspaces[0].cohorts[0].members.user_ids[0]",
        "string",
    ),
    "bad workspace id": (
        _set("workspaces.0.id", "de mo"),
        "workspaces[0].id",
        "String should match pattern",
    ),
    "too long workspace id": (
        _set("workspaces.0.id", "w" * 65),
        "workspaces[0].id",
        "String should match pattern",
    ),
    "unknown permission": (
        _set("workspaces.0.api_keys.0.permissions", ["cohorts.read", "cohorts.write"]),
        "workspaces[0].api_keys[0]",
        "Unknown permission(s): cohorts.write",
    ),
    "invalid segment filter": (
        _set("workspaces.0.segments.0.filter", {"filter": "amplitude_cohorts", "op": "near"}),
        "workspaces[0].segments[0].filter",
        "",
    ),
    "segment filter naming an unknown cohort": (
        _set("workspaces.0.segments.0.filter.value", "no-such-cohort"),
        "workspaces[0].segments[0].filter",
        "no-such-cohort",
    ),
    "invalid user line": (
        _set("workspaces.0.users.1", {"external_id": "carol", "age": 3}),
        "workspaces[0].users[1]",
        "a line takes only",
    ),
    "remove as a member": (
        _set("workspaces.0.cohorts.0.members.should_remove", True),
        "workspaces[0].cohorts[0].members",
        "should_remove must be false",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_rule_broken_applies_nothing(api: Api, engine: Engine, tmp_path: Path, case: str) -> None:
    api.integration()  # something in the store already, which must stay as it is
    mutation, place, problem = CASES[case]
    document = example()
    mutation(document)
    path = write_seed(tmp_path, document)
    before = store_rows(engine)
    with pytest.raises(SeedError) as raised:
        apply(engine, path)
    assert raised.value.message.startswith(f"invalid seed file {path}: {place}: ")
    assert problem in raised.value.message
    assert "\n" not in raised.value.message
    assert store_rows(engine) == before


def test_a_key_registered_for_something_else_is_refused(
    api: Api, engine: Engine, tmp_path: Path
) -> None:
    created = {"name": "mixpanel", "partner_api_key": REST_KEY}
    api.expect(api.client.post("/admin/partners", json=created, headers=ADMIN_HEADERS), 201)
    path = write_seed(tmp_path, example())
    before = store_rows(engine)
    with pytest.raises(SeedError) as raised:
        apply(engine, path)
    assert raised.value.message == (
        f"invalid seed file {path}: workspaces[0].api_keys[0].key: "
        "the key value is registered for something else"
    )
    assert store_rows(engine) == before


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("seed.yaml", "partners: [name: x\n", "is not valid YAML"),
        ("seed.json", '{"partners": [', "is not valid JSON"),
        ("seed.yaml", "- just\n- a list\n", "must be a YAML object"),
        ("seed.toml", "partners = []", "the name must end in .yaml, .yml or .json"),
    ],
)
def test_a_file_that_cannot_be_parsed(
    engine: Engine, tmp_path: Path, name: str, text: str, problem: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SeedError) as raised:
        apply(engine, path)
    assert raised.value.message.startswith(f"invalid seed file {path}: {problem}")
    assert "\n" not in raised.value.message


def test_a_file_that_cannot_be_read(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "missing.yml"
    with pytest.raises(SeedError) as raised:
        apply(engine, path)
    assert (
        raised.value.message
        == f"invalid seed file {path}: cannot be read: No such file or directory"
    )
