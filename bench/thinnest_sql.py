"""EVERY SQL statement of the thinnest write path, and of the benchmark's own membership setup.

This is the one place to edit when the membership table changes. Two variants are kept:

- ``current``: ``cohort_memberships(cohort_pk, user_id, added_at)``, primary key
  ``(cohort_pk, user_id)``; a remove deletes the row.
- ``history``: ``cohort_memberships(cohort_pk, user_id, entered_at, left_at)``, no foreign keys,
  a unique partial index on ``(cohort_pk, user_id) WHERE left_at IS NULL`` (current members) and
  an index on ``(user_id, cohort_pk)``; a remove stamps ``left_at``.

``detect_schema`` picks the variant from the table's columns (``left_at`` present: history);
``--membership-schema`` on ``bench.partner_load`` overrides it.

PostgreSQL statements use asyncpg's ``$n`` placeholders and always take the same parameters:
``$1`` cohort pk, ``$2`` workspace id, ``$3`` external ids, ``$4`` device ids, ``$5`` alias
labels, ``$6`` alias names (arrays, empty when the change object has none of that kind), so each
is one fixed text, prepared once. SQLite statements are built per call with named parameters
(``:cohort``, ``:ws``, ``:now``, then one per identifier); SQLite timestamps are naive UTC text
(``2026-12-02 03:12:29.123456``), as kohorte stores them.
"""

from collections.abc import Mapping, Sequence
from typing import Any

SCHEMAS = ("current", "history")

# ---------------------------------------------------------------- PostgreSQL (asyncpg) ----

# The users a change object names; device ids match anonymous users only, as in kohorte.
PG_MATCHED = """
    SELECT u.id AS uid FROM users AS u
     WHERE u.workspace_id = $2 AND u.external_id = ANY($3::text[])
    UNION ALL
    SELECT d.user_id FROM user_devices AS d JOIN users AS u ON u.id = d.user_id
     WHERE d.workspace_id = $2 AND d.device_id = ANY($4::text[]) AND u.external_id IS NULL
    UNION ALL
    SELECT a.user_id FROM user_aliases AS a
      JOIN unnest($5::text[], $6::text[]) AS v(label, name)
        ON a.alias_label = v.label AND a.alias_name = v.name
     WHERE a.workspace_id = $2"""

PG_SQL: Mapping[str, Mapping[str, str]] = {
    "current": {
        "add": f"""INSERT INTO cohort_memberships (cohort_pk, user_id, added_at)
            SELECT $1::bigint, matched.uid, now() FROM ({PG_MATCHED}) AS matched
            ON CONFLICT (cohort_pk, user_id) DO NOTHING""",
        "remove": f"""DELETE FROM cohort_memberships
            WHERE cohort_pk = $1::bigint AND user_id IN ({PG_MATCHED})""",
        "reset_sizes": """UPDATE cohorts SET size = (SELECT count(*) FROM cohort_memberships AS m
            WHERE m.cohort_pk = cohorts.id)""",
    },
    "history": {
        "add": f"""INSERT INTO cohort_memberships (cohort_pk, user_id, entered_at)
            SELECT $1::bigint, matched.uid, now() FROM ({PG_MATCHED}) AS matched
            ON CONFLICT (cohort_pk, user_id) WHERE left_at IS NULL DO NOTHING""",
        "remove": f"""UPDATE cohort_memberships SET left_at = now()
            WHERE cohort_pk = $1::bigint AND left_at IS NULL AND user_id IN ({PG_MATCHED})""",
        # The size a cohort shows is folded_size plus its pending deltas.
        "reset_sizes": """UPDATE cohorts SET folded_size = (SELECT count(*)
            FROM cohort_memberships AS m WHERE m.cohort_pk = cohorts.id AND m.left_at IS NULL)
            - COALESCE((SELECT sum(d.members) FROM cohort_counter_deltas AS d
            WHERE d.cohort_pk = cohorts.id), 0)""",
    },
}
PG_COHORT = "SELECT id, workspace_id FROM cohorts WHERE partner_name = $1 AND cohort_id = $2"
PG_CLEAR = "TRUNCATE cohort_memberships"
PG_COLUMNS = """SELECT column_name FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = 'cohort_memberships'"""


def pg_arguments(cohort_pk: int, workspace_id: str, change: Mapping[str, Any]) -> list[Any]:
    """$1..$6 of PG_SQL's add and remove statements for one change object."""
    aliases = change.get("aliases") or []
    return [
        cohort_pk,
        workspace_id,
        list(change.get("user_ids") or []),
        list(change.get("device_ids") or []),
        [alias["alias_label"] for alias in aliases],
        [alias["alias_name"] for alias in aliases],
    ]


