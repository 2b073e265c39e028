"""Logging for ``kohorte serve``: one configuration, applied in the server and in every worker.

kohorte logs events and error kinds, never keys or request bodies; uvicorn's access log shows
method, path and status only.
"""

import logging
import logging.config
import re
from typing import Any

LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# A segment export's download link is its own credential (/users/export/segment/files/<token>).
SECRET_PATHS = re.compile(r"(/users/export/segment/files/)[^\s?\"]*")


class SecretPathFilter(logging.Filter):
    """Masks download tokens in uvicorn's access lines (args: client, method, path, ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) > 2:
            path = str(record.args[2])
            masked = SECRET_PATHS.sub(r"\1***", path)
            record.args = (*record.args[:2], masked, *record.args[3:])
        return True


def checked_level(level: str) -> str:
    """The level name in upper case; ValueError naming the allowed ones otherwise."""
    name = level.strip().upper()
    if name not in LEVELS:
        raise ValueError(f"KOHORTE_LOG_LEVEL must be one of {', '.join(LEVELS)}, not {level!r}")
    return name


def logging_config(level: str) -> dict[str, Any]:
    name = checked_level(level)
    handler = {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": FORMAT}},
        "filters": {"secret_paths": {"()": SecretPathFilter}},
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": name},
        "loggers": {
            # uvicorn brings its own handlers; route them through ours so there is one format.
            "uvicorn": {"handlers": [], "level": name, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": name, "propagate": True},
            "uvicorn.access": {
                "handlers": [],
                "level": name,
                "propagate": True,
                "filters": ["secret_paths"],
            },
            # httpx logs every URL it calls at INFO: a callback endpoint may carry the
            # client's own secret in its query.
            "httpx": {"level": "WARNING"},
        },
    }


def configure_logging(level: str) -> dict[str, Any]:
    """Apply the configuration here and return it for uvicorn to apply in its workers."""
    config = logging_config(level)
    logging.config.dictConfig(config)
    return config
