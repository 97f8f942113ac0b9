"""Every mapped model, imported so that ``Base.metadata`` describes the whole schema."""

from app.analytics.models import AbcClassification
from app.api_keys.models import ApiKey
from app.bonuses.models import BonusGrant
from app.campaigns.models import Campaign
from app.console.models import ConsoleSession
from app.db.base import Base
from app.db.config_cache import ConfigVersion
from app.earning.models import Purchase, PurchaseReturn
from app.events.models import Event
from app.gifts.models import Gift
from app.imports.models import ImportRow
from app.kit.idempotency import IdempotencyRecord
from app.ledger.models import Account, EarnLot, LedgerTransaction, LotConsumption, Posting
from app.members.models import Member
from app.program.models import Program
from app.referrals.models import Referral
from app.rewards.models import Reward
from app.spending.models import Redemption
from app.tiers.models import Tier, TierChange
from app.vouchers.models import Voucher, VoucherHistory, VoucherRedemption
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "AbcClassification",
    "Account",
    "ApiKey",
    "Base",
    "BonusGrant",
    "Campaign",
    "ConfigVersion",
    "ConsoleSession",
    "EarnLot",
    "Event",
    "Gift",
    "IdempotencyRecord",
    "ImportRow",
    "LedgerTransaction",
    "LotConsumption",
    "Member",
    "Posting",
    "Program",
    "Purchase",
    "PurchaseReturn",
    "Redemption",
    "Referral",
    "Reward",
    "Tier",
    "TierChange",
    "Voucher",
    "VoucherHistory",
    "VoucherRedemption",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
