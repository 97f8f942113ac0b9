from uuid import UUID

from fastapi import APIRouter, Response, status

from app.campaigns import service
from app.campaigns.errors import CampaignNotFound
from app.campaigns.schemas import CampaignCreate, CampaignRead, CampaignUpdate
from app.kit.auth import AdminKey
from app.kit.errors import error_responses
from app.kit.pagination import InvalidCursor, Page, PageQuery
from app.kit.uow import Session, UnitOfWorkRoute

router = APIRouter(prefix="/campaigns", tags=["campaigns"], route_class=UnitOfWorkRoute)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a campaign",
    description="An earn rule: multiplier, bonus_points, per_visit (stamp cards), "
    "category_multiplier or sku_bonus, with the conditions it applies under. Scope `admin`.",
)
async def create_campaign(body: CampaignCreate, _admin: AdminKey, session: Session) -> CampaignRead:
    return CampaignRead.model_validate(await service.create_campaign(session, body))


@router.get(
    "",
    summary="List campaigns",
    description="Newest first. Scope `admin`.",
    responses=error_responses(InvalidCursor),
)
async def list_campaigns(_admin: AdminKey, page: PageQuery, session: Session) -> Page[CampaignRead]:
    campaigns, next_cursor = await service.list_campaigns(session, page)
    return Page[CampaignRead](
        items=[CampaignRead.model_validate(c) for c in campaigns], next_cursor=next_cursor
    )


@router.get(
    "/{campaign_id}",
    summary="Get a campaign",
    description="Scope `admin`.",
    responses=error_responses(CampaignNotFound),
)
async def get_campaign(campaign_id: UUID, _admin: AdminKey, session: Session) -> CampaignRead:
    return CampaignRead.model_validate(await service.get_campaign(session, campaign_id))


@router.patch(
    "/{campaign_id}",
    summary="Change a campaign",
    description="Fields given replace the current value; the result must be a valid campaign. "
    "Set `active` false to pause it. Scope `admin`.",
    responses=error_responses(CampaignNotFound),
)
async def update_campaign(
    campaign_id: UUID, body: CampaignUpdate, _admin: AdminKey, session: Session
) -> CampaignRead:
    return CampaignRead.model_validate(await service.update_campaign(session, campaign_id, body))


@router.delete(
    "/{campaign_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a campaign",
    description="Purchases keep the breakdown they earned with it. Scope `admin`.",
    responses=error_responses(CampaignNotFound),
)
async def delete_campaign(campaign_id: UUID, _admin: AdminKey, session: Session) -> Response:
    await service.delete_campaign(session, campaign_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
