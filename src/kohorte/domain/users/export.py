"""``/users/export/ids``: users by identifier, with aliases, devices, cohorts and attributes."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from kohorte.domain.errors import InvalidInput
from kohorte.domain.users import fields
from kohorte.domain.users.fields import Alias
from kohorte.domain.users.profile import STANDARD_FIELDS
from kohorte.store import identities, user_events, user_views
from kohorte.store import users as store
from kohorte.store.user_views import AliasView, DeviceView

MAX_IDENTIFIERS = 50
BASE_FIELDS = ("external_id", "braze_id", "user_aliases", "devices", "cohorts", "custom_attributes")
SUMMARY_KINDS = {"custom_events": user_events.EVENT, "purchases": user_events.PURCHASE}
EXPORT_FIELDS = (*BASE_FIELDS, *STANDARD_FIELDS, *SUMMARY_KINDS)


@dataclass(frozen=True)
class ExportRequest:
    external_ids: Sequence[object] | None = None
    user_aliases: Sequence[object] | None = None
    device_id: str | None = None
    braze_id: str | None = None
    fields_to_export: Sequence[object] | None = None


@dataclass(frozen=True)
class ExportResult:
    users: list[dict[str, Any]]
    invalid_user_ids: list[str | dict[str, str]]


def export_users(session: Session, workspace_id: str, request: ExportRequest) -> ExportResult:
    """Users in the order their identifiers were given (each once); identifiers that match
    nobody are listed as invalid."""
    external_ids, aliases, device_id, braze_id = _parse(request)
    wanted = export_fields(request.fields_to_export)
    found: list[tuple[str | dict[str, str], int | None]] = []
    by_external_id = identities.users_by_external_id(session, workspace_id, external_ids)
    found += [(ext, by_external_id.get(ext)) for ext in external_ids]
    by_alias = identities.users_by_alias(session, workspace_id, [alias.key for alias in aliases])
    found += [(alias.as_dict(), by_alias.get(alias.key)) for alias in aliases]
    if device_id is not None:
        found.append(
            (device_id, identities.device_owners(session, workspace_id, [device_id]).get(device_id))
        )
    if braze_id is not None:
        found.append(
            (
                braze_id,
                identities.users_by_braze_id(session, workspace_id, [braze_id]).get(braze_id),
            )
        )
    user_ids = list(dict.fromkeys(user for _, user in found if user is not None))
    invalid = [identifier for identifier, user in found if user is None]
    return ExportResult(exported_users(session, user_ids, wanted), invalid)


def export_fields(names: Sequence[object] | None) -> list[str] | None:
    """The fields asked for (None: the default view); a 400 naming an unknown one."""
    if names is None:
        return None
    if not names:
        raise InvalidInput("fields_to_export must name at least one field")
    for index, name in enumerate(names):
        if name not in EXPORT_FIELDS:
            shown = name if isinstance(name, str) else repr(name)
            raise InvalidInput(
                f"fields_to_export[{index}]: unknown field {shown!r}; the fields are "
                + ", ".join(EXPORT_FIELDS)
            )
    return [str(name) for name in names]


def _parse(request: ExportRequest) -> tuple[list[str], list[Alias], str | None, str | None]:
    external_ids = request.external_ids or []
    aliases = request.user_aliases or []
    fields.check_limit([*external_ids, *aliases], MAX_IDENTIFIERS, "external_ids and user_aliases")
    if not (
        external_ids or aliases or request.device_id is not None or request.braze_id is not None
    ):
        raise InvalidInput("Give external_ids, user_aliases, device_id or braze_id")
    return (
        [fields.identifier(value, f"external_ids[{i}]") for i, value in enumerate(external_ids)],
        [fields.alias(value, f"user_aliases[{i}]") for i, value in enumerate(aliases)],
        fields.optional_identifier(request.device_id, "device_id"),
        fields.optional_identifier(request.braze_id, "braze_id"),
    )


def exported_users(
    session: Session, user_ids: list[int], wanted: Collection[str] | None = None
) -> list[dict[str, Any]]:
    """Users as exports show them, in the order given, with exactly the ``wanted`` fields (by
    default the base fields, the standard fields set and the event summaries held). Shared by
    ``/users/export/ids`` and segment exports: a few statements per call, none for a field
    that is not wanted."""
    names = list(EXPORT_FIELDS if wanted is None else dict.fromkeys(wanted))
    parts = _Parts.load(session, user_ids, set(names))
    users = [parts.user(user_id, names) for user_id in user_ids if user_id in parts.rows]
    return users if wanted is not None else [_without_empty_extras(user) for user in users]


@dataclass(frozen=True)
class _Parts:
    rows: dict[int, dict[str, Any]]
    aliases: dict[int, list[AliasView]]
    devices: dict[int, list[DeviceView]]
    cohorts: dict[int, list[tuple[str, str, str | None]]]
    summaries: dict[tuple[int, int], list[user_events.Summary]]

    @staticmethod
    def _grouped(
        summaries: list[user_events.Summary],
    ) -> dict[tuple[int, int], list[user_events.Summary]]:
        grouped: dict[tuple[int, int], list[user_events.Summary]] = {}
        for summary in summaries:
            grouped.setdefault((summary.user_id, summary.kind), []).append(summary)
        return grouped

    @classmethod
    def load(cls, session: Session, user_ids: list[int], needed: set[str]) -> "_Parts":
        columns = needed | ({"profile"} if needed & set(STANDARD_FIELDS) else set())
        kinds = [kind for name, kind in SUMMARY_KINDS.items() if name in needed]
        return cls(
            user_views.user_columns(session, user_ids, columns),
            user_views.aliases_by_user(session, user_ids) if "user_aliases" in needed else {},
            user_views.devices_by_user(session, user_ids) if "devices" in needed else {},
            store.cohorts_of(session, user_ids) if "cohorts" in needed else {},
            cls._grouped(user_events.summaries_of(session, user_ids, kinds)),
        )

    def user(self, user_id: int, names: list[str]) -> dict[str, Any]:
        return {name: self.field(user_id, name) for name in names}

    def field(self, user_id: int, name: str) -> Any:
        row = self.rows[user_id]
        if name in ("external_id", "braze_id"):
            return row[name]
        if name == "custom_attributes":
            return dict(row[name] or {})
        if name in SUMMARY_KINDS:
            return _summaries(self.summaries.get((user_id, SUMMARY_KINDS[name]), []))
        if name in STANDARD_FIELDS:
            return (row["profile"] or {}).get(name)
        return self._listed(user_id, name)

    def _listed(self, user_id: int, name: str) -> list[Any]:
        if name == "user_aliases":
            return list(self.aliases.get(user_id, []))
        if name == "devices":
            return list(self.devices.get(user_id, []))
        return [
            {"partner": partner, "cohort_id": cohort_id, "name": cohort_name}
            for partner, cohort_id, cohort_name in self.cohorts.get(user_id, [])
        ]


def _without_empty_extras(user: dict[str, Any]) -> dict[str, Any]:
    """The default view: the base fields, and the standard fields and summaries a user has."""
    return {
        name: value
        for name, value in user.items()
        if name in BASE_FIELDS or value not in (None, [])
    }


def _summaries(rows: list[user_events.Summary]) -> list[dict[str, Any]]:
    return [
        {"name": s.name, "first": _time(s.first_at), "last": _time(s.last_at), "count": s.count}
        for s in rows
    ]


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
