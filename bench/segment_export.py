"""Time ``POST /users/export/segment`` of a 1,000,000-member segment on PostgreSQL, and the
process's peak RSS growth while it runs (the export must stream in constant memory).

    .venv/bin/python -m bench.segment_export [--users 1000000] [--format gzip|zip] [--reuse]
        [--server postgresql://postgres@127.0.0.1:5432/postgres]

Builds a database of its own (``kohorte_bench_segment_export_stream``, dropped and recreated) and
loads N users with COPY, each with two custom attributes, one alias and one device, all in
cohort A; the segment is "in A". Then, in this process (the server's app through a
TestClient), POSTs the export with every field and waits until the download link answers 200.
RSS is sampled every 20 ms from just before the POST; the growth is the peak until the export
is complete minus that baseline (the download, which holds the whole file, comes after).
"""

import argparse
import gzip
import io
import secrets
import threading
import time
import zipfile
from pathlib import Path
from tempfile import TemporaryDirectory

import psutil
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bench.segments import ADMIN_TOKEN, copy_rows, database_url, recreate_database, reuse
from kohorte.api.app import create_app, tune_garbage_collector
from kohorte.domain import partners, segments, workspaces
from kohorte.settings import Settings
from kohorte.store.database import create_store_engine
from kohorte.store.migrate import upgrade_to_head

DATABASE = "kohorte_bench_segment_export_stream"
IN_A = {"filter": "amplitude_cohorts", "op": "includes_value", "value": "A"}
FIELDS = ["external_id", "braze_id", "user_aliases", "devices", "custom_attributes", "cohorts"]


def attributes(n: int) -> str:
    return f'{{"plan":"pro","n":{n}}}'


def load(engine: Engine, users: int) -> None:
    started = time.perf_counter()
    with Session(engine) as session:
        workspace_id = workspaces.create_workspace(session, "bench").id
        partners.create_partner(session, "amplitude", "Amplitude")
        session.commit()
    copy_rows(
        engine,
        "COPY users (workspace_id, external_id, braze_id, custom_attributes, created_at,"
        " updated_at) FROM STDIN",
        (
            (workspace_id, f"user-{n:08d}", secrets.token_hex(12), attributes(n), "now", "now")
            for n in range(users)
        ),
    )
    with engine.begin() as connection:
        cohort_pk = connection.scalar(
            text(
                "INSERT INTO cohorts (workspace_id, partner_name, cohort_id, name, created_at,"
                " updated_at, folded_size) VALUES (:w, 'amplitude', 'A', 'A', now(), now(), :s)"
                " RETURNING id"
            ),
            {"w": workspace_id, "s": users},
        )
        for statement in (
            "INSERT INTO cohort_memberships (cohort_pk, user_id, entered_at)"
            " SELECT :pk, id, now() FROM users",
            "INSERT INTO user_aliases (workspace_id, user_id, alias_label, alias_name)"
            " SELECT workspace_id, id, 'crm', external_id FROM users",
            "INSERT INTO user_devices (workspace_id, user_id, device_id)"
            " SELECT workspace_id, id, 'device-' || external_id FROM users",
        ):
            connection.execute(text(statement), {"pk": cohort_pk})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    print(f"loaded {users:,} users in {time.perf_counter() - started:.1f} s")


class RssPeak:
    """The process's peak RSS, sampled in a thread."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.baseline = self.peak = self.process.memory_info().rss
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> "RssPeak":
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.done.set()
        self.thread.join()


def lines_in(content: bytes, output_format: str) -> int:
    if output_format == "zip":
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return archive.read(archive.namelist()[0]).count(b"\n")
    return gzip.decompress(content).count(b"\n")


def export(url: str, key: str, segment_id: str, output_format: str, directory: Path) -> None:
    settings = Settings(database_url=url, admin_token=ADMIN_TOKEN, export_dir=directory)
    headers = {"Authorization": f"Bearer {key}"}
    body = {"segment_id": segment_id, "fields_to_export": FIELDS, "output_format": output_format}
    app = create_app(settings)
    tune_garbage_collector()  # as kohorte.api.main does for a served process
    with TestClient(app) as client, RssPeak() as rss:
        started = time.perf_counter()
        answer = client.post("/users/export/segment", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        answered = time.perf_counter() - started
        client.app.state.segment_exports.wait()  # type: ignore[attr-defined]
        elapsed = time.perf_counter() - started
        growth = rss.peak - rss.baseline  # before the download, which holds the whole file
        download = client.get(answer.json()["url"])
    assert download.status_code == 200, download.text
    size = len(download.content)
    print(f"answered in {answered * 1000:.0f} ms; complete after {elapsed:.1f} s")
    lines = lines_in(download.content, output_format)
    print(f"file: {size / 1e6:.1f} MB {output_format}, {lines:,} lines")
    print(f"peak RSS growth during the export: {growth / 2**20:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--format", choices=("gzip", "zip"), default="gzip")
    parser.add_argument("--reuse", action="store_true", help="keep the data of the last run")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    url = database_url(args.server, DATABASE)
    if not args.reuse:
        url = recreate_database(args.server, DATABASE)
        engine = create_store_engine(url, statement_timeout_ms=0)
        upgrade_to_head(engine)
        load(engine, args.users)
        engine.dispose()
    workspace_id, key = reuse(url)
    engine = create_store_engine(url, statement_timeout_ms=0)
    with Session(engine) as session:
        segment_id = segments.create_segment(session, workspace_id, "in A", IN_A).id
        session.commit()
    engine.dispose()
    with TemporaryDirectory() as directory:
        export(url, key, segment_id, args.format, Path(directory))


if __name__ == "__main__":
    main()
