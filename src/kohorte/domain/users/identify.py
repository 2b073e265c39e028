"""``/users/identify`` and ``/users/devices``: anonymous users become identified or merge.

Both load what the store knows about the request in a few statements, replay the entries in
order on an :class:`IdentityPlan`, and write the outcome set-based.
"""

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain.users import fields
from kohorte.domain.users.fields import Skipped
from kohorte.domain.users.identify_requests import DevicesRequest, IdentifyRequest
from kohorte.domain.users.identity_plan import IdentityPlan
from kohorte.domain.users.merge import merge_users
from kohorte.store import identities, memberships
from kohorte.store import users as store
from kohorte.store.identities import AliasKey

MAX_IDENTIFY_ENTRIES = 50
MAX_DEVICES = 1000
ALIASES = "aliases_to_identify"
DEVICES = "devices_to_identify"


@dataclass(frozen=True)
class IdentifyResult:
    aliases_processed: int
    devices_processed: int
    skipped: list[Skipped]


def identify(session: Session, workspace_id: str, request: IdentifyRequest) -> IdentifyResult:
    aliases, devices = request.aliases_to_identify, request.devices_to_identify
    fields.check_limit(
        [*aliases, *devices], MAX_IDENTIFY_ENTRIES, "aliases and devices to identify"
    )
    alias_entries = [(entry.user_alias.alias(), entry.external_id) for entry in aliases]
    device_entries = [(entry.device_id, entry.external_id) for entry in devices]
    plan = load_plan(
        session,
        workspace_id,
        device_ids=[device for device, _ in device_entries],
        aliases=[alias.key for alias, _ in alias_entries],
        external_ids=[ext for _, ext in [*alias_entries, *device_entries]],
    )
    skipped_aliases = [
        Skipped(ALIASES, index, reason)
        for index, (alias, ext) in enumerate(alias_entries)
        if (reason := plan.identify_alias(alias.key, ext)) is not None
    ]
    skipped_devices = [
        Skipped(DEVICES, index, reason)
        for index, (device, ext) in enumerate(device_entries)
        if (reason := plan.identify_device(device, ext)) is not None
    ]
    apply_plan(session, workspace_id, plan)
    return IdentifyResult(
        len(alias_entries) - len(skipped_aliases),
        len(device_entries) - len(skipped_devices),
        skipped_aliases + skipped_devices,
    )


def register_devices(session: Session, workspace_id: str, request: DevicesRequest) -> int:
    """Devices seen in SDK sessions, logged in (with external_id) or not; returns the count."""
    fields.check_limit(request.devices, MAX_DEVICES, "devices")
    entries = [(entry.device_id, entry.external_id) for entry in request.devices]
    plan = load_plan(
        session,
        workspace_id,
        device_ids=[device for device, _ in entries],
        aliases=[],
        external_ids=[ext for _, ext in entries if ext is not None],
    )
    for device, ext in entries:
        if ext is None:
            plan.see_anonymous_device(device)
        else:
            plan.log_in_on_device(device, ext)
    apply_plan(session, workspace_id, plan)
    return len(entries)


def load_plan(
    session: Session,
    workspace_id: str,
    device_ids: Collection[str],
    aliases: Collection[AliasKey],
    external_ids: Collection[str],
) -> IdentityPlan:
    device_owner = identities.device_owners(session, workspace_id, device_ids)
    alias_owner = identities.users_by_alias(session, workspace_id, aliases)
    by_external_id = identities.users_by_external_id(session, workspace_id, external_ids)
    owners = {*device_owner.values(), *alias_owner.values()}
    external_id_of = store.external_ids_of(session, owners)
    external_id_of.update({user: ext for ext, user in by_external_id.items()})
    return IdentityPlan(device_owner, alias_owner, by_external_id, external_id_of)


def apply_plan(session: Session, workspace_id: str, plan: IdentityPlan) -> None:
    if plan.merges:
        # Before any other write: merges remove users, which partner syncs must not race.
        memberships.hold_workspace(session, workspace_id)
    created = plan.new_users.create(session, workspace_id, keep=plan.users_to_create())

    def real(user: int) -> int:
        resolved = plan.resolve(user)
        assert resolved is not None
        return created.get(resolved, resolved)

    store.set_external_ids(session, plan.identified)
    merge_users(session, [(source, real(target)) for source, target in plan.merges])
    store.assign_devices(
        session, workspace_id, {device: real(user) for device, user in plan.device_moves.items()}
    )
