"""Usage of a workspace: data points per day and partner."""

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from kohorte.api.deps import SessionDep, permitted
from kohorte.api.query_params import FirstDay, LastDay
from kohorte.api.responses import ERROR_RESPONSES
from kohorte.domain import usage
from kohorte.domain.access import WorkspaceAccess
from kohorte.domain.permissions import Permission

router = APIRouter(tags=["usage"], responses=ERROR_RESPONSES)
Access = Annotated[WorkspaceAccess, Depends(permitted(Permission.USAGE_READ))]


class DataPointOut(BaseModel):
    date: date
    partner: str
    count: int


class UsageOut(BaseModel):
    data_points: list[DataPointOut]


@router.get("/usage", response_model=UsageOut)
def get_usage(
    session: SessionDep,
    access: Access,
    first: FirstDay = None,
    last: LastDay = None,
) -> UsageOut:
    points = usage.data_points(session, access.workspace_id, first, last)
    return UsageOut(
        data_points=[
            DataPointOut(date=point.day, partner=point.partner, count=point.count)
            for point in points
        ]
    )
