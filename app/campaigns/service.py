"""Campaigns: stored as the merchant configures them, turned into rules for the evaluator."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.campaigns.errors import CampaignNotFound
from app.campaigns.models import Campaign, CampaignKind
from app.campaigns.schemas import CampaignCreate, CampaignFields, CampaignUpdate
from app.db.config_cache import cached, forget_version
from app.earning.rules import CampaignRule
from app.kit.errors import StammkundeError
from app.kit.pagination import PageParams, paginate


class CampaignInvalid(StammkundeError):
    status = 422
    code = "validation_error"
    title = "Validation error"


def _columns(fields: CampaignFields) -> dict[str, Any]:
    values = fields.model_dump()
    for name in ("starts_at", "ends_at"):
        values[name] = values[name].isoformat(timespec="seconds") if values[name] else None
    values["tier_ids"] = [str(tier_id) for tier_id in fields.tier_ids]
    values["channels"] = [channel.value for channel in fields.channels]
    values["abc_classes"] = [abc_class.value for abc_class in fields.abc_classes]
    return values


def _fields(campaign: Campaign) -> dict[str, Any]:
    return {name: getattr(campaign, name) for name in CampaignFields.model_fields}


async def create_campaign(session: AsyncSession, data: CampaignCreate) -> Campaign:
    campaign = Campaign(**_columns(data))
    session.add(campaign)
    await session.flush()
    forget_version(session)
    return campaign


async def get_campaign(session: AsyncSession, campaign_id: UUID) -> Campaign:
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignNotFound(f"No campaign {campaign_id}.")
    return campaign


async def update_campaign(
    session: AsyncSession, campaign_id: UUID, data: CampaignUpdate
) -> Campaign:
    """Merge the change into the campaign and check the result as a whole."""
    campaign = await get_campaign(session, campaign_id)
    merged = {**_fields(campaign), **data.model_dump(exclude_unset=True)}
    try:
        fields = CampaignFields.model_validate(merged)
    except ValidationError as error:
        raise CampaignInvalid(
            "The campaign would not be valid with this change.",
            errors=[
                {"loc": ["body", *e["loc"]], "msg": e["msg"], "type": e["type"]}
                for e in error.errors()
            ],
        ) from error
    for name, value in _columns(fields).items():
        setattr(campaign, name, value)
    await session.flush()
    forget_version(session)
    return campaign


async def delete_campaign(session: AsyncSession, campaign_id: UUID) -> None:
    await session.delete(await get_campaign(session, campaign_id))
    await session.flush()
    forget_version(session)


async def list_campaigns(
    session: AsyncSession, params: PageParams
) -> tuple[Sequence[Campaign], str | None]:
    return await paginate(session, select(Campaign), Campaign, params)


def to_rule(campaign: Campaign) -> CampaignRule:
    return CampaignRule(
        id=campaign.id,
        name=campaign.name,
        kind=CampaignKind(campaign.kind),
        multiplier=campaign.multiplier,
        points=campaign.points,
        categories=frozenset(campaign.categories),
        skus=frozenset(campaign.skus),
        starts_at=datetime.fromisoformat(campaign.starts_at) if campaign.starts_at else None,
        ends_at=datetime.fromisoformat(campaign.ends_at) if campaign.ends_at else None,
        weekdays=frozenset(campaign.weekdays),
        channels=frozenset(campaign.channels),
        store_ids=frozenset(campaign.store_ids),
        min_total=campaign.min_total,
        tier_ids=frozenset(UUID(str(tier_id)) for tier_id in campaign.tier_ids),
        segment=campaign.segment,
        abc_classes=frozenset(campaign.abc_classes),
        combinable=campaign.combinable,
        max_points_per_purchase=campaign.max_points_per_purchase,
    )


async def active_rules(session: AsyncSession) -> Sequence[CampaignRule]:
    """Every active campaign as a rule, in creation order (the evaluator's tie-break)."""
    return await cached(session, "campaign_rules", _load_active_rules)


async def _load_active_rules(session: AsyncSession) -> tuple[CampaignRule, ...]:
    campaigns = await session.scalars(
        select(Campaign).where(Campaign.active.is_(True)).order_by(Campaign.created_at, Campaign.id)
    )
    return tuple(to_rule(campaign) for campaign in campaigns)
