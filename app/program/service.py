from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.config_cache import cached, forget_version
from app.program.models import PROGRAM_ID, Program
from app.program.schemas import ProgramSettings, ProgramUpdate


async def get_program(session: AsyncSession) -> ProgramSettings:
    return await cached(session, "program", _load_program)


async def _load_program(session: AsyncSession) -> ProgramSettings:
    program = await session.scalar(select(Program).where(Program.id == PROGRAM_ID))
    if program is None:
        return ProgramSettings()
    return ProgramSettings.model_validate(program.settings)


async def update_program(session: AsyncSession, update: ProgramUpdate) -> ProgramSettings:
    program = await session.get(Program, PROGRAM_ID, with_for_update=True)
    current = (
        ProgramSettings() if program is None else ProgramSettings.model_validate(program.settings)
    )
    try:
        merged = ProgramSettings.model_validate(
            {**current.model_dump(), **update.model_dump(exclude_unset=True, exclude_none=True)}
        )
    except ValidationError as error:
        # A change valid field by field can still break a rule across fields.
        raise RequestValidationError(error.errors()) from error
    document = merged.model_dump(mode="json")
    if program is None:
        session.add(Program(id=PROGRAM_ID, settings=document))
    else:
        program.settings = document
    await session.flush()
    forget_version(session)
    return merged
