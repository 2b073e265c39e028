"""The user import's bulk path: line checks at the edges of the quick path, rows a concurrent
request took first, braze ids, and the reading thread failing while the writer writes."""

import itertools
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from kohorte.domain.users import importing
from kohorte.store import identities
from kohorte.store.models import User, UserAlias, UserDevice
from kohorte.store.users import new_braze_ids
from tests.support import Api
from tests.support.seeds import seed_user, seed_workspace
from tests.support.users import user

IDENTIFIER_RULE = (
    "must be a non-empty string of at most 997 bytes without NUL characters or lone surrogates"
)
NAME_RULE = (
    "custom attribute names must be non-empty strings of at most 255 characters without NUL "
    "characters or lone surrogates"
)


def test_line_shapes_at_the_edges_get_the_messages_of_every_check(
    client: TestClient, api: Api
) -> None:
    workspace = api.create_workspace()
    lines = [
        {"external_id": "x", "device_ids": False},
        {"external_id": "x", "attributes": []},
        {"external_id": "x", "user_aliases": {}},
        {"external_id": "x", "user_aliases": [{"alias_label": "l"}]},
        {"external_id": "x", "user_aliases": [{"alias_label": "l", "alias_name": "n", "x": 1}]},
        {"external_id": "x", "device_ids": ["ok", 7]},
        {"external_id": "x", "attributes": {" ": 1}},
        {"external_id": "é" * 499},
        {"external_id": "x", "attributes": {"ok": 1, "n": {"inc": "one"}}},
        '{"external_id": "x", "attributes": {"n": 1e400}}',
        '{"external_id": "x", "attributes": {"k\\u0000": 1}}',
        {"attributes": {"n": {"inc": 1}}},
    ]
    body = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    response = client.post("/users/import", content=body.encode(), headers=workspace.headers)
    assert response.status_code == 201, response.text
    assert response.json()["imported"] == 0
    assert [(e["line"], e["message"]) for e in response.json()["errors"]] == [
        (1, "device_ids must be an array"),
        (2, "attributes must be an object"),
        (3, "user_aliases must be an array"),
        (4, f"user_aliases[0].alias_name {IDENTIFIER_RULE}"),
        (5, "user_aliases[0] must be an object with alias_name and alias_label"),
        (6, f"device_ids[1] {IDENTIFIER_RULE}"),
        (7, f"attributes. : {NAME_RULE}"),
        (8, f"external_id {IDENTIFIER_RULE}"),
        (9, "attributes.n: inc takes a number of at most 1e+18"),
        (10, "attributes.n: numbers must be finite"),
        (11, f"attributes.<invalid name>: {NAME_RULE}"),
        (12, "a user needs an external_id, a user alias or a device id"),
    ]


def test_escaped_text_operators_and_nested_values_are_imported(
    client: TestClient, api: Api
) -> None:
    workspace = api.create_workspace()
    lines = [
        '{"external_id": "caf\\u00e9", "attributes": {"city": "Z\\u00fcrich"}}',
        json.dumps(
            {
                "external_id": "ops",
                "attributes": {
                    "tags": {"add": ["a", "b"]},
                    "n": {"inc": 2},
                    "nested": {"k": [1, {"x": None}]},
                    "gone": None,
                    "flag": False,
                },
            }
        ),
        json.dumps({"external_id": "ops", "attributes": {"tags": {"remove": ["a"]}, "n": 1.5}}),
    ]
    body = "\n".join(lines).encode()
    response = client.post("/users/import", content=body, headers=workspace.headers)
    assert response.json()["imported"] == 3, response.text
    assert user(client, workspace, "café")["custom_attributes"] == {"city": "Zürich"}
    assert user(client, workspace, "ops")["custom_attributes"] == {
        "tags": ["b"],
        "n": 1.5,
        "nested": {"k": [1, {"x": None}]},
        "flag": False,
    }


def test_rows_taken_since_the_lookup_stay_with_their_holder(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if a concurrent request created them between the batch's lookups and its writes:
    the bulk insert fails and the batch is written again row by row."""
    workspace_id = seed_workspace(session)
    holder = seed_user(session, workspace_id, "taken", aliases=[("crm", "a-1")], devices=["d-1"])
    session.commit()
    for name in ("users_by_external_id", "users_by_alias", "device_owners"):
        monkeypatch.setattr(identities, name, _blind_once(getattr(identities, name)))
    lines = [
        {"external_id": "taken", "attributes": {"a": 1}},
        {"external_id": "new", "user_aliases": [{"alias_label": "crm", "alias_name": "a-1"}]},
        {"external_id": "new", "user_aliases": [{"alias_label": "web", "alias_name": "w-1"}]},
        {"external_id": "new", "device_ids": ["d-1", "d-2"]},
    ]
    raw = [json.dumps(line).encode() for line in lines]
    report = importing.import_users(session, workspace_id, raw, session.commit)
    assert report.imported == 4
    assert [(e.line, e.message) for e in report.errors] == [
        (2, "user_aliases[0] belongs to another user; skipped"),
        (4, "device_ids[0] belongs to another user; skipped"),
    ]
    ids = {row[0]: row[1] for row in session.execute(select(User.external_id, User.id))}
    assert ids["taken"] == holder
    rows = session.execute(select(User.external_id, User.custom_attributes)).all()
    assert {row[0]: row[1] for row in rows} == {"taken": {"a": 1}, "new": {}}
    aliases = session.execute(select(UserAlias.alias_name, UserAlias.user_id)).all()
    assert sorted(aliases) == [("a-1", holder), ("w-1", ids["new"])]
    devices = session.execute(select(UserDevice.device_id, UserDevice.user_id)).all()
    assert sorted(devices) == [("d-1", holder), ("d-2", ids["new"])]


def _blind_once(lookup: Callable[..., dict[Any, int]]) -> Callable[..., dict[Any, int]]:
    calls: list[int] = []

    def blind(*args: Any) -> dict[Any, int]:
        calls.append(1)
        return {} if len(calls) == 1 else lookup(*args)

    return blind


def test_braze_ids_are_object_id_shaped_unique_and_ascending() -> None:
    ids = new_braze_ids(5000) + new_braze_ids(10)
    assert all(re.fullmatch(r"[0-9a-f]{24}", braze_id) for braze_id in ids)
    assert len(set(ids)) == len(ids)
    ascending = sum(1 for a, b in itertools.pairwise(ids) if a < b)
    assert ascending >= len(ids) - 2  # the counter may wrap once


def test_a_failing_stream_keeps_the_batches_written_before(session: Session) -> None:
    workspace_id = seed_workspace(session)
    session.commit()

    def lines() -> Iterator[bytes]:
        for i in range(1500):
            yield json.dumps({"external_id": f"u{i}"}).encode()
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        importing.import_users(session, workspace_id, lines(), session.commit)
    stored = session.scalars(select(User.external_id).where(User.workspace_id == workspace_id))
    assert len(list(stored)) == 1000
