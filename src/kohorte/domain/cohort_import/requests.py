"""The fields of partner cohort requests, checked in the order and with the messages that
partner clients of the Braze-compatible API expect."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from kohorte.domain.errors import InvalidInput
from kohorte.domain.text import is_valid_cohort_id, is_valid_name
from kohorte.store.identities import AliasKey

COHORT_ID_MESSAGE = "cohort_id must be a valid string"
COHORT_CHANGES_MESSAGE = (
    "cohort_changes must be an array of objects each with key user_ids and/or device_ids "
    "mapping to an array of strings, or an aliases object"
)
TOO_MANY_IDENTIFIERS_MESSAGE = (
    "Only 1,000 user_ids, device_ids, and aliases are allowed per request"
)
NAME_MESSAGE = "name must be a non-empty string"
CREATED_AT_MESSAGE = "created_at must be a valid time as an ISO-8601 string"

MAX_IDENTIFIERS_PER_REQUEST = 1000
# Names are shown in filter drop-downs, never indexed: the cap only keeps them sane.
MAX_COHORT_NAME_LENGTH = 1000


class IdKind(StrEnum):
    EXTERNAL_ID = "user_ids"
    DEVICE_ID = "device_ids"
    ALIAS = "aliases"


@dataclass(frozen=True, slots=True)
class Change:
    """One object of ``cohort_changes``: identifiers as sent, kept per kind as plain strings
    (a batch of 1,000 builds no object per identifier)."""

    remove: bool
    external_ids: list[str]
    device_ids: list[str]
    aliases: list[AliasKey]

    @property
    def size(self) -> int:
        return len(self.external_ids) + len(self.device_ids) + len(self.aliases)


@dataclass(frozen=True)
class CohortChanges:
    cohort_id: str
    changes: tuple[Change, ...]

    @property
    def size(self) -> int:
        """The identifiers sent, over all changes and kinds."""
        return sum(change.size for change in self.changes)


@dataclass(frozen=True)
class CohortNaming:
    cohort_id: str
    name: str
    created_at: datetime


def parse_cohort_changes(body: Mapping[str, object]) -> CohortChanges:
    cohort_id = _cohort_id(body.get("cohort_id"))
    changes = _changes(body.get("cohort_changes"))
    request = CohortChanges(cohort_id, changes)
    if request.size > MAX_IDENTIFIERS_PER_REQUEST:
        raise InvalidInput(TOO_MANY_IDENTIFIERS_MESSAGE)
    return request


def parse_cohort_naming(body: Mapping[str, object]) -> CohortNaming:
    cohort_id = _cohort_id(body.get("cohort_id"))
    name = body.get("name")
    if not isinstance(name, str) or not is_valid_name(name, MAX_COHORT_NAME_LENGTH):
        raise InvalidInput(NAME_MESSAGE)
    return CohortNaming(cohort_id, name, _created_at(body.get("created_at")))


def _cohort_id(value: object) -> str:
    if not is_valid_cohort_id(value):
        raise InvalidInput(COHORT_ID_MESSAGE)
    assert isinstance(value, str)
    return value


def _changes(value: object) -> tuple[Change, ...]:
    if not isinstance(value, list):
        raise InvalidInput(COHORT_CHANGES_MESSAGE)
    return tuple(_change(item) for item in value)


def _change(value: object) -> Change:
    if not isinstance(value, dict) or not {kind.value for kind in IdKind} & value.keys():
        raise InvalidInput(COHORT_CHANGES_MESSAGE)
    remove = value.get("should_remove", False)
    if not isinstance(remove, bool):
        raise InvalidInput(COHORT_CHANGES_MESSAGE)
    return Change(
        remove,
        _strings(value.get(IdKind.EXTERNAL_ID, [])),
        _strings(value.get(IdKind.DEVICE_ID, [])),
        _aliases(value.get(IdKind.ALIAS, [])),
    )


def _strings(values: object) -> list[str]:
    if not isinstance(values, list) or not all(type(item) is str for item in values):
        raise InvalidInput(COHORT_CHANGES_MESSAGE)
    return values


def _aliases(values: object) -> list[AliasKey]:
    if not isinstance(values, list) or not all(type(item) is dict for item in values):
        raise InvalidInput(COHORT_CHANGES_MESSAGE)
    pairs = [(item.get("alias_label"), item.get("alias_name")) for item in values]
    if not all(type(label) is str and type(name) is str for label, name in pairs):
        raise InvalidInput(COHORT_CHANGES_MESSAGE)
    return pairs


def _created_at(value: object) -> datetime:
    if not isinstance(value, str):
        raise InvalidInput(CREATED_AT_MESSAGE)
    try:
        parsed = datetime.fromisoformat(value)
        # A time without an offset is taken as UTC, the zone partners send timestamps in.
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise InvalidInput(CREATED_AT_MESSAGE) from error
