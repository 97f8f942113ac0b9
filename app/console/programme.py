"""The programme section: settings, the tier ladder, campaigns and the rewards catalogue.

Each part has its own module (``programme_settings``, ``programme_tiers``, ...); this one
is the section's overview and gathers their routes under ``/admin/programme``.
"""

from fastapi import APIRouter, Request, Response

from app.campaigns.service import list_campaigns
from app.console import (
    programme_campaigns,
    programme_rewards,
    programme_settings,
    programme_tiers,
)
from app.console.programme_pages import SECTION, program_of, session_of
from app.console.rendering import page
from app.console.routing import ConsoleRoute, CurrentUser
from app.kit.pagination import MAX_LIMIT, PageParams
from app.program.currency import minor_unit_exponent
from app.rewards.service import list_rewards
from app.tiers.service import list_tiers

router = APIRouter(prefix="/programme", route_class=ConsoleRoute)

# The overview counts at most one page of campaigns and rewards; beyond it says "200+".
_COUNTED = PageParams(limit=MAX_LIMIT)


@router.get("")
async def overview(request: Request, user: CurrentUser) -> Response:
    session = session_of(request)
    program = await program_of(request)
    campaigns, more_campaigns = await list_campaigns(session, _COUNTED)
    rewards, more_rewards = await list_rewards(session, _COUNTED)
    return await page(
        request,
        "programme/overview.html",
        {
            "section": SECTION,
            "one_unit": 10 ** minor_unit_exponent(program.currency),
            "tiers": await list_tiers(session),
            "campaigns": {
                "total": len(campaigns),
                "more": more_campaigns is not None,
                "active": sum(1 for campaign in campaigns if campaign.active),
            },
            "rewards": {
                "total": len(rewards),
                "more": more_rewards is not None,
                "active": sum(1 for reward in rewards if reward.active),
            },
        },
    )


for part in (programme_settings, programme_tiers, programme_campaigns, programme_rewards):
    router.include_router(part.router)
