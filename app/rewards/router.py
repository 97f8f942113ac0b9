from uuid import UUID

from fastapi import APIRouter, Response, status

from app.kit.auth import AdminKey
from app.kit.errors import error_responses
from app.kit.pagination import InvalidCursor, Page, PageQuery
from app.kit.uow import Session, UnitOfWorkRoute
from app.rewards import service
from app.rewards.schemas import RewardCreate, RewardRead, RewardUpdate
from app.vouchers.errors import RewardNotFound

router = APIRouter(prefix="/rewards", tags=["rewards"], route_class=UnitOfWorkRoute)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a reward",
    description="A catalogue entry members buy with points, and the voucher it issues: "
    "`amount` (minor units off), `percent` (basis points off, at most `max_discount`) or "
    "`product` (the item `sku` free). Scope `admin`.",
)
async def create_reward(body: RewardCreate, _admin: AdminKey, session: Session) -> RewardRead:
    return service.to_read(await service.create_reward(session, body))


@router.get(
    "",
    summary="List rewards",
    description="Newest first. Scope `admin`.",
    responses=error_responses(InvalidCursor),
)
async def list_rewards(_admin: AdminKey, page: PageQuery, session: Session) -> Page[RewardRead]:
    rewards, next_cursor = await service.list_rewards(session, page)
    return Page[RewardRead](
        items=[service.to_read(reward) for reward in rewards], next_cursor=next_cursor
    )


@router.get(
    "/{reward_id}",
    summary="Get a reward",
    description="Scope `admin`.",
    responses=error_responses(RewardNotFound),
)
async def get_reward(reward_id: UUID, _admin: AdminKey, session: Session) -> RewardRead:
    return service.to_read(await service.get_reward(session, reward_id))


@router.patch(
    "/{reward_id}",
    summary="Change a reward",
    description="Fields given replace the current value; the result must be a valid reward. "
    "Vouchers already issued keep their terms. Set `active` false to withdraw it. "
    "Scope `admin`.",
    responses=error_responses(RewardNotFound),
)
async def update_reward(
    reward_id: UUID, body: RewardUpdate, _admin: AdminKey, session: Session
) -> RewardRead:
    return service.to_read(await service.update_reward(session, reward_id, body))


@router.delete(
    "/{reward_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a reward",
    description="Vouchers it issued keep their own copy of the terms and stay valid. "
    "Scope `admin`.",
    responses=error_responses(RewardNotFound),
)
async def delete_reward(reward_id: UUID, _admin: AdminKey, session: Session) -> Response:
    await service.delete_reward(session, reward_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