# ----------------------------------------------------------------- SQLite (sqlite3) -------

SQLITE_SQL: Mapping[str, Mapping[str, str]] = {
    "current": {
        "add": """INSERT OR IGNORE INTO cohort_memberships (cohort_pk, user_id, added_at)
            SELECT :cohort, matched.uid, :now FROM ({matched}) AS matched""",
        "remove": """DELETE FROM cohort_memberships
            WHERE cohort_pk = :cohort AND user_id IN ({matched})""",
        "reset_sizes": """UPDATE cohorts SET size = (SELECT count(*) FROM cohort_memberships AS m
            WHERE m.cohort_pk = cohorts.id)""",
    },
    "history": {
        # WHERE true: SQLite needs it to tell ON CONFLICT from a join constraint after SELECT.
        "add": """INSERT INTO cohort_memberships (cohort_pk, user_id, entered_at)
            SELECT :cohort, matched.uid, :now FROM ({matched}) AS matched WHERE true
            ON CONFLICT (cohort_pk, user_id) WHERE left_at IS NULL DO NOTHING""",
        "remove": """UPDATE cohort_memberships SET left_at = :now
            WHERE cohort_pk = :cohort AND left_at IS NULL AND user_id IN ({matched})""",
        # The size a cohort shows is folded_size plus its pending deltas.
        "reset_sizes": """UPDATE cohorts SET folded_size = (SELECT count(*)
            FROM cohort_memberships AS m WHERE m.cohort_pk = cohorts.id AND m.left_at IS NULL)
            - COALESCE((SELECT sum(d.members) FROM cohort_counter_deltas AS d
            WHERE d.cohort_pk = cohorts.id), 0)""",
    },
}
SQLITE_BY_EXTERNAL_ID = (
    "SELECT id AS uid FROM users WHERE workspace_id = :ws AND external_id IN ({marks})"
)
SQLITE_BY_DEVICE_ID = """SELECT d.user_id AS uid FROM user_devices AS d
    JOIN users AS u ON u.id = d.user_id
    WHERE d.workspace_id = :ws AND d.device_id IN ({marks}) AND u.external_id IS NULL"""
# One branch per alias label, so the (workspace, label, name) index serves each lookup.
SQLITE_BY_ALIAS = """SELECT user_id AS uid FROM user_aliases
    WHERE workspace_id = :ws AND alias_label = :{label} AND alias_name IN ({marks})"""
SQLITE_COHORT = "SELECT id, workspace_id FROM cohorts WHERE partner_name = ? AND cohort_id = ?"
SQLITE_CLEAR = "DELETE FROM cohort_memberships"
SQLITE_COLUMNS = "SELECT name FROM pragma_table_info('cohort_memberships')"


def sqlite_statement(
    schema: str, action: str, cohort_pk: int, workspace_id: str, change: Mapping[str, Any], now: str
) -> tuple[str, dict[str, Any]] | None:
    """SQLITE_SQL's ``action`` ("add" or "remove") for one change object; None if it is empty."""
    parameters: dict[str, Any] = {"cohort": cohort_pk, "ws": workspace_id, "now": now}
    branches: list[str] = []

    def marks(prefix: str, values: Sequence[str]) -> str:
        names = [f"{prefix}{n}" for n in range(len(values))]
        parameters.update(zip(names, values, strict=True))
        return ",".join(f":{name}" for name in names)

    if external_ids := change.get("user_ids"):
        branches.append(SQLITE_BY_EXTERNAL_ID.format(marks=marks("e", external_ids)))
    if device_ids := change.get("device_ids"):
        branches.append(SQLITE_BY_DEVICE_ID.format(marks=marks("d", device_ids)))
    by_label: dict[str, list[str]] = {}
    for alias in change.get("aliases") or []:
        by_label.setdefault(alias["alias_label"], []).append(alias["alias_name"])
    for number, (label, names) in enumerate(by_label.items()):
        parameters[f"l{number}"] = label
        branches.append(
            SQLITE_BY_ALIAS.format(label=f"l{number}", marks=marks(f"a{number}_", names))
        )
    if not branches:
        return None
    matched = " UNION ALL ".join(branches)
    return SQLITE_SQL[schema][action].format(matched=matched), parameters


# ------------------------------------------------------------------------- both -----------


def detect_schema(columns: Sequence[str]) -> str:
    """The variant for a cohort_memberships table with these columns."""
    return "history" if "left_at" in columns else "current"
