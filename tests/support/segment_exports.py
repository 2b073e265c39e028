"""Helpers of the segment export tests: a small workspace with a segment, reading export files
back, a callback receiver, and a gate that holds an export before its next batch."""

import gzip
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from kohorte.domain.segment_export_runs import ExportRunner
from tests.support.api import Api
from tests.support.segments import Universe, create_segment, leaf

EXPORT_PATH = "/users/export/segment"
MEMBERS = ("u1", "u2", "u3")


@dataclass(frozen=True)
class World:
    universe: Universe
    segment_id: str

    @property
    def headers(self) -> dict[str, str]:
        return self.universe.headers


def world(api: Api) -> World:
    """u1..u3 in cohort "gold" (u1 with a custom attribute), u4 outside; a segment of gold."""
    universe = Universe(api)
    universe.add_users([*MEMBERS, "u4"])
    body = {"attributes": [{"external_id": "u1", "plan": "pro"}]}
    api.expect(api.client.post("/users/track", json=body, headers=universe.headers), 201)
    universe.add_cohort("gold", "Gold")
    universe.add_members("gold", MEMBERS)
    return World(universe, create_segment(api, universe.workspace, leaf("gold")))


def start(client: TestClient, found: World, **body: Any) -> Any:
    request = {"segment_id": found.segment_id, "fields_to_export": ["external_id"], **body}
    return client.post(EXPORT_PATH, json=request, headers=found.headers)


def started(client: TestClient, found: World, **body: Any) -> dict[str, Any]:
    response = start(client, found, **body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def runner(app: FastAPI) -> ExportRunner:
    found: ExportRunner = app.state.segment_exports
    return found


def gzip_lines(content: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(content).decode().splitlines()]


def zip_lines(content: bytes) -> tuple[list[str], list[dict[str, Any]]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        text = archive.read(names[0]).decode()
    return names, [json.loads(line) for line in text.splitlines()]


class Gate:
    """Installed as the runner's ``before_batch``: every export waits there until opened."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.opened = threading.Event()

    def __call__(self) -> None:
        self.reached.set()
        assert self.opened.wait(60), "the gate was never opened"


@contextmanager
def held(app: FastAPI) -> Iterator[Gate]:
    gate = Gate()
    runner(app).before_batch = gate
    try:
        yield gate
    finally:
        gate.opened.set()
        runner(app).before_batch = None


@dataclass
class Receiver:
    """A local HTTP server that records the JSON bodies POSTed to it."""

    bodies: list[Any] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/done?secret=client-side"


@contextmanager
def receiver() -> Iterator[Receiver]:
    found = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            found.bodies.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()
