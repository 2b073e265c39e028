"""Helpers shared by the tests, one module per area (see tests/README.md).

The names most tests need, from ``tests.support.api``, are re-exported here so that
``from tests.support import ADMIN_TOKEN, Api`` works.
"""

from tests.support.api import (
    ADMIN_HEADERS,
    ADMIN_TOKEN,
    Api,
    Integration,
    PartnerHandle,
    WorkspaceHandle,
    bearer,
    cohort_history_path,
    event_summary,
    instant,
)

__all__ = [
    "ADMIN_HEADERS",
    "ADMIN_TOKEN",
    "Api",
    "Integration",
    "PartnerHandle",
    "WorkspaceHandle",
    "bearer",
    "cohort_history_path",
    "event_summary",
    "instant",
]
