"""Liveness, readiness and metrics."""

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from kohorte.api.deps import EngineDep
from kohorte.store.migrate import schema_is_current

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is running")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The store answers and its schema is current",
    responses={503: {"description": "Store unreachable or schema behind"}},
)
def readyz(engine: EngineDep) -> Response:
    try:
        current = schema_is_current(engine)
    except Exception:  # any failure to reach the store means "not ready"
        return JSONResponse({"message": "Store unavailable"}, status_code=503)
    if not current:
        return JSONResponse(
            {"message": "Schema is not current; run kohorte db upgrade"}, status_code=503
        )
    return JSONResponse({"status": "ready"})
