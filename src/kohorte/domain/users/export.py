"""``/users/export/ids``: users by identifier, with aliases, devices, cohorts and attributes."""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from kohorte.domain.errors import InvalidInput
from kohorte.domain.users import fields
from kohorte.domain.users.fields import Alias
from kohorte.store import identities
from kohorte.store import users as store
from kohorte.store.user_views import user_views

MAX_IDENTIFIERS = 50


@dataclass(frozen=True)
class ExportRequest:
    external_ids: list[object] | None = None
    user_aliases: list[object] | None = None
    device_id: str | None = None
    braze_id: str | None = None


@dataclass(frozen=True)
class ExportResult:
    users: list[dict[str, Any]]
    invalid_user_ids: list[str | dict[str, str]]


def export_users(session: Session, workspace_id: str, request: ExportRequest) -> ExportResult:
    """Users in the order their identifiers were given (each once); identifiers that match
    nobody are listed as invalid."""
    external_ids, aliases, device_id, braze_id = _parse(request)
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
    return ExportResult(exported_users(session, user_ids), invalid)


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
    """Users as exports show them, in the order given, with only the ``wanted`` fields
    (all when None). Shared by ``/users/export/ids`` and segment exports."""
    users = _exported(session, user_ids)
    if wanted is None:
        return users
    return [{name: user[name] for name in wanted} for user in users]


def _exported(session: Session, user_ids: list[int]) -> list[dict[str, Any]]:
    cohorts = store.cohorts_of(session, user_ids)
    attributes = store.custom_attributes_of(session, user_ids, for_update=False)
    return [
        {
            **view,
            "cohorts": [
                {"partner": partner, "cohort_id": cohort_id, "name": name}
                for partner, cohort_id, name in cohorts.get(user_id, [])
            ],
            "custom_attributes": attributes.get(user_id, {}),
        }
        for user_id, view in zip(user_ids, user_views(session, user_ids), strict=True)
    ]
