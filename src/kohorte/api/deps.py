"""Typed dependencies: one session per request, committed when the endpoint returns."""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from kohorte.domain.access import WorkspaceAccess, authenticate_admin, authenticate_workspace
from kohorte.domain.permissions import Permission
from kohorte.settings import Settings


def get_settings_from_app(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session that touches the store only when used; ended in one trip to a worker thread.

    Async, so that opening it costs no thread hop (a sync dependency would take one to open
    and another to close it, on every request).
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    # Kept on the request so that a retry after contention can end this attempt's transaction
    # at once (api/contention.py).
    request.state.session = session
    try:
        yield session
    except BaseException:
        await run_in_threadpool(_end, session, commit=False)
        raise
    await run_in_threadpool(_end, session, commit=True)


def _end(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


SettingsDep = Annotated[Settings, Depends(get_settings_from_app)]
EngineDep = Annotated[Engine, Depends(get_engine)]
# scope="function": the commit happens before the response is sent, so a client never sees a
# success for a write that then fails to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

bearer_scheme = HTTPBearer(auto_error=False, description="Admin token or workspace REST API key")
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials if credentials else None


def require_admin(session: SessionDep, settings: SettingsDep, credentials: BearerDep) -> None:
    configured = settings.admin_token.get_secret_value() if settings.admin_token else None
    authenticate_admin(session, _token(credentials), configured)


def get_workspace_access(session: SessionDep, credentials: BearerDep) -> WorkspaceAccess:
    return authenticate_workspace(session, _token(credentials))


AdminDep = Annotated[None, Depends(require_admin)]
WorkspaceDep = Annotated[WorkspaceAccess, Depends(get_workspace_access)]


# Every dependency made by ``permitted``: the OpenAPI description documents a 403 for them.
PERMISSION_CHECKS: set[Callable[..., Any]] = set()


def permitted(permission: Permission) -> Callable[[WorkspaceAccess], WorkspaceAccess]:
    """A dependency giving the caller's workspace once the key is shown to hold ``permission``."""

    def check(access: WorkspaceDep) -> WorkspaceAccess:
        access.require(permission)
        return access

    PERMISSION_CHECKS.add(check)
    return check
