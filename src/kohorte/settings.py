"""Settings read from the environment (``KOHORTE_*``)."""

import tempfile
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "admin", "password", "token"})
MIN_ADMIN_TOKEN_LENGTH = 16
MIN_ADMIN_TOKEN_DISTINCT_CHARACTERS = 16


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KOHORTE_", extra="ignore")

    database_url: str = "sqlite:///./kohorte.db"
    admin_token: SecretStr | None = None
    public_url: str | None = None
    partner_rate_limit_per_hour: int = Field(default=250_000, ge=0)
    # Failed credential checks one client address may make in a minute before its requests
    # with credentials get 429 until the minute ends; 0: no throttle.
    auth_failures_per_minute: int = Field(default=120, ge=0)
    log_level: str = "INFO"
    # text or json; checked where logging is configured, as the level is, so that a wrong
    # value stops `kohorte serve` with one line naming the allowed ones.
    log_format: str = "text"
    # How often each worker folds pending cohort counter deltas; 0: never (reads stay exact).
    counter_fold_seconds: float = Field(default=5.0, ge=0)
    # How many days of membership history to keep; unset: everything. Older events are pruned
    # once a day by the server and by `kohorte history prune`. At most 100 years: a longer
    # window runs off the calendar.
    history_days: int | None = Field(default=None, gt=0, le=36_500)
    # A seed file (YAML or JSON) applied at start and by POST /admin/reset.
    seed_file: Path | None = None
    # The emulator's control routes: resets, the journal and faults; false answers them 404.
    control_api: bool = True
    # Partner requests kept in the journal, the oldest going first; 0: no journal.
    journal_max_entries: int = Field(default=10_000, ge=0)
    # Distinct unmatched identifiers kept per cohort, the least recently seen going first;
    # 0: none kept.
    unmatched_per_cohort: int = Field(default=10_000, ge=0)
    # Seconds a client may stall in the middle of a request body before it is cut off (408).
    body_timeout: float = Field(default=30.0, gt=0)
    # Where /users/export/segment writes its files; unset: a folder `kohorte-exports` beside
    # the SQLite store, or in the system temp dir with PostgreSQL. Workers and instances that
    # serve the same store must share it (the download may reach any of them).
    export_dir: Path | None = None
    # Hosts a segment export may call back, comma-separated (exact host names, no ports).
    export_callback_hosts: str = "localhost,127.0.0.1"
    # How long finished export files (and their records) are kept: seconds or ISO 8601 (P1D).
    export_retention: timedelta = Field(default=timedelta(days=1), ge=timedelta(0))
    # A running export whose worker has not written a heartbeat for this long is taken for
    # dead: it no longer blocks a new export of its segment, and its link never completes.
    export_stale_after: timedelta = Field(default=timedelta(minutes=2), gt=timedelta(0))

    @property
    def export_callback_host_set(self) -> frozenset[str]:
        hosts = (host.strip().lower() for host in self.export_callback_hosts.split(","))
        return frozenset(host for host in hosts if host)

    def export_directory(self) -> Path:
        if self.export_dir is not None:
            return self.export_dir
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database:
            return Path(url.database).resolve().parent / "kohorte-exports"
        return Path(tempfile.gettempdir()) / "kohorte-exports"

    @field_validator("admin_token")
    @classmethod
    def refuse_placeholder_token(cls, token: SecretStr | None) -> SecretStr | None:
        # An operator-chosen token that is a placeholder or short is refused at start-up,
        # so no instance ever runs behind a guessable admin secret.
        if token is None or token.get_secret_value() == "":
            return None
        value = token.get_secret_value()
        if value.lower() in PLACEHOLDER_SECRETS or len(value) < MIN_ADMIN_TOKEN_LENGTH:
            raise ValueError(
                f"KOHORTE_ADMIN_TOKEN must be at least {MIN_ADMIN_TOKEN_LENGTH} characters "
                "and not a placeholder; unset it to have kohorte generate one"
            )
        if is_low_entropy(value):
            raise ValueError(
                "KOHORTE_ADMIN_TOKEN is too easy to guess: it needs at least "
                f"{MIN_ADMIN_TOKEN_DISTINCT_CHARACTERS} distinct characters and must not be "
                "one word repeated (`openssl rand -hex 32` makes one); unset it to have kohorte "
                "generate one"
            )
        return token

    @field_validator("public_url")
    @classmethod
    def strip_trailing_slash(cls, url: str | None) -> str | None:
        return url.rstrip("/") if url else None


def is_low_entropy(token: str) -> bool:
    """Long enough is not enough: 'passwordpassword' or sixteen 'a's pass a length check."""
    return len(set(token)) < MIN_ADMIN_TOKEN_DISTINCT_CHARACTERS or is_repeated_unit(token)


def is_repeated_unit(token: str) -> bool:
    # Units of up to half the token, so at least two whole repeats; a trailing partial unit
    # ('abcabcab') counts as repeated too.
    return any(_repeats_with_tail(token, size) for size in range(1, len(token) // 2 + 1))


def _repeats_with_tail(token: str, size: int) -> bool:
    unit = token[:size]
    return (unit * (len(token) // size + 1)).startswith(token)


@lru_cache
def get_settings() -> Settings:
    return Settings()
