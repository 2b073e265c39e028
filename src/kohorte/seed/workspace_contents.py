"""A seed workspace's users, cohorts (with members, as a partner sync adds them) and segments."""

from dataclasses import replace
from typing import TYPE_CHECKING

from kohorte.domain import cohorts, partners, seeding
from kohorte.domain.cohort_import import matcher
from kohorte.domain.cohort_import.auth import PartnerClient
from kohorte.domain.cohort_import.requests import Change, parse_cohort_changes
from kohorte.domain.cohort_import.sync import name_cohort, sync_cohort
from kohorte.domain.segments import service as segments
from kohorte.domain.users.import_batch import write_batch
from kohorte.seed.model import SeedCohort, SeedWorkspace
from kohorte.seed.reading import SeedError
from kohorte.store.types import utcnow

if TYPE_CHECKING:
    from kohorte.seed.loader import Seeder


def add_users(seeder: "Seeder", place: str, workspace: SeedWorkspace) -> None:
    """Users none of whose identifiers is known yet, written as ``/users/import`` writes a
    batch; a line naming a known user is left alone (not merged into it)."""
    lines = [replace(line, number=j) for j, line in enumerate(workspace.users)]
    known = seeding.known_lines(seeder.session, workspace.id, lines)
    new = [line for line in lines if line.number not in known]
    if not new:
        return
    with seeder.at(f"{place}.users"):
        notes = write_batch(seeder.session, workspace.id, new)
    if notes:
        number, message = notes[0]
        raise SeedError(seeder.path, f"{place}.users[{number}]", message)


def add_cohorts(seeder: "Seeder", place: str, workspace: SeedWorkspace) -> None:
    for j, cohort in enumerate(workspace.cohorts):
        where = f"{place}.cohorts[{j}]"
        with seeder.at(f"{where}.partner"):
            partners.require_partner(seeder.session, cohort.partner)
        if not cohorts.cohort_exists(
            seeder.session, workspace.id, cohort.partner, cohort.cohort_id
        ):
            _add_cohort(seeder, where, workspace.id, cohort)


def _add_cohort(seeder: "Seeder", place: str, workspace_id: str, cohort: SeedCohort) -> None:
    client = PartnerClient(workspace_id, cohort.partner, key_id="")
    bodies: list[dict[str, object]] = [
        {"cohort_id": cohort.cohort_id, "cohort_changes": [change]}
        for change in cohort.members.change_objects()
    ]
    _check_members(seeder, place, workspace_id, cohort, bodies)
    with seeder.at(place):
        if cohort.name is not None:
            naming = {"cohort_id": cohort.cohort_id, "name": cohort.name}
            name_cohort(seeder.session, client, {**naming, "created_at": utcnow().isoformat()})
        for body in bodies:
            sync_cohort(seeder.session, client, body)


def _check_members(
    seeder: "Seeder",
    place: str,
    workspace_id: str,
    cohort: SeedCohort,
    bodies: list[dict[str, object]],
) -> None:
    """Every member must match a user by the matcher's rules; cohort import creates none."""
    changes: list[Change] = [c for body in bodies for c in parse_cohort_changes(body).changes]
    found = matcher.resolve(seeder.session, workspace_id, changes)
    members = cohort.members
    missing = [
        f"user_ids[{k}]" for k, v in enumerate(members.user_ids) if v not in found.external_ids
    ]
    missing += [
        f"device_ids[{k}]" for k, v in enumerate(members.device_ids) if v not in found.device_ids
    ]
    missing += [
        f"aliases[{k}]"
        for k, alias in enumerate(members.aliases)
        if (alias.alias_label, alias.alias_name) not in found.aliases
    ]
    if missing:
        problem = "matches no user of the workspace (device ids match anonymous users only)"
        raise SeedError(seeder.path, f"{place}.members.{missing[0]}", problem)


def add_segments(seeder: "Seeder", place: str, workspace: SeedWorkspace) -> None:
    for j, segment in enumerate(workspace.segments):
        where = f"{place}.segments[{j}]"
        if segments.find_segment(seeder.session, workspace.id, segment.id, segment.name):
            continue
        with seeder.at(f"{where}.id" if segment.id else where):
            segments.check_new_id(seeder.session, segment.id)
        with seeder.at(f"{where}.name"):
            segments.check_name(segment.name)
        with seeder.at(f"{where}.filter"):
            segments.create_segment(
                seeder.session,
                workspace.id,
                segment.name,
                segment.filter,
                segment.analytics_tracking_enabled,
                segment.id,
            )
