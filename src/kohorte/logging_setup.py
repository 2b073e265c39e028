"""Logging for ``kohorte serve``: one configuration, applied in the server and in every worker.

kohorte logs events and error kinds, never keys or request bodies; uvicorn's access log shows
method, path and status only.
"""

import logging
import logging.config
from typing import Any

LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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
        "handlers": {"stderr": handler},
        "root": {"handlers": ["stderr"], "level": name},
        "loggers": {
            # uvicorn brings its own handlers; route them through ours so there is one format.
            "uvicorn": {"handlers": [], "level": name, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": name, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": name, "propagate": True},
        },
    }


def configure_logging(level: str) -> dict[str, Any]:
    """Apply the configuration here and return it for uvicorn to apply in its workers."""
    config = logging_config(level)
    logging.config.dictConfig(config)
    return config
