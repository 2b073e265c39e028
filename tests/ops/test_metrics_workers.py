"""One scrape of /metrics under `kohorte serve --workers 2` reports both workers together."""

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.support.servers import ServerProcess, running_servers, stop_server

HEALTH_REQUESTS = 40
SCRAPES = 6
HEALTHZ_SERIES = re.compile(r'^kohorte_http_requests_total\{[^}]*route="/healthz"[^}]*\} (\S+)$')


@pytest.fixture(scope="module")
def temp_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-tmp")


@pytest.fixture(scope="module")
def server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, temp_dir: Path
) -> Iterator[ServerProcess]:
    # The server's temporary files go to a directory of this test's, to see them removed.
    extra = {"TMPDIR": str(temp_dir)}
    log_dir = tmp_path_factory.mktemp("workers")
    with running_servers(database_url, log_dir, workers=2, extra_env=extra) as [process]:
        yield process


def healthz_count(metrics: str) -> float:
    matches = (HEALTHZ_SERIES.match(line) for line in metrics.splitlines())
    return sum(float(match.group(1)) for match in matches if match is not None)


def created_lines(metrics: str) -> list[str]:
    return [line for line in metrics.splitlines() if line.split(" ")[0].endswith("_created")]


def test_every_scrape_reports_the_requests_of_all_workers(server: ServerProcess) -> None:
    for _ in range(HEALTH_REQUESTS):  # a fresh connection each, so both workers take some
        assert httpx.get(f"{server.base_url}/healthz", timeout=10).status_code == 200
    for _ in range(SCRAPES):
        metrics = httpx.get(f"{server.base_url}/metrics", timeout=10).text
        assert healthz_count(metrics) >= HEALTH_REQUESTS, metrics
        assert "\nprocess_cpu_seconds_total " in metrics
        assert created_lines(metrics) == []


def test_the_shared_metrics_directory_is_removed_on_exit(
    server: ServerProcess, temp_dir: Path
) -> None:
    assert [path.name for path in temp_dir.glob("kohorte-metrics-*")] != []
    stop_server(server)
    assert list(temp_dir.glob("kohorte-metrics-*")) == []


def test_an_app_reports_process_and_runtime_metrics_without_created(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    metrics = client.get("/metrics").text
    assert "\nprocess_cpu_seconds_total " in metrics
    assert "\npython_info{" in metrics
    assert "python_gc_collections_total{" in metrics
    assert created_lines(metrics) == []
