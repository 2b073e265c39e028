"""Every request body of every /users/... operation is described field by field in OpenAPI."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

Schema = dict[str, Any]


def problems(schema: Schema, components: dict[str, Schema], where: str) -> list[str]:
    """What a generated client could not know about ``schema``: objects without properties
    (unless a described map) and properties without a type or reference."""
    return _walk(schema, components, where, set())


def _walk(schema: Schema, components: dict[str, Schema], where: str, seen: set[str]) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        return _walk(components[name], components, f"{where}<{name}>", seen | {name})
    found: list[str] = []
    for key in ("anyOf", "oneOf", "allOf"):
        for index, member in enumerate(schema.get(key, [])):
            if not _only_constrains(member):
                found += _walk(member, components, f"{where}.{key}[{index}]", seen)
    if schema.get("type") == "array":
        found += _walk(schema.get("items", {"type": "object"}), components, f"{where}[]", seen)
    if schema.get("type") == "object" or "properties" in schema:
        found += _object(schema, components, where, seen)
    return found


def _object(schema: Schema, components: dict[str, Schema], where: str, seen: set[str]) -> list[str]:
    properties: dict[str, Schema] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    if not properties and not (schema.get("description") or _described(extra)):
        return [f"{where}: an object without properties or a description"]
    found: list[str] = []
    for name, field in properties.items():
        if not _typed(field):
            found.append(f"{where}.{name}: no type")
        found += _walk(field, components, f"{where}.{name}", seen)
    if isinstance(extra, dict) and _typed(extra):
        found += _walk(extra, components, f"{where}.*", seen)
    return found


def _only_constrains(member: Schema) -> bool:
    # A branch of "exactly one of these fields" ({"required": [...], "properties": {...}}):
    # it narrows the object's own properties and declares none.
    return "required" in member and "type" not in member and "$ref" not in member


def _described(extra: object) -> bool:
    return isinstance(extra, dict) and bool(extra.get("description"))


def _typed(field: Schema) -> bool:
    if "type" in field or "$ref" in field:
        return True
    members = field.get("anyOf", []) + field.get("oneOf", []) + field.get("allOf", [])
    return bool(members) and all(_typed(member) for member in members)


def users_request_bodies(client: TestClient) -> list[tuple[str, Schema]]:
    document = client.get("/openapi.json").json()
    bodies = []
    for path, operations in document["paths"].items():
        if not path.startswith("/users/"):
            continue
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                bodies.append((f"{method.upper()} {path}", content["application/json"]["schema"]))
    return bodies


def test_every_users_request_body_describes_its_fields(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    components = document.get("components", {}).get("schemas", {})
    bodies = users_request_bodies(client)
    assert len(bodies) >= 6, bodies  # track, devices, identify, alias/new, delete, export/ids
    found = [p for operation, schema in bodies for p in problems(schema, components, operation)]
    assert found == []


def test_track_attributes_describe_the_custom_attributes_beside_the_identifier(
    client: TestClient,
) -> None:
    components = client.get("/openapi.json").json()["components"]["schemas"]
    entry = components["AttributesEntry"]
    assert {"external_id", "user_alias", "braze_id", "_update_existing_only"} <= set(
        entry["properties"]
    )
    assert "custom attribute" in entry["additionalProperties"]["description"].lower()


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "object"}, ["body: an object without properties or a description"]),
        ({"type": "object", "properties": {"a": {}}}, ["body.a: no type"]),
        (
            {"type": "array", "items": {"type": "object", "additionalProperties": True}},
            ["body[]: an object without properties or a description"],
        ),
        (
            {"$ref": "#/components/schemas/Bare"},
            ["body<Bare>: an object without properties or a description"],
        ),
        ({"type": "object", "additionalProperties": {"description": "a map"}}, []),
        (
            {
                "type": "object",
                "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
            },
            [],
        ),
    ],
)
def test_the_check_finds_undescribed_objects(schema: Schema, expected: list[str]) -> None:
    assert problems(schema, {"Bare": {"type": "object"}}, "body") == expected
