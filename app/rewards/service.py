"""The rewards catalogue: create, change, list and delete what members buy with points."""

from collections.abc import Sequence
from datetime import UTC
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.kit.errors import StammkundeError
from app.kit.pagination import PageParams, paginate
from app.rewards.models import Reward
from app.rewards.schemas import RewardCreate, RewardFields, RewardRead, RewardUpdate
from app.vouchers.errors import RewardNotFound

# API field -> column, where they differ (the voucher terms carry a prefix on the reward).
_COLUMN = {"kind": "voucher_kind", "value": "voucher_value", "sku": "voucher_sku"}


class RewardInvalid(StammkundeError):
    status = 422
    code = "validation_error"
    title = "Validation error"


def _columns(fields: RewardFields) -> dict[str, Any]:
    values = fields.model_dump(mode="json", include=set(RewardFields.model_fields))
    for name in ("starts_at", "ends_at"):
        moment = getattr(fields, name)
        values[name] = moment.astimezone(UTC) if moment is not None else None
    return {_COLUMN.get(name, name): value for name, value in values.items()}


def _fields(reward: Reward) -> dict[str, Any]:
    return {name: getattr(reward, _COLUMN.get(name, name)) for name in RewardFields.model_fields}


def to_read(reward: Reward) -> RewardRead:
    return RewardRead.model_validate(
        {
            **_fields(reward),
            "id": reward.id,
            "created_at": reward.created_at,
            "updated_at": reward.updated_at,
        }
    )


async def create_reward(session: AsyncSession, data: RewardCreate) -> Reward:
    reward = Reward(**_columns(data))
    session.add(reward)
    await session.flush()
    return reward


async def get_reward(session: AsyncSession, reward_id: UUID, *, lock: bool = False) -> Reward:
    reward = await session.get(Reward, reward_id, with_for_update=lock, populate_existing=lock)
    if reward is None:
        raise RewardNotFound(f"No reward {reward_id}.")
    return reward


async def update_reward(session: AsyncSession, reward_id: UUID, data: RewardUpdate) -> Reward:
    """Merge the change into the reward and check the result as a whole."""
    reward = await get_reward(session, reward_id, lock=True)
    merged = {**_fields(reward), **data.model_dump(exclude_unset=True)}
    try:
        fields = RewardFields.model_validate(merged)
    except ValidationError as error:
        raise RewardInvalid(
            "The reward would not be valid with this change.",
            errors=[
                {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in error.errors()
            ],
        ) from error
    for name, value in _columns(fields).items():
        setattr(reward, name, value)
    await session.flush()
    await session.refresh(reward, ["updated_at"])
    return reward


async def delete_reward(session: AsyncSession, reward_id: UUID) -> None:
    """Vouchers keep their own copy of the terms; their ``reward_id`` becomes null."""
    await session.delete(await get_reward(session, reward_id, lock=True))
    await session.flush()


async def list_rewards(
    session: AsyncSession, params: PageParams
) -> tuple[Sequence[Reward], str | None]:
    return await paginate(session, select(Reward), Reward, params)
