"""The test run's logging, kept from what `kohorte serve`'s configuration does to it.

Applying kohorte's logging configuration (as `serve` does, in-process in the CLI tests) points
handlers at the stderr of that moment, which pytest closes after the test; later log lines
would then fail to write. ``kept_logging`` puts every logger the configuration names back.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kohorte.logging_setup import logging_config

LoggerState = tuple[int, list[logging.Handler], bool, list[Any], bool]


@contextmanager
def kept_logging() -> Iterator[None]:
    names = ["", *logging_config("INFO")["loggers"]]
    saved = {name: _state(logging.getLogger(name)) for name in names}
    try:
        yield
    finally:
        for name, state in saved.items():
            _restore(logging.getLogger(name), state)


def _state(logger: logging.Logger) -> LoggerState:
    return (logger.level, logger.handlers[:], logger.propagate, logger.filters[:], logger.disabled)


def _restore(logger: logging.Logger, state: LoggerState) -> None:
    logger.level, handlers, logger.propagate, filters, logger.disabled = state
    logger.handlers[:], logger.filters[:] = handlers, filters
