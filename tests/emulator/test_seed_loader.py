"""Applying a seed file through the loader: what it creates, idempotence, keys that work."""

import hashlib
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from kohorte.api.app import create_app
from kohorte.settings import Settings
from kohorte.store.models import DataImportKey, PartnerApiKey, RestApiKey
from tests.support import ADMIN_HEADERS, Api, Integration, PartnerHandle, WorkspaceHandle
from tests.support.resets import admin_listing
from tests.support.seed_files import (
    DATA_IMPORT_KEY,
    PARTNER_KEY,
    REST_KEY,
    apply,
    example,
    store_rows,
    write_seed,
)

DEMO = WorkspaceHandle("demo", REST_KEY)
SEEDED = Integration(DEMO, PartnerHandle("amplitude", PARTNER_KEY), DATA_IMPORT_KEY)


def full_access(api: Api) -> WorkspaceHandle:
    return WorkspaceHandle("demo", api.create_rest_key("demo"))


def test_the_example_seeds_everything_it_names(api: Api, engine: Engine, tmp_path: Path) -> None:
    apply(engine, write_seed(tmp_path, example()))
    cohort = api.cohort(SEEDED, "power-users")
    assert (cohort["name"], cohort["size"]) == ("Power users", 2)
    size = api.client.get("/segments/power/size", headers=full_access(api).headers)
    assert api.expect(size, 200)["size"] == 2
    [listed] = api.expect(api.client.get("/admin/workspaces", headers=ADMIN_HEADERS), 200)[
        "workspaces"
    ]
    assert (listed["id"], listed["name"]) == ("demo", "Demo")


def test_seeded_keys_work_as_issued_ones(api: Api, engine: Engine, tmp_path: Path) -> None:
    apply(engine, write_seed(tmp_path, example()))
    assert (
        api.synced(SEEDED, "power-users", {"user_ids": ["alice"], "should_remove": True})["removed"]
        == 1
    )
    # The REST key has only cohorts.read, as the file says.
    assert api.client.get("/cohorts", headers=DEMO.headers).status_code == 200
    refused = api.client.post("/users/track", json={"attributes": []}, headers=DEMO.headers)
    assert refused.status_code == 403


def test_members_enter_as_by_a_partner_sync(api: Api, engine: Engine, tmp_path: Path) -> None:
    apply(engine, write_seed(tmp_path, example()))
    [event] = api.user_history(DEMO, external_id="alice")
    assert (event["cohort_id"], event["event"], event["cause"]) == (
        "power-users",
        "entered",
        "partner_sync",
    )


def test_applying_the_same_file_again_changes_nothing(
    api: Api, engine: Engine, tmp_path: Path
) -> None:
    path = write_seed(tmp_path, example())
    apply(engine, path)
    rows, listing = store_rows(engine), admin_listing(api)
    apply(engine, path)
    assert store_rows(engine) == rows
    assert admin_listing(api) == listing


def test_the_json_twin_seeds_the_same(api: Api, engine: Engine, tmp_path: Path) -> None:
    apply(engine, Path(__file__).resolve().parents[2] / "examples" / "seed.json")
    assert api.cohort(SEEDED, "power-users")["size"] == 2


def test_what_exists_is_left_as_it_is(api: Api, engine: Engine, tmp_path: Path) -> None:
    apply(engine, write_seed(tmp_path, example()))
    api.track(full_access(api), "carol")
    api.synced(SEEDED, "power-users", {"user_ids": ["alice"], "should_remove": True})
    renamed = example()
    renamed["workspaces"][0]["name"] = "Renamed"
    renamed["workspaces"][0]["users"][0]["attributes"] = {"plan": "free"}
    apply(engine, write_seed(tmp_path, renamed))
    [listed] = api.expect(api.client.get("/admin/workspaces", headers=ADMIN_HEADERS), 200)[
        "workspaces"
    ]
    assert listed["name"] == "Demo"
    # The existing cohort keeps its members as partners left them: alice is not re-added.
    assert api.member_external_ids(SEEDED, "power-users") == {None}


def test_a_file_adds_what_an_existing_store_lacks(api: Api, engine: Engine, tmp_path: Path) -> None:
    generated = api.partner("amplitude")
    apply(engine, write_seed(tmp_path, example()))
    [partner] = api.expect(api.client.get("/admin/partners", headers=ADMIN_HEADERS), 200)[
        "partners"
    ]
    assert len(partner["api_keys"]) == 2
    old = Integration(DEMO, generated, DATA_IMPORT_KEY)
    assert api.synced(old, "power-users")["added"] == 0


def test_an_instance_reset_applies_the_seed_file_again(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    path = write_seed(tmp_path, example())
    app = create_app(settings.model_copy(update={"seed_file": path}), engine)
    with TestClient(app, base_url="http://kohorte.test") as client:
        api = Api(client)
        apply(engine, path)
        listing = admin_listing(api)
        api.create_workspace("extra")
        api.synced(SEEDED, "power-users", {"user_ids": ["alice"], "should_remove": True})
        api.expect(client.post("/admin/reset", headers=ADMIN_HEADERS), 204)
        after = admin_listing(api)
        assert [w["id"] for w in after["workspaces"]] == ["demo"]
        assert [p["name"] for p in after["partners"]] == [p["name"] for p in listing["partners"]]
        assert api.cohort(SEEDED, "power-users")["size"] == 2


def test_seeded_keys_are_stored_only_as_hashes(engine: Engine, tmp_path: Path) -> None:
    apply(engine, write_seed(tmp_path, example()))
    with engine.connect() as connection:
        for table, key in (
            (PartnerApiKey, PARTNER_KEY),
            (RestApiKey, REST_KEY),
            (DataImportKey, DATA_IMPORT_KEY),
        ):
            [row] = connection.execute(select(table.__table__)).mappings().all()
            assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
            assert not any(key in str(value) for value in row.values())


def test_a_reset_whose_seed_file_broke_meanwhile_changes_nothing(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    path = write_seed(tmp_path, example())
    app = create_app(settings.model_copy(update={"seed_file": path}), engine)
    with TestClient(app, base_url="http://kohorte.test") as client:
        apply(engine, path)
        rows = store_rows(engine)
        path.write_text("partners: [")
        refused = client.post("/admin/reset", headers=ADMIN_HEADERS)
        assert refused.status_code == 400
        assert refused.json()["message"].startswith(f"invalid seed file {path}: is not valid YAML")
        assert store_rows(engine) == rows
