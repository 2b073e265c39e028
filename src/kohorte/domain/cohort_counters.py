"""Cohort sizes and data points: folding the deltas that writers leave (store/cohort_counters).

Folding changes no size or count that a reader sees; it only keeps the pending deltas few, so
reads that add them stay cheap.
"""

from sqlalchemy.orm import Session

from kohorte.store import cohort_counters as store


def fold(session: Session) -> bool:
    """Fold every pending delta; False when another fold was running (it does the work)."""
    return store.fold(session)
