"""The /v1 API: every feature router, mounted in one place."""

from fastapi import APIRouter

from app.analytics.router import router as analytics_router
from app.api_keys.router import router as api_keys_router
from app.campaigns.router import router as campaigns_router
from app.earning.router import quotes_router
from app.earning.router import router as earning_router
from app.events.router import router as events_router
from app.gifts.router import router as gifts_router
from app.imports.router import router as imports_router
from app.ledger.router import router as ledger_router
from app.members.router import router as members_router
from app.program.router import router as program_router
from app.referrals.router import router as referrals_router
from app.rewards.router import router as rewards_router
from app.spending.router import router as spending_router
from app.tiers.router import router as tiers_router
from app.vouchers.checkout_router import router as voucher_checkout_router
from app.vouchers.router import router as vouchers_router
from app.webhooks.router import router as webhooks_router

router = APIRouter(prefix="/v1")
for feature in (
    program_router,
    members_router,
    ledger_router,
    quotes_router,
    earning_router,
    campaigns_router,
    tiers_router,
    spending_router,
    api_keys_router,
    rewards_router,
    vouchers_router,
    voucher_checkout_router,
    gifts_router,
    referrals_router,
    events_router,
    webhooks_router,
    analytics_router,
    imports_router,
):
    router.include_router(feature)
