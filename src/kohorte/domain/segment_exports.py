"""``/users/export/segment``: checking a request, starting an export, finding its file, and
cleaning up after the retention time.

An export is a record (``store.segment_exports``) and a file in the export directory named by
the record's id. The download link carries a random token of which only the hash is stored.
The file is written by ``segment_export_runs`` in the background; the record is running until
the file is complete under its final name.
"""

import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from kohorte.domain.errors import InvalidInput, NotFound, RateLimited
from kohorte.domain.keys import digest_key
from kohorte.domain.segments.filters import shown
from kohorte.domain.segments.service import get_segment
from kohorte.store import segment_exports as store

FIELDS = ("external_id", "braze_id", "user_aliases", "devices", "custom_attributes", "cohorts")
FORMATS = ("gzip", "zip")
SUFFIXES = {"gzip": ".json.gz", "zip": ".zip"}
PARTIAL_SUFFIX = ".part"
MEDIA_TYPES = {"gzip": "application/gzip", "zip": "application/zip"}
# Only files kohorte named are ever deleted from the export directory.
OWN_FILE = re.compile(r"^([0-9a-f-]{36})(\.json\.gz|\.zip|\.part)$")
RETRY_AFTER_SECONDS = "60"


@dataclass(frozen=True)
class ExportRequest:
    segment_id: str
    fields_to_export: list[str]
    callback_endpoint: str | None = None
    output_format: str | None = None


@dataclass(frozen=True)
class Plan:
    """What the background run needs; ``url`` holds the token and lives only in memory."""

    export_id: str
    workspace_id: str
    segment_id: str
    fields: list[str]
    output_format: str
    callback_endpoint: str | None
    object_prefix: str
    url: str

    @property
    def file_name(self) -> str:
        return self.export_id + SUFFIXES[self.output_format]

    @property
    def member_name(self) -> str:
        return self.object_prefix + ".json"


@dataclass(frozen=True)
class ExportFile:
    path: Path
    media_type: str
    download_name: str


def start_export(
    session: Session,
    workspace_id: str,
    request: ExportRequest,
    callback_hosts: frozenset[str],
    stale_after: timedelta,
    link: Callable[[str], str],
) -> Plan:
    """Check the request and record a running export; the caller runs it once committed.

    A running export of the segment is a RateLimited; one whose heartbeat is older than
    ``stale_after`` is failed instead, its worker being gone.
    """
    fields, output_format = checked_fields(request.fields_to_export), _format(request)
    callback = _callback(request.callback_endpoint, callback_hosts)
    get_segment(session, workspace_id, request.segment_id)
    token, export_id = secrets.token_urlsafe(32), str(uuid.uuid4())
    prefix = f"{export_id}-{int(time.time())}"
    new = store.NewExport(
        workspace_id, request.segment_id, digest_key(token), prefix, fields, output_format, callback
    )
    if not store.start(session, new, export_id, _now() - stale_after):
        message = f"An export of segment {shown(request.segment_id)} is already running"
        raise RateLimited(message, {"Retry-After": RETRY_AFTER_SECONDS})
    return Plan(
        export_id,
        workspace_id,
        request.segment_id,
        fields,
        output_format,
        callback,
        prefix,
        link(token),
    )


def checked_fields(wanted: list[str]) -> list[str]:
    if not wanted:
        raise InvalidInput("fields_to_export must name at least one field")
    unknown = [name for name in wanted if name not in FIELDS]
    if unknown:
        raise InvalidInput(f"Unknown field in fields_to_export: {shown(unknown[0])}")
    return list(dict.fromkeys(wanted))


def _format(request: ExportRequest) -> str:
    chosen = request.output_format or "gzip"
    if chosen not in FORMATS:
        raise InvalidInput(f"output_format must be gzip or zip, not {shown(chosen)}")
    return chosen


def _callback(endpoint: str | None, allowed: frozenset[str]) -> str | None:
    if endpoint is None:
        return None
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname  # parses the port too: "host:x" is a ValueError here
        parts.port  # noqa: B018
    except ValueError:
        host = None  # an unclosed "[" or a bad port: not a URL at all
    if host is None or parts.scheme not in ("http", "https"):
        raise InvalidInput("callback_endpoint must be an http or https URL")
    if host.lower() not in allowed:
        raise InvalidInput(
            f"callback_endpoint host {shown(host)} is not allowed (KOHORTE_EXPORT_CALLBACK_HOSTS)"
        )
    return endpoint


def export_file(session: Session, directory: Path, token: str) -> ExportFile:
    """The complete file behind a download token; NotFound until it is complete."""
    found = store.download(session, digest_key(token))
    path = directory / found.file_name if found and found.file_name else None
    if found is None or found.status != store.COMPLETE or path is None or not path.is_file():
        raise NotFound("Export not found or not complete yet")
    name = found.object_prefix + SUFFIXES[found.output_format]
    return ExportFile(path, MEDIA_TYPES[found.output_format], name)


@dataclass(frozen=True)
class Cleaned:
    records: int
    files: int


def clean_up(
    session: Session,
    directory: Path,
    retention: timedelta,
    stale_after: timedelta,
    now: datetime | None = None,
) -> Cleaned:
    """Fail exports of dead workers; delete exports that ended over ``retention`` ago, and
    every file whose record is gone (a deleted workspace takes its records with it)."""
    now = now or _now()
    store.fail_stale(session, now - stale_after)
    deleted = store.delete_finished(session, now - retention)
    on_disk = list(_own_files(directory))
    kept = store.existing(session, list({export_id for export_id, _ in on_disk}))
    gone = [path for export_id, path in on_disk if export_id not in kept]
    for path in gone:
        path.unlink(missing_ok=True)
    return Cleaned(len(deleted), len(gone))


def _own_files(directory: Path) -> Iterable[tuple[str, Path]]:
    if not directory.is_dir():
        return
    for path in directory.iterdir():
        matched = OWN_FILE.match(path.name)
        if matched:
            yield matched.group(1), path


def _now() -> datetime:
    return datetime.now(UTC)
