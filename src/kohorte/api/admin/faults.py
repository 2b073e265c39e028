"""Faults on demand, so that partner clients can test their retry paths and timeouts."""

from fastapi import APIRouter, Response, status

from kohorte.api.admin.emulator_schemas import FaultCreate, FaultList, FaultOut
from kohorte.api.deps import AdminDep, SessionDep
from kohorte.api.responses import ERROR_RESPONSES
from kohorte.domain import faults

router = APIRouter(prefix="/admin", tags=["emulator controls"], responses=ERROR_RESPONSES)
NO_CONTENT = status.HTTP_204_NO_CONTENT


@router.post("/faults", status_code=201, response_model=FaultOut)
def create_fault(body: FaultCreate, session: SessionDep, _: AdminDep) -> FaultOut:
    spec = faults.FaultSpec(
        body.partner, body.cohort_id, body.status, body.count, body.delay_ms or 0
    )
    return FaultOut.model_validate(faults.create(session, spec), from_attributes=True)


@router.get("/faults", response_model=FaultList, summary="Faults in the order they apply")
def list_faults(session: SessionDep, _: AdminDep) -> FaultList:
    found = faults.list_faults(session)
    return FaultList(faults=[FaultOut.model_validate(f, from_attributes=True) for f in found])


@router.delete("/faults", status_code=NO_CONTENT, response_class=Response)
def clear_faults(session: SessionDep, _: AdminDep) -> Response:
    faults.clear(session)
    return Response(status_code=NO_CONTENT)


@router.delete("/faults/{fault_id}", status_code=NO_CONTENT, response_class=Response)
def delete_fault(fault_id: int, session: SessionDep, _: AdminDep) -> Response:
    faults.delete(session, fault_id)
    return Response(status_code=NO_CONTENT)
