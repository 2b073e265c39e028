"""What applying a seed file asks of the store beyond the ordinary services: whether a fixed
key value is registered already (and for what), and which users of a file exist already.

The seed file is applied by ``kohorte.seed``, which calls the services the API uses; these
helpers make its "create what is missing, leave what exists" decisions.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from kohorte.domain.keys import digest_key
from kohorte.domain.users.import_lines import ImportLine
from kohorte.store import identities
from kohorte.store import seeding as store


@dataclass(frozen=True)
class KeyHolder:
    """What a key value is registered for: a partner key ("partner", "", partner), a REST API
    key ("rest", workspace, "") or a data import key ("data_import", workspace, partner)."""

    kind: str
    workspace_id: str
    partner_name: str


def key_holder(session: Session, plaintext: str) -> KeyHolder | None:
    holders = store.key_holders(session, digest_key(plaintext))
    return KeyHolder(*holders[0]) if holders else None


def known_lines(session: Session, workspace_id: str, lines: Iterable[ImportLine]) -> set[int]:
    """The numbers of the lines naming a user that exists: by external id, alias or device.
    Three statements for the whole file."""
    checked = list(lines)
    external = identities.users_by_external_id(
        session, workspace_id, {line.external_id for line in checked if line.external_id}
    )
    aliases = identities.users_by_alias(
        session, workspace_id, {alias.key for line in checked for alias in line.aliases}
    )
    devices = identities.device_owners(
        session, workspace_id, {device for line in checked for device in line.device_ids}
    )
    return {line.number for line in checked if _is_known(line, external, aliases, devices)}


def _is_known(
    line: ImportLine,
    external: dict[str, int],
    aliases: dict[tuple[str, str], int],
    devices: dict[str, int],
) -> bool:
    return (
        (line.external_id is not None and line.external_id in external)
        or any(alias.key in aliases for alias in line.aliases)
        or any(device in devices for device in line.device_ids)
    )
