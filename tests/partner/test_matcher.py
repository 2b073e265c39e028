"""The matcher: every matching rule, against users seeded straight into the store."""

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from kohorte.domain.cohort_import import matcher
from kohorte.domain.cohort_import.requests import Change, IdKind
from kohorte.store.models import User
from tests.support.seeds import seed_user, seed_users_bulk, seed_workspace

Identifier = tuple[IdKind, Any]


def external(value: str) -> Identifier:
    return (IdKind.EXTERNAL_ID, value)


def device(value: str) -> Identifier:
    return (IdKind.DEVICE_ID, value)


def alias_identifier(label: str, name: str) -> Identifier:
    return (IdKind.ALIAS, (label, name))


def resolve(session: Session, workspace: str, identifiers: list[Identifier]) -> dict[Any, int]:
    """The matcher on one change holding these identifiers, its answer keyed like the input."""
    change = Change(
        False, *([value for kind, value in identifiers if kind is wanted] for wanted in IdKind)
    )
    found = matcher.resolve(session, workspace, [change])
    return {
        **{external(value): user for value, user in found.external_ids.items()},
        **{device(value): user for value, user in found.device_ids.items()},
        **{(IdKind.ALIAS, key): user for key, user in found.aliases.items()},
    }


def test_user_ids_match_by_external_id(session: Session) -> None:
    workspace = seed_workspace(session)
    alice = seed_user(session, workspace, external_id="alice")
    assert resolve(session, workspace, [external("alice"), external("bob")]) == {
        external("alice"): alice
    }


def test_aliases_match_by_label_and_name(session: Session) -> None:
    workspace = seed_workspace(session)
    user = seed_user(session, workspace, aliases=[("amplitude_id", "a-1")])
    found = resolve(
        session,
        workspace,
        [
            alias_identifier("amplitude_id", "a-1"),
            alias_identifier("amplitude_id", "a-2"),
            alias_identifier("other", "a-1"),
        ],
    )
    assert found == {alias_identifier("amplitude_id", "a-1"): user}


def test_aliases_match_identified_users_too(session: Session) -> None:
    workspace = seed_workspace(session)
    user = seed_user(session, workspace, external_id="carol", aliases=[("crm", "c-9")])
    assert resolve(session, workspace, [alias_identifier("crm", "c-9")]) == {
        alias_identifier("crm", "c-9"): user
    }


def test_device_ids_match_anonymous_owners(session: Session) -> None:
    workspace = seed_workspace(session)
    anonymous = seed_user(session, workspace, devices=["phone-1", "tablet-1"])
    found = resolve(session, workspace, [device("phone-1"), device("tablet-1"), device("nope")])
    assert found == {device("phone-1"): anonymous, device("tablet-1"): anonymous}


def test_device_of_an_identified_user_is_unmatched(session: Session) -> None:
    workspace = seed_workspace(session)
    seed_user(session, workspace, external_id="dave", devices=["phone-2"])
    assert resolve(session, workspace, [device("phone-2")]) == {}


def test_user_identified_later_is_no_longer_matched_by_device(session: Session) -> None:
    workspace = seed_workspace(session)
    user = seed_user(session, workspace, devices=["phone-3"])
    assert resolve(session, workspace, [device("phone-3")]) == {device("phone-3"): user}
    session.execute(update(User).where(User.id == user).values(external_id="erin"))
    assert resolve(session, workspace, [device("phone-3")]) == {}
    assert resolve(session, workspace, [external("erin")]) == {external("erin"): user}


def test_other_workspaces_users_are_never_matched(session: Session) -> None:
    ours, theirs = seed_workspace(session, "ours"), seed_workspace(session, "theirs")
    seed_user(session, theirs, external_id="frank", aliases=[("l", "n")], devices=["d"])
    mine = seed_user(session, ours, external_id="same")
    seed_user(session, theirs, external_id="same")
    found = resolve(
        session,
        ours,
        [external("frank"), alias_identifier("l", "n"), device("d"), external("same")],
    )
    assert found == {external("same"): mine}


def test_kinds_do_not_cross(session: Session) -> None:
    workspace = seed_workspace(session)
    seed_user(session, workspace, external_id="x", aliases=[("x", "x")])
    seed_user(session, workspace, devices=["y"])
    found = resolve(session, workspace, [device("x"), external("y"), alias_identifier("y", "y")])
    assert found == {}


def test_duplicates_in_a_batch_resolve_once_to_the_same_user(session: Session) -> None:
    workspace = seed_workspace(session)
    user = seed_user(session, workspace, external_id="gina", aliases=[("l", "gina")])
    found = resolve(
        session,
        workspace,
        [
            external("gina"),
            external("gina"),
            alias_identifier("l", "gina"),
            alias_identifier("l", "gina"),
        ],
    )
    assert found == {external("gina"): user, alias_identifier("l", "gina"): user}


def test_unstorable_and_overlong_identifiers_match_nobody(session: Session) -> None:
    workspace = seed_workspace(session)
    seed_user(session, workspace, external_id="a" * 997)
    odd = [
        external("nul\x00"),
        external("\ud800"),
        external(""),
        external("a" * 998),
        device("\udfff"),
        alias_identifier("\x00", "n"),
        alias_identifier("l", "é" * 499),
    ]
    assert resolve(session, workspace, [*odd, external("a" * 997)]) == {
        external("a" * 997): session.query(User.id).scalar()
    }


def test_a_full_batch_resolves(session: Session) -> None:
    workspace = seed_workspace(session)
    ids = seed_users_bulk(session, workspace, [f"user-{n}" for n in range(1000)])
    found = resolve(session, workspace, [external(f"user-{n}") for n in range(1000)])
    assert found == {external(f"user-{n}"): ids[n] for n in range(1000)}


def test_never_creates_users(session: Session) -> None:
    workspace = seed_workspace(session)
    resolve(session, workspace, [external("new"), device("new"), alias_identifier("new", "new")])
    assert session.query(User).count() == 0
