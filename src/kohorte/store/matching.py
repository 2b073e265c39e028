"""The cohort matcher's lookups, under the names it uses; they live in ``store/identities.py``."""

from kohorte.store.identities import AliasKey as AliasKey
from kohorte.store.identities import anonymous_device_owners as anonymous_users_by_device_id
from kohorte.store.identities import users_by_alias as users_by_alias
from kohorte.store.identities import users_by_external_id as users_by_external_id

__all__ = ["AliasKey", "anonymous_users_by_device_id", "users_by_alias", "users_by_external_id"]
