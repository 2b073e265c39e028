"""Applying a seed file: what it names and the store lacks is created through the services the
API uses; what exists (partners by name, workspaces by id, keys by value, users by any of their
identifiers, cohorts by partner and cohort id, segments by id or else name) is left as it is.

Everything runs in the caller's one transaction, so any ``SeedError`` leaves nothing applied;
applying the same file twice changes nothing the second time.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session

from kohorte.domain import integrations, partners, seeding, workspaces
from kohorte.domain.errors import KohorteError
from kohorte.seed.model import SeedFile, SeedPartner, SeedWorkspace
from kohorte.seed.reading import SeedError, read_seed_file
from kohorte.seed.workspace_contents import add_cohorts, add_segments, add_users

__all__ = ["SeedError", "apply_seed", "apply_seed_file", "read_seed_file"]


def apply_seed_file(session: Session, path: Path) -> None:
    apply_seed(session, read_seed_file(path), path)


def apply_seed(session: Session, seed: SeedFile, path: Path) -> None:
    seeder = Seeder(session, path)
    for i, partner in enumerate(seed.partners):
        seeder.partner(f"partners[{i}]", partner)
    for i, workspace in enumerate(seed.workspaces):
        seeder.workspace(f"workspaces[{i}]", workspace)


class Seeder:
    """Applies the parts of one file; every service error becomes a SeedError at its place."""

    def __init__(self, session: Session, path: Path) -> None:
        self.session = session
        self.path = path

    @contextmanager
    def at(self, place: str) -> Iterator[None]:
        try:
            yield
        except SeedError:
            raise
        except KohorteError as error:
            raise SeedError(self.path, place, error.message) from None

    def partner(self, place: str, partner: SeedPartner) -> None:
        keys = [(f"{place}.api_keys[{j}]", key) for j, key in enumerate(partner.api_keys)]
        if partner.partner_api_key is not None:
            keys.append((f"{place}.partner_api_key", partner.partner_api_key))
        holder = seeding.KeyHolder("partner", "", partner.name)
        new_keys = [key for where, key in keys if self.is_new_key(where, key, holder)]
        if not partners.partner_exists(self.session, partner.name):
            with self.at(f"{place}.name"):
                first = new_keys.pop(0) if new_keys else None
                partners.create_partner(self.session, partner.name, partner.display_name, first)
        for key in new_keys:
            partners.issue_partner_key(self.session, partner.name, key)

    def is_new_key(self, place: str, key: str, owner: seeding.KeyHolder) -> bool:
        """True: not registered yet; False: registered for the same thing already."""
        holder = seeding.key_holder(self.session, key)
        if holder is not None and holder != owner:
            raise SeedError(self.path, place, "the key value is registered for something else")
        return holder is None

    def workspace(self, place: str, workspace: SeedWorkspace) -> None:
        if not workspaces.workspace_exists(self.session, workspace.id):
            with self.at(f"{place}.name"):
                workspaces.create_workspace(self.session, workspace.name, workspace.id)
        self.rest_keys(place, workspace)
        self.data_import_keys(place, workspace)
        add_users(self, place, workspace)
        add_cohorts(self, place, workspace)
        add_segments(self, place, workspace)  # last: their filters may name the cohorts

    def rest_keys(self, place: str, workspace: SeedWorkspace) -> None:
        owner = seeding.KeyHolder("rest", workspace.id, "")
        for j, rest in enumerate(workspace.api_keys):
            if self.is_new_key(f"{place}.api_keys[{j}].key", rest.key, owner):
                with self.at(f"{place}.api_keys[{j}]"):
                    workspaces.issue_rest_key(
                        self.session, workspace.id, rest.name, rest.permissions, rest.key
                    )

    def data_import_keys(self, place: str, workspace: SeedWorkspace) -> None:
        for j, data_import in enumerate(workspace.data_import_keys):
            owner = seeding.KeyHolder("data_import", workspace.id, data_import.partner)
            where = f"{place}.data_import_keys[{j}]"
            if self.is_new_key(f"{where}.key", data_import.key, owner):
                with self.at(f"{where}.partner"):
                    integrations.issue_data_import_key(
                        self.session, workspace.id, data_import.partner, data_import.key
                    )
