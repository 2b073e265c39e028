"""The partner rate limit: requests per data import key in fixed one-hour windows.

Counted in the store so that every worker process shares one count.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from kohorte.domain.errors import RateLimited
from kohorte.store.cohort_import import rate_limit as store

WINDOW = timedelta(hours=1)
RATE_LIMITED_MESSAGE = "Rate limit exceeded"


@dataclass(frozen=True)
class RateLimitStatus:
    limit: int
    count: int
    reset_at: datetime

    @property
    def exceeded(self) -> bool:
        return self.count > self.limit

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, self.limit - self.count)),
            "X-RateLimit-Reset": str(int(self.reset_at.timestamp())),
        }


def window_start(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def count_request(
    session: Session, key_id: str, limit_per_hour: int, now: datetime
) -> RateLimitStatus | None:
    """Count one request of the key; None when the limit is switched off (0)."""
    if limit_per_hour == 0:
        return None
    start = window_start(now)
    count = store.count_request(session, key_id, start)
    if count == 1:
        # The first request of a window is the moment to drop the key's earlier windows.
        store.forget_windows_before(session, key_id, start)
    return RateLimitStatus(limit_per_hour, count, start + WINDOW)


def enforce(status: RateLimitStatus | None) -> None:
    if status is not None and status.exceeded:
        raise RateLimited(RATE_LIMITED_MESSAGE, status.headers())
