"""Random partner requests against a model of the contract: counts and members must agree.

Users are reachable by several identifiers (an identified user by external id and alias, an
anonymous one by device id and alias), so one request can name a user twice, in one direction
or both; the model applies every identifier in array order, one at a time.
"""

import random
from dataclasses import dataclass, field
from typing import Any

from tests.support import Api, Integration

IDENTIFIED = 12
ANONYMOUS = 6


@dataclass
class Model:
    users_of: dict[tuple[str, str], str]  # (kind, identifier) -> user name
    members: set[str] = field(default_factory=set)

    def apply(self, changes: list[dict[str, Any]]) -> dict[str, int]:
        added = removed = unmatched = 0
        for change in changes:
            remove = change.get("should_remove", False)
            for key in identifiers(change):
                user = self.users_of.get(key)
                if user is None:
                    unmatched += 1
                elif remove and user in self.members:
                    self.members.discard(user)
                    removed += 1
                elif not remove and user not in self.members:
                    self.members.add(user)
                    added += 1
        return {"added": added, "removed": removed, "unmatched": unmatched}


def identifiers(change: dict[str, Any]) -> list[tuple[str, str]]:
    keys = [("user_ids", value) for value in change.get("user_ids", [])]
    keys += [("device_ids", value) for value in change.get("device_ids", [])]
    return keys + [("aliases", alias["alias_name"]) for alias in change.get("aliases", [])]


def seed(api: Api, integration: Integration) -> Model:
    workspace = integration.workspace
    names = [f"u{n}" for n in range(IDENTIFIED)]
    api.track(workspace, *names)
    api.add_aliases(
        workspace,
        [{"external_id": name, "alias_label": "amp", "alias_name": f"a-{name}"} for name in names],
    )
    devices = [{"device_id": f"d{n}"} for n in range(ANONYMOUS)]
    api.add_devices(workspace, devices)
    users_of = {("user_ids", name): name for name in names}
    users_of |= {("aliases", f"a-{name}"): name for name in names}
    users_of |= {("device_ids", f"d{n}"): f"anon{n}" for n in range(ANONYMOUS)}
    return Model(users_of)


def random_change(rng: random.Random) -> dict[str, Any]:
    def pick(pool: list[str]) -> list[str]:
        return [rng.choice(pool) for _ in range(rng.randint(0, 3))]

    external = pick([f"u{n}" for n in range(IDENTIFIED)] + ["ghost"])
    devices = pick([f"d{n}" for n in range(ANONYMOUS)] + ["d-ghost"])
    aliases = pick([f"a-u{n}" for n in range(IDENTIFIED)] + ["a-ghost"])
    change: dict[str, Any] = {"user_ids": external or ["u0"], "device_ids": devices}
    change["aliases"] = [{"alias_label": "amp", "alias_name": name} for name in aliases]
    if rng.random() < 0.45:
        change["should_remove"] = True
    return change


def test_random_requests_match_the_model(api: Api) -> None:
    integration = api.integration()
    model = seed(api, integration)
    rng = random.Random(20261202)
    for _ in range(60):
        changes = [random_change(rng) for _ in range(rng.randint(1, 3))]
        expected = {"message": "success", **model.apply(changes)}
        assert api.expect(api.sync(integration, "c1", changes), 201) == expected, changes
    listed = sorted(str(user["external_id"]) for user in api.cohort_members(integration, "c1"))
    wanted = sorted("None" if name.startswith("anon") else name for name in model.members)
    assert listed == wanted
    assert api.cohort(integration, "c1")["size"] == len(wanted)
