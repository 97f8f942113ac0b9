from fastapi import APIRouter

from app.kit.auth import AdminKey
from app.kit.uow import Session, UnitOfWorkRoute
from app.program import service
from app.program.schemas import ProgramSettings, ProgramUpdate

router = APIRouter(prefix="/program", tags=["program"], route_class=UnitOfWorkRoute)


@router.get("", summary="Get the programme settings", description="Scope `admin`.")
async def get_program(_admin: AdminKey, session: Session) -> ProgramSettings:
    return await service.get_program(session)


@router.put(
    "",
    summary="Change the programme settings",
    description="Fields given replace the current value; fields left out keep it. Changes apply "
    "to purchases from now on. Scope `admin`.",
)
async def update_program(
    body: ProgramUpdate, _admin: AdminKey, session: Session
) -> ProgramSettings:
    return await service.update_program(session, body)
