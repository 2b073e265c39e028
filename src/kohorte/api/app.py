"""The FastAPI application: routers of each area, the one error handler, middleware."""

import gc

from fastapi import FastAPI
from sqlalchemy import Engine

from kohorte import __version__
from kohorte.api import auth_throttle, docs, maintenance, ops
from kohorte.api.admin import controls as admin_controls
from kohorte.api.admin import faults as admin_faults
from kohorte.api.admin import journal as admin_journal
from kohorte.api.admin import router as admin_router
from kohorte.api.body_limit import BodyLimitMiddleware
from kohorte.api.errors import install_error_handlers
from kohorte.api.journal import PartnerControlsMiddleware
from kohorte.api.metrics import install_metrics
from kohorte.api.openapi import install_openapi
from kohorte.api.partner import router as partner_router
from kohorte.api.request_bodies import RequestBodyMiddleware
from kohorte.api.request_ids import install_request_ids
from kohorte.api.workspace import (
    cohorts,
    integrations,
    segment_exports,
    segments,
    usage,
    user_identities,
    users,
)
from kohorte.api.workspace import journal as workspace_journal
from kohorte.settings import Settings, get_settings
from kohorte.store.database import create_store_engine, make_session_factory

DESCRIPTION = """
kohorte receives partner cohort imports in the wire format of Braze's partner cohort import
API, matches every identifier to a user that already exists, keeps cohort membership per
workspace and answers segment queries.
"""

# Streaming NDJSON imports are the one body allowed past the 4 MB limit.
BODY_LIMIT_EXEMPT_PATHS = frozenset({"/users/import"})


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or create_store_engine(settings.database_url)
    app = FastAPI(
        title="kohorte",
        version=__version__,
        description=DESCRIPTION,
        redirect_slashes=False,
        lifespan=maintenance.lifespan,
        # /docs is served by api/docs.py from packaged assets, so it works offline; ReDoc
        # would load from a CDN, so it is off.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    install_error_handlers(app)
    for router in (
        partner_router.router,
        admin_router.router,
        integrations.router,
        users.router,
        user_identities.router,
        segment_exports.router,
        segment_exports.downloads,
        cohorts.router,
        segments.router,
        usage.router,
        ops.router,
        docs.router,
    ):
        app.include_router(router)
    app.mount(docs.ASSETS_PATH, docs.assets(), name="docs-assets")
    install_openapi(app, BODY_LIMIT_EXEMPT_PATHS)
    if settings.control_api:  # off: these paths are unknown (404) and partner requests plain
        controls = (admin_controls, admin_journal, admin_faults, workspace_journal)
        for router in (control.router for control in controls):
            app.include_router(router)
    app.add_middleware(BodyLimitMiddleware, exempt_paths=BODY_LIMIT_EXEMPT_PATHS)
    if settings.control_api:  # outside the body limit, so that 413s are journaled
        app.add_middleware(
            PartnerControlsMiddleware,
            engine=engine,
            max_entries=settings.journal_max_entries,
        )
    # Around whatever reads a body: stalls are cut off, clients that went away dropped.
    app.add_middleware(RequestBodyMiddleware, body_timeout=settings.body_timeout)
    auth_throttle.install_auth_throttle(app, settings.auth_failures_per_minute)
    # Outside the body readers and the throttle, so that 413, 408 and 429 are counted too.
    install_metrics(app)
    install_request_ids(app)  # outside the metrics: the id is set before anything logs
    return app


def tune_garbage_collector() -> None:
    """For a served process, not for tests. A process holds many long-lived objects (modules,
    compiled statements, pools) and a request or export batch allocates thousands of
    short-lived ones: freezing what startup made and a larger first generation keep the
    collector from scanning the long-lived ones again and again (docs/performance.md,
    "Segment export": 71 s to 60 s for 1,000,000 users)."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
