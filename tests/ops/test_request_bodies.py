"""Clients that stall or go away mid-body, against a running `kohorte serve` over a socket."""

import contextlib
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support import Api
from tests.support.servers import ServerProcess, running_servers

BODY_TIMEOUT_S = 1.0
pytestmark = pytest.mark.usefixtures("engine")  # the tables are emptied afterwards
PARTIAL_REQUEST = (
    b"POST /partners/amplitude/cohorts HTTP/1.1\r\nHost: kohorte\r\n"
    b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":'
)


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    extra = {"KOHORTE_BODY_TIMEOUT": str(BODY_TIMEOUT_S), "KOHORTE_LOG_LEVEL": "INFO"}
    with running_servers(database_url, tmp_path_factory.mktemp("bodies"), extra_env=extra) as [
        process
    ]:
        yield process


def connected(server: ServerProcess) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def test_a_stalled_body_is_cut_off_after_the_body_timeout(server: ServerProcess) -> None:
    with connected(server) as connection:
        connection.sendall(PARTIAL_REQUEST)
        started = time.monotonic()
        answer = read_to_end(connection)
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert answer.endswith(b'{"message": "Request body timed out"}')
    assert BODY_TIMEOUT_S * 0.9 <= time.monotonic() - started < BODY_TIMEOUT_S + 5


def test_a_stalled_users_import_is_cut_off_too(server: ServerProcess) -> None:
    # The import reads its body as a stream in a worker thread; the stall is caught there too.
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        workspace = Api(client).create_workspace()
    line = b'{"external_id": "stalled"}\n'
    request = (
        b"POST /users/import HTTP/1.1\r\nHost: kohorte\r\n"
        + f"Authorization: Bearer {workspace.rest_key}\r\n".encode()
        + b"Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
        + f"{len(line):x}\r\n".encode()
        + line
        + b"\r\n"
    )
    with connected(server) as connection:
        connection.sendall(request)
        started = time.monotonic()
        answer = read_to_end(connection)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert BODY_TIMEOUT_S * 0.9 <= time.monotonic() - started < BODY_TIMEOUT_S + 5
    assert "Traceback" not in server.log()


def test_a_client_that_goes_away_mid_body_is_not_an_error(server: ServerProcess) -> None:
    for _ in range(3):
        with connected(server) as connection:
            connection.sendall(PARTIAL_REQUEST)
    time.sleep(0.5)
    metrics = httpx.get(f"{server.base_url}/metrics", timeout=10).text
    counted = [line for line in metrics.splitlines() if "/partners/{partner}/cohorts" in line]
    assert any('status="499"' in line for line in counted if "requests_total" in line), counted
    assert not [line for line in metrics.splitlines() if 'status="5' in line]
    log = server.log()
    assert "ERROR" not in log
    assert "Traceback" not in log


def test_bodies_sent_whole_are_unaffected(server: ServerProcess) -> None:
    response = httpx.post(f"{server.base_url}/partners/amplitude/cohorts", json={}, timeout=10)
    assert response.status_code in (400, 401)
    assert "message" in response.json()


def read_to_end(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes (every answer here is `connection: close`)."""
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def raw_exchange(server: ServerProcess, request: bytes) -> bytes:
    with connected(server) as connection:
        connection.sendall(request)
        return read_to_end(connection)


def request_with_header_of(size: int) -> bytes:
    return (
        b"GET /healthz HTTP/1.1\r\nHost: kohorte\r\nConnection: close\r\n"
        + b"X-Padding: "
        + b"a" * size
        + b"\r\n\r\n"
    )


def test_headers_over_64_kib_are_refused_with_431(server: ServerProcess) -> None:
    answer = raw_exchange(server, request_with_header_of(70 * 1024))
    assert answer.startswith(b"HTTP/1.1 431 ")
    assert answer.endswith(b'{"message": "Request headers are larger than 64 KiB"}')


def test_a_huge_header_is_refused_without_reading_it_whole(server: ServerProcess) -> None:
    sent = 0
    with connected(server) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nX-Padding: ")
        with contextlib.suppress(OSError):  # the server closes while we still send
            for _ in range(3200):  # 200 MiB, if the server read it all
                connection.sendall(b"a" * 65536)
                sent += 1
        with contextlib.suppress(ConnectionResetError):  # the reset may overtake the answer
            assert connection.recv(4096).startswith(b"HTTP/1.1 431 ")
    assert sent < 3200


def test_headers_under_the_limit_are_served(server: ServerProcess) -> None:
    answer = raw_exchange(server, request_with_header_of(60 * 1024))
    assert answer.startswith(b"HTTP/1.1 200 ")
    again = httpx.get(f"{server.base_url}/healthz", headers={"X-Padding": "b" * 1000}, timeout=10)
    assert again.status_code == 200
