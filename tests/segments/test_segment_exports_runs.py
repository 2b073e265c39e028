"""Segment exports over time: one at a time per segment, dead workers, shutdown, cleanup."""

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from kohorte.api.app import create_app
from kohorte.domain import segment_exports
from kohorte.settings import Settings
from kohorte.store.users_api_tables import SegmentExport
from tests.support import ADMIN_HEADERS, ADMIN_TOKEN, Api
from tests.support.segment_exports import World, gzip_lines, held, runner, start, started, world

DAY = timedelta(days=1)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, admin_token=ADMIN_TOKEN, export_dir=tmp_path)


def statuses(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.scalars(select(SegmentExport.status)))


def files(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_a_second_export_of_a_running_segment_is_a_429_until_it_completes(
    client: TestClient, app: FastAPI, found: World
) -> None:
    with held(app) as gate:
        first = started(client, found)
        assert gate.reached.wait(60)
        refused = start(client, found, output_format="zip")
        assert refused.status_code == 429, refused.text
        assert "already running" in refused.json()["message"]
        assert client.get(first["url"]).status_code == 404  # not complete yet
        gate.opened.set()
        runner(app).wait(60)
    assert len(gzip_lines(client.get(first["url"]).content)) == 3
    started(client, found)  # the segment is free again


def test_other_segments_export_while_one_runs(
    client: TestClient, app: FastAPI, api: Api, found: World
) -> None:
    other = world(api)
    with held(app) as gate:
        started(client, found)
        assert gate.reached.wait(60)
        started(client, other)


def test_a_running_export_whose_worker_died_no_longer_blocks(
    client: TestClient, app: FastAPI, engine: Engine, settings: Settings, found: World
) -> None:
    """After KOHORTE_EXPORT_STALE_AFTER without a heartbeat the export is taken for dead."""
    with held(app) as gate:
        dead = started(client, found)
        assert gate.reached.wait(60)
        assert start(client, found).status_code == 429
        stale = datetime.now(UTC) - settings.export_stale_after - timedelta(seconds=1)
        with engine.begin() as connection:
            connection.execute(update(SegmentExport).values(heartbeat_at=stale))
        fresh = started(client, found)
        gate.opened.set()
        runner(app).wait(60)
    assert client.get(dead["url"]).status_code == 404  # never completes
    assert len(gzip_lines(client.get(fresh["url"]).content)) == 3
    assert statuses(engine) == ["complete", "failed"]
    assert len(files(runner(app).directory)) == 1


def test_a_live_export_is_not_taken_for_dead(
    client: TestClient, app: FastAPI, engine: Engine, settings: Settings, found: World
) -> None:
    with held(app) as gate:
        started(client, found)
        assert gate.reached.wait(60)
        fresh = datetime.now(UTC) - settings.export_stale_after + timedelta(seconds=30)
        with engine.begin() as connection:
            connection.execute(update(SegmentExport).values(heartbeat_at=fresh))
        assert start(client, found).status_code == 429


def test_exports_do_not_survive_a_shutdown(
    client: TestClient, app: FastAPI, engine: Engine, settings: Settings, found: World
) -> None:
    """Stopping fails running exports and removes their partial files; a restarted server
    exports the segment anew."""
    with held(app) as gate:
        body = started(client, found)
        assert gate.reached.wait(60)
        stopping = threading.Thread(target=runner(app).close)
        stopping.start()
        assert runner(app).stopping.wait(60)
        gate.opened.set()
        stopping.join(60)
    assert statuses(engine) == ["failed"]
    assert files(runner(app).directory) == []
    assert client.get(body["url"]).status_code == 404
    with TestClient(create_app(settings, engine), base_url="http://kohorte.test") as restarted:
        again = started(restarted, found)
        runner(restarted.app).wait(60)  # type: ignore[arg-type]
        assert len(gzip_lines(restarted.get(again["url"]).content)) == 3


def clean(engine: Engine, settings: Settings, now: datetime) -> segment_exports.Cleaned:
    with Session(engine) as session:
        cleaned = segment_exports.clean_up(
            session,
            settings.export_directory(),
            settings.export_retention,
            settings.export_stale_after,
            now,
        )
        session.commit()
    return cleaned


def test_files_and_records_go_after_the_retention_time(
    client: TestClient, app: FastAPI, engine: Engine, settings: Settings, found: World
) -> None:
    body = started(client, found)
    runner(app).wait(60)
    soon = datetime.now(UTC) + settings.export_retention - timedelta(minutes=1)
    assert clean(engine, settings, soon) == segment_exports.Cleaned(0, 0)
    assert client.get(body["url"]).status_code == 200
    later = datetime.now(UTC) + settings.export_retention + timedelta(minutes=1)
    assert clean(engine, settings, later) == segment_exports.Cleaned(1, 1)
    assert client.get(body["url"]).status_code == 404
    assert files(settings.export_directory()) == []
    assert statuses(engine) == []


def test_cleanup_fails_dead_exports_and_removes_their_partial_files(
    client: TestClient, app: FastAPI, engine: Engine, settings: Settings, found: World
) -> None:
    with held(app) as gate:
        started(client, found)
        assert gate.reached.wait(60)
        later = datetime.now(UTC) + settings.export_stale_after + timedelta(seconds=1)
        clean(engine, settings, later)
        assert statuses(engine) == ["failed"]
        gate.opened.set()
        runner(app).wait(60)
    assert files(settings.export_directory()) == []
    assert clean(engine, settings, later + settings.export_retention) == (
        segment_exports.Cleaned(1, 0)
    )


def test_a_deleted_workspace_leaves_no_files_after_cleanup(
    client: TestClient, app: FastAPI, engine: Engine, settings: Settings, found: World
) -> None:
    started(client, found)
    runner(app).wait(60)
    unrelated = settings.export_directory() / "operator-notes.txt"
    unrelated.write_text("kept")
    workspace_id = found.universe.workspace.id
    deleted = client.delete(f"/admin/workspaces/{workspace_id}", headers=ADMIN_HEADERS)
    assert deleted.status_code == 204, deleted.text
    assert clean(engine, settings, datetime.now(UTC)) == segment_exports.Cleaned(0, 1)
    assert files(settings.export_directory()) == ["operator-notes.txt"]


def test_retention_and_hosts_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KOHORTE_EXPORT_RETENTION", "PT2H")
    monkeypatch.setenv("KOHORTE_EXPORT_CALLBACK_HOSTS", " Hooks.Example.com ,localhost,")
    monkeypatch.setenv("KOHORTE_EXPORT_DIR", str(tmp_path))
    read = Settings(database_url="sqlite:///" + str(tmp_path / "store" / "k.db"))
    assert read.export_retention == timedelta(hours=2)
    assert read.export_callback_host_set == {"hooks.example.com", "localhost"}
    assert read.export_directory() == tmp_path


def test_the_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("EXPORT_RETENTION", "EXPORT_DIR", "EXPORT_CALLBACK_HOSTS"):
        monkeypatch.delenv("KOHORTE_" + name, raising=False)
    beside = Settings(database_url="sqlite:///" + str(tmp_path / "k.db"))
    assert beside.export_directory() == tmp_path.resolve() / "kohorte-exports"
    assert beside.export_retention == DAY
    assert beside.export_callback_host_set == {"localhost", "127.0.0.1"}
    on_postgres = Settings(database_url="postgresql://db/kohorte")
    assert on_postgres.export_directory().name == "kohorte-exports"
