"""Logging for ``kohorte serve``: one configuration, applied in the server and in every worker.

kohorte logs events and error kinds, never keys or request bodies; its access line shows
method, route template, status and duration only. Every line written while serving a request
carries that request's id (``request_id``), in text as in JSON.
"""

import logging
import logging.config
import re
from datetime import UTC, datetime
from typing import Any

from asgi_correlation_id.context import correlation_id
from pythonjsonlogger.json import JsonFormatter

LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
FORMATS = ("text", "json")
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
# JSON keys as the contract names them; the rest of a record's extras follow as they are.
JSON_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
JSON_NAMES = {"asctime": "time", "levelname": "level", "name": "logger"}
# A segment export's download link is its own credential (/users/export/segment/files/<token>).
SECRET_PATHS = re.compile(r"(/users/export/segment/files/)[^\s?\"]*")


def masked_path(path: str) -> str:
    return SECRET_PATHS.sub(r"\1***", path)


class SecretPathFilter(logging.Filter):
    """Masks download tokens in uvicorn's access lines (args: client, method, path, ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) > 2:
            path = str(record.args[2])
            masked = masked_path(path)
            record.args = (*record.args[:2], masked, *record.args[3:])
        return True


class RequestIdFilter(logging.Filter):
    """Puts the id of the request being served on every record that reaches the handler;
    outside a request the record gets none, so JSON lines have no ``request_id`` key then."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = correlation_id.get()
        if request_id is not None:
            record.request_id = request_id
        return True


def checked_level(level: str) -> str:
    """The level name in upper case; ValueError naming the allowed ones otherwise."""
    name = level.strip().upper()
    if name not in LEVELS:
        raise ValueError(f"KOHORTE_LOG_LEVEL must be one of {', '.join(LEVELS)}, not {level!r}")
    return name


def checked_format(log_format: str) -> str:
    """The format name in lower case; ValueError naming the allowed ones otherwise."""
    name = log_format.strip().lower()
    if name not in FORMATS:
        raise ValueError(
            f"KOHORTE_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}"
        )
    return name


class IsoTimeJsonFormatter(JsonFormatter):
    """JSON lines whose ``time`` is ISO 8601 in UTC with milliseconds, which log shippers
    parse without a format string (the default is local time without a zone)."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: ARG002
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _formatters() -> dict[str, Any]:
    # "()" factories, because dictConfig only passes `defaults` itself from Python 3.12 on.
    return {
        "text": {"()": "logging.Formatter", "fmt": FORMAT, "defaults": {"request_id": "-"}},
        "json": {
            "()": IsoTimeJsonFormatter,
            "fmt": JSON_FORMAT,
            "rename_fields": JSON_NAMES,
        },
    }


def logging_config(level: str, log_format: str = "text") -> dict[str, Any]:
    name = checked_level(level)
    handler = {
        "class": "logging.StreamHandler",
        "formatter": checked_format(log_format),
        "filters": ["request_id"],  # on the handler: it sees every propagated record
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": _formatters(),
        "filters": {
            "secret_paths": {"()": SecretPathFilter},
            "request_id": {"()": RequestIdFilter},
        },
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": name},
        "loggers": {
            # uvicorn brings its own handlers; route them through ours so there is one format.
            "uvicorn": {"handlers": [], "level": name, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": name, "propagate": True},
            # Off under `kohorte serve` (kohorte writes its own access line with the request
            # id); still masked for a uvicorn started by hand with this configuration.
            "uvicorn.access": {
                "handlers": [],
                "level": name,
                "propagate": True,
                "filters": ["secret_paths"],
            },
            # kohorte's own access line, one per request (quiet unless configured here).
            "kohorte.access": {"level": name},
            # Its only line says an invalid X-Request-ID was replaced, before the new id is
            # set: no operator's concern, and it would be a request's one line without its id.
            "asgi_correlation_id": {"level": "ERROR"},
            # httpx logs every URL it calls at INFO: a callback endpoint may carry the
            # client's own secret in its query.
            "httpx": {"level": "WARNING"},
            # At INFO and below SQLAlchemy logs statements with their parameters: identifiers
            # from request bodies and key hashes. Never, whatever KOHORTE_LOG_LEVEL says.
            "sqlalchemy": {"level": "WARNING"},
        },
    }


def configure_logging(level: str, log_format: str = "text") -> dict[str, Any]:
    """Apply the configuration here and return it for uvicorn to apply in its workers."""
    config = logging_config(level, log_format)
    logging.config.dictConfig(config)
    return config
