"""Permissions a workspace REST API key may be limited to (no list means all)."""

from enum import StrEnum


class Permission(StrEnum):
    USERS_TRACK = "users.track"
    USERS_IDENTIFY = "users.identify"
    USERS_ALIAS_NEW = "users.alias.new"
    USERS_DELETE = "users.delete"
    USERS_EXPORT_IDS = "users.export.ids"
    USERS_IMPORT = "users.import"
    USERS_MERGE = "users.merge"
    USERS_EXTERNAL_IDS_RENAME = "users.external_ids.rename"
    USERS_EXTERNAL_IDS_REMOVE = "users.external_ids.remove"
    USERS_ALIAS_UPDATE = "users.alias.update"
    USERS_EXPORT_SEGMENT = "users.export.segment"
    INTEGRATIONS_MANAGE = "integrations.manage"
    COHORTS_READ = "cohorts.read"
    SEGMENTS_MANAGE = "segments.manage"
    SEGMENTS_READ = "segments.read"
    USAGE_READ = "usage.read"
    JOURNAL_READ = "journal.read"


ALL_PERMISSIONS = frozenset(Permission)
