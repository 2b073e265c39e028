"""POST /users/import (NDJSON, streamed) and the import service behind the CLI."""

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from kohorte.domain.errors import NotFound, StoreUnavailable
from kohorte.domain.users import importing
from kohorte.domain.users.import_lines import OversizedLine, lines_from_chunks
from kohorte.store.models import User
from tests.support import Api
from tests.support.seeds import seed_workspace
from tests.support.users import alias, exported, import_body, ndjson, user, user_by_device


def test_lines_become_users(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    body = ndjson(
        {"external_id": "u1", "attributes": {"plan": "pro"}, "device_ids": ["d1", "d2"]},
        {"external_id": "u2", "user_aliases": [alias("c2")]},
        {"device_ids": ["anon-device"], "attributes": {"seen": 1}},
        {"user_aliases": [alias("only")]},
    )
    result = import_body(client, workspace, body)
    assert result == {"message": "success", "imported": 4, "errors": [], "errors_not_shown": 0}
    u1 = user(client, workspace, "u1")
    assert u1["custom_attributes"] == {"plan": "pro"}
    assert u1["devices"] == [{"device_id": "d1"}, {"device_id": "d2"}]
    assert user(client, workspace, "u2")["user_aliases"] == [alias("c2")]
    anonymous = user_by_device(client, workspace, "anon-device")
    assert anonymous["external_id"] is None
    assert anonymous["custom_attributes"] == {"seen": 1}
    only = exported(client, workspace, user_aliases=[alias("only")])["users"]
    assert only[0]["external_id"] is None


def test_existing_users_are_upserted(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    attrs = [{"external_id": "u1", "keep": 1, "change": 1}]
    client.post("/users/track", json={"attributes": attrs}, headers=workspace.headers)
    api.add_aliases(workspace, [{"external_id": "u1", **alias("old")}])
    body = ndjson(
        {"external_id": "u1", "attributes": {"change": 2, "n": {"inc": 1}}, "device_ids": ["d"]},
        {"external_id": "u1", "attributes": {"n": {"inc": 1}}, "user_aliases": [alias("x", "y")]},
        {"user_aliases": [alias("x", "y")], "attributes": {"via_alias": True}},
    )
    assert import_body(client, workspace, body)["imported"] == 3
    found = user(client, workspace, "u1")
    assert found["custom_attributes"] == {"keep": 1, "change": 2, "n": 2, "via_alias": True}
    assert found["user_aliases"] == [alias("old"), alias("x", "y")]
    assert found["devices"] == [{"device_id": "d"}]


def test_bad_lines_are_reported_and_the_rest_imported(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    api.track(workspace, "owner")
    api.add_devices(workspace, [{"device_id": "owned", "external_id": "owner"}])
    body = ndjson(
        {"external_id": "good"},
        "{not json",
        "[1, 2]",
        {"external_id": ""},
        {"attributes": {"a": 1}},
        {"external_id": "x", "nickname": "y"},
        "",
        {"external_id": "x", "user_aliases": "nope"},
        {"external_id": "x", "attributes": {"a": "\u0000"}},
        {"external_id": "also-good", "device_ids": ["owned"]},
        '{"external_id": "nan", "attributes": {"n": NaN}}',
    )
    result = import_body(client, workspace, body + b"\n\xff\xfe\n")
    assert result["imported"] == 2
    assert [(e["line"], e["message"]) for e in result["errors"]] == [
        (2, "line is not valid JSON"),
        (3, "line must be a JSON object"),
        (
            4,
            "external_id must be a non-empty string of at most 997 bytes without NUL "
            "characters or lone surrogates",
        ),
        (5, "a user needs an external_id, a user alias or a device id"),
        (6, "a line takes only external_id, user_aliases, device_ids, attributes"),
        (8, "user_aliases must be an array"),
        (9, "attributes.a: strings may not hold NUL characters or lone surrogates"),
        (10, "device_ids[0] belongs to another user; skipped"),
        (11, "attributes.n: numbers must be finite"),
        (12, "line is not valid UTF-8"),
    ]
    assert exported(client, workspace, external_ids=["good", "also-good", "x"])[
        "invalid_user_ids"
    ] == ["x"]
    assert user(client, workspace, "owner")["devices"] == [{"device_id": "owned"}]


def test_error_list_is_capped(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    result = import_body(client, workspace, b"oops\n" * 1005 + b'{"external_id": "u"}')
    assert result["imported"] == 1
    assert len(result["errors"]) == 1000
    assert result["errors_not_shown"] == 5


def test_streamed_body_in_many_batches(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()

    def chunks() -> Iterator[bytes]:
        lines = ndjson(*({"external_id": f"u{i}"} for i in range(2500)))
        for start in range(0, len(lines), 777):  # chunks cut lines anywhere
            yield lines[start : start + 777]

    assert import_body(client, workspace, chunks())["imported"] == 2500
    ids = ["u0", "u999", "u1000", "u2499", "u2500"]
    assert exported(client, workspace, external_ids=ids)["invalid_user_ids"] == ["u2500"]


def test_import_is_over_the_body_limit_allowed(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    padding = "p" * 200
    lines = ndjson(*({"external_id": f"u{i}", "attributes": {"p": padding}} for i in range(20_000)))
    assert len(lines) > 4 * 1024 * 1024
    assert import_body(client, workspace, lines)["imported"] == 20_000


def test_empty_body_imports_nothing(client: TestClient, api: Api) -> None:
    workspace = api.create_workspace()
    assert import_body(client, workspace, b"")["imported"] == 0


def test_lines_from_chunks_bounds_memory_per_line() -> None:
    chunks = [b"ab", b"c\nde", b"f" * 10, b"g\nh\n", b"\nlast"]
    lines = list(lines_from_chunks(chunks, max_bytes=5))
    assert lines == [b"abc", OversizedLine(), b"h", b"", b"last"]
    assert list(lines_from_chunks([b"x" * 20], max_bytes=5)) == [OversizedLine()]


def test_import_service_commits_per_batch(session: Session) -> None:
    workspace_id = seed_workspace(session)
    session.commit()
    commits: list[int] = []
    lines = (json.dumps({"external_id": f"u{i}"}).encode() for i in range(2001))
    report = importing.import_users(
        session, workspace_id, lines, lambda: commits.append(len(commits))
    )
    assert report.imported == 2001
    # Once before reading, after each of the 3 batches, after the statistics refreshes that
    # follow batches 1 and 2.
    assert len(commits) == 6


def test_import_service_needs_an_existing_workspace(session: Session) -> None:
    with pytest.raises(NotFound):
        importing.import_users(session, "no-such-workspace", iter([]), lambda: None)


def test_store_failure_midway_keeps_earlier_batches_and_says_where(session: Session) -> None:
    workspace_id = seed_workspace(session)
    session.commit()
    calls: list[int] = []

    def commit() -> None:
        calls.append(1)
        if len(calls) == 4:  # before reading, batch 1, statistics, batch 2
            raise OperationalError("COMMIT", {}, Exception("connection lost"))
        session.commit()

    lines = (json.dumps({"external_id": f"u{i}"}).encode() for i in range(2500))
    with pytest.raises(StoreUnavailable) as raised:
        importing.import_users(session, workspace_id, lines, commit)
    assert "stopped at line 1001" in raised.value.message
    assert "1000 users" in raised.value.message
    stored = session.scalars(select(User.external_id).where(User.workspace_id == workspace_id))
    assert len(list(stored)) == 1000
