"""Helpers for tests of the emulator controls: the request journal and faults on demand."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from kohorte.api.app import create_app
from kohorte.settings import Settings
from tests.support.api import ADMIN_HEADERS, ADMIN_TOKEN, Api


@contextmanager
def api_with(database_url: str, engine: Engine, **settings: Any) -> Iterator[Api]:
    """An API whose server runs with these settings (e.g. ``journal_max_entries=3``)."""
    configured = Settings(database_url=database_url, admin_token=ADMIN_TOKEN, **settings)
    with TestClient(create_app(configured, engine), base_url="http://kohorte.test") as client:
        yield Api(client)


def journal_page(api: Api, **params: Any) -> Any:
    return api.expect(api.client.get("/admin/journal", params=params, headers=ADMIN_HEADERS), 200)


def journal(api: Api, **params: Any) -> list[dict[str, Any]]:
    """The entries of the first page, newest first."""
    entries: list[dict[str, Any]] = journal_page(api, **params)["entries"]
    return entries


def latest_entry(api: Api) -> dict[str, Any]:
    return journal(api, limit=1)[0]


def create_fault(api: Api, **body: Any) -> dict[str, Any]:
    created: dict[str, Any] = api.expect(
        api.client.post("/admin/faults", json=body, headers=ADMIN_HEADERS), 201
    )
    return created


def faults(api: Api) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = api.expect(
        api.client.get("/admin/faults", headers=ADMIN_HEADERS), 200
    )["faults"]
    return listed
