from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from app.api_keys import service
from app.api_keys.errors import ApiKeyNotFound
from app.api_keys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from app.kit.auth import AdminKey
from app.kit.errors import error_responses
from app.kit.idempotency import IDEMPOTENCY_ERRORS, IdempotencyKey
from app.kit.pagination import InvalidCursor, Page, PageQuery
from app.kit.runtime import get_runtime
from app.kit.uow import Session, UnitOfWorkRoute

router = APIRouter(prefix="/api-keys", tags=["api-keys"], route_class=UnitOfWorkRoute)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key",
    description="Creates a key with the given scopes. The whole key is in this response only; "
    "store it at once. A retry with the same Idempotency-Key returns the key's details with "
    "`key: null`: the secret is never stored. Scope `admin`.",
    responses=error_responses(*IDEMPOTENCY_ERRORS),
)
async def create_api_key(
    body: ApiKeyCreate, request: Request, _admin: AdminKey, claim: IdempotencyKey, session: Session
) -> ApiKeyCreated:
    api_key, whole_key = await service.create_api_key(
        session, get_runtime(request).secret_key, body.name, body.scopes
    )
    created = ApiKeyRead.model_validate(api_key)
    claim.replay_without_secret(ApiKeyCreated(**created.model_dump(), key=None))
    return ApiKeyCreated(**created.model_dump(), key=whole_key)


@router.get(
    "",
    summary="List API keys",
    description="Newest first. Scope `admin`.",
    responses=error_responses(InvalidCursor),
)
async def list_api_keys(_admin: AdminKey, page: PageQuery, session: Session) -> Page[ApiKeyRead]:
    keys, next_cursor = await service.list_api_keys(session, page)
    return Page[ApiKeyRead](
        items=[ApiKeyRead.model_validate(key) for key in keys], next_cursor=next_cursor
    )


@router.delete(
    "/{api_key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an API key",
    description="Takes effect at once; revoking twice is harmless. Accepts the id or the key id. "
    "Scope `admin`.",
    responses=error_responses(ApiKeyNotFound),
)
async def revoke_api_key(
    api_key_id: Annotated[str, Path(max_length=64)], _admin: AdminKey, session: Session
) -> Response:
    await service.revoke_api_key(session, api_key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
