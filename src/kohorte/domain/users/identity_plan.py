"""Working out, in memory and in request order, what identifying devices and aliases does.

The plan starts from what the store knows about the request's devices, aliases and external
ids, replays every entry in order (so an entry sees the effect of the ones before it), and ends
with the few set-based writes to make: users to create, anonymous users that get an external
id, merges, and device owners. Users created by the request are placeholders of
``new_users.NewUsers`` until they exist.
"""

from dataclasses import dataclass, field

from kohorte.domain.users.new_users import NewUsers, is_placeholder
from kohorte.store.identities import AliasKey

UNKNOWN_DEVICE = "No user found for device_id"
UNKNOWN_ALIAS = "No user found for user_alias"
OWNED_BY_OTHER = "Already belongs to a user with another external_id"


@dataclass
class IdentityPlan:
    device_owner: dict[str, int]
    alias_owner: dict[AliasKey, int]
    user_by_external_id: dict[str, int]
    external_id_of: dict[int, str | None]
    new_users: NewUsers = field(default_factory=NewUsers)
    identified: dict[int, str] = field(default_factory=dict)
    merged_into: dict[int, int] = field(default_factory=dict)
    merges: list[tuple[int, int]] = field(default_factory=list)
    device_moves: dict[str, int] = field(default_factory=dict)

    def resolve(self, user: int | None) -> int | None:
        while user is not None and user in self.merged_into:
            user = self.merged_into[user]
        return user

    def see_anonymous_device(self, device_id: str) -> None:
        """A device in a session without a logged-in user: new devices get a new user."""
        if device_id not in self.device_owner:
            self._give_device(device_id, self._new_user(None))

    def log_in_on_device(self, device_id: str, external_id: str) -> None:
        """An SDK session: the device now belongs to ``external_id``, whoever held it."""
        owner = self.resolve(self.device_owner.get(device_id))
        if owner is not None and self.external_id_of[owner] is None:
            self.identify(owner, external_id)
        elif owner is None or self.user_by_external_id.get(external_id) != owner:
            self._give_device(device_id, self._user_with(external_id))

    def identify_device(self, device_id: str, external_id: str) -> str | None:
        """``devices_to_identify``: only an anonymous owner is identified; else why skipped."""
        owner = self.resolve(self.device_owner.get(device_id))
        return self._identify_owner(owner, external_id, UNKNOWN_DEVICE)

    def identify_alias(self, alias: AliasKey, external_id: str) -> str | None:
        owner = self.resolve(self.alias_owner.get(alias))
        return self._identify_owner(owner, external_id, UNKNOWN_ALIAS)

    def _identify_owner(self, owner: int | None, external_id: str, unknown: str) -> str | None:
        if owner is None:
            return unknown
        if self.external_id_of[owner] is None:
            self.identify(owner, external_id)
        elif self.user_by_external_id.get(external_id) != owner:
            # Users compared, not ids: a primary and a deprecated id name the same user.
            return OWNED_BY_OTHER
        return None

    def identify(self, anonymous: int, external_id: str) -> None:
        """Give an anonymous user the external id, or merge it into the user holding it."""
        holder = self.user_by_external_id.get(external_id)
        if holder is None:
            self.external_id_of[anonymous] = external_id
            self.user_by_external_id[external_id] = anonymous
            if is_placeholder(anonymous):
                self.new_users.identify(anonymous, external_id)
            else:
                self.identified[anonymous] = external_id
            return
        self.merged_into[anonymous] = holder
        if not is_placeholder(anonymous):
            self.merges.append((anonymous, holder))

    def _user_with(self, external_id: str) -> int:
        holder = self.user_by_external_id.get(external_id)
        if holder is None:
            holder = self._new_user(external_id)
            self.user_by_external_id[external_id] = holder
        return holder

    def _new_user(self, external_id: str | None) -> int:
        placeholder = self.new_users.new(external_id)
        self.external_id_of[placeholder] = external_id
        return placeholder

    def _give_device(self, device_id: str, user: int) -> None:
        self.device_owner[device_id] = user
        self.device_moves[device_id] = user

    def users_to_create(self) -> list[int]:
        """Placeholders still standing (not merged away)."""
        return [user for user in self.new_users.external_id_of if user not in self.merged_into]
