"""The unit of work of a request: one session, committed before the response is sent.

Routers use ``APIRouter(route_class=UnitOfWorkRoute)`` and take ``Session`` as a
dependency. The route wraps the endpoint: it commits after the endpoint returned (so a
failed commit becomes an error response, never a 2xx that was not saved), rolls back on any
exception, and settles the request's idempotency claim in the same transaction as the work.
"""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit import idempotency
from app.kit.errors import StammkundeError
from app.kit.request_checks import (
    query_parameter_names,
    refuse_nul_characters,
    refuse_unknown_query_parameters,
)
from app.kit.runtime import get_runtime


# A coroutine: FastAPI would run a plain function in its thread pool, a thread hop a request.
async def get_session(request: Request) -> AsyncSession:
    session: AsyncSession = request.state.session
    return session


Session = Annotated[AsyncSession, Depends(get_session)]


class UnitOfWorkRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        known_query_parameters = query_parameter_names(self.dependant)

        async def handle_in_unit_of_work(request: Request) -> Response:
            refuse_unknown_query_parameters(request, known_query_parameters)
            await refuse_nul_characters(request)
            async with get_runtime(request).sessionmaker() as session:
                request.state.session = session
                return await _run(handler, request, session)

        return handle_in_unit_of_work


async def _run(
    handler: Callable[[Request], Coroutine[Any, Any, Response]],
    request: Request,
    session: AsyncSession,
) -> Response:
    try:
        response = await handler(request)
        claim = idempotency.claim_of(request)
        if claim is not None:
            await idempotency.record_response(session, claim, response)
        await session.commit()
        return response
    except idempotency.Replay as replay:
        await session.rollback()
        return replay.response
    except StammkundeError as error:
        # A business refusal: nothing of the work stays, but the answer is kept for replays.
        await session.rollback()
        response = error.to_response()
        claim = idempotency.claim_of(request)
        if claim is not None:
            await idempotency.record_response(session, claim, response)
            await session.commit()
        return response
    except BaseException:
        await session.rollback()
        claim = idempotency.claim_of(request)
        if claim is not None:
            # Invalid input or a crash: free the key so that a corrected retry can use it.
            await idempotency.release(session, claim)
            await session.commit()
        raise
