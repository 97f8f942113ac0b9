from app.kit.errors import Conflict, NotFound, Unprocessable


class TierNotFound(NotFound):
    code = "tier_not_found"
    title = "Tier not found"


class TierExists(Conflict):
    code = "tier_exists"
    title = "Tier exists"


class TierInUse(Conflict):
    code = "tier_in_use"
    title = "Tier in use"


class TierThresholdsOutOfOrder(Unprocessable):
    code = "tier_thresholds_out_of_order"
    title = "Tier thresholds out of order"


class ManualTierNotFound(NotFound):
    code = "manual_tier_not_found"
    title = "No manual tier"


class ManualTierUntilPast(Unprocessable):
    code = "manual_tier_until_past"
    title = "Manual tier ends in the past"
