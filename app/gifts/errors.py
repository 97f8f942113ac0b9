from app.kit.errors import Conflict, NotFound, StammkundeError, Unprocessable


class GiftCodeInvalid(Unprocessable):
    code = "gift_code_invalid"
    title = "Gift code mistyped"


class GiftNotFound(NotFound):
    code = "gift_not_found"
    title = "Gift not found"


class GiftAlreadyClaimed(Conflict):
    code = "gift_already_claimed"
    title = "Gift already claimed"


class GiftCancelled(Conflict):
    code = "gift_cancelled"
    title = "Gift cancelled"


class GiftExpired(StammkundeError):
    status = 410
    code = "gift_expired"
    title = "Gift expired"


class GiftOwnClaim(Unprocessable):
    code = "gift_own_claim"
    title = "Sender cannot claim their own gift"


class GiftNotSender(Unprocessable):
    code = "gift_not_sender"
    title = "Only the sender can cancel a gift"


class GiftPointsBelowMinimum(Unprocessable):
    code = "gift_points_below_minimum"
    title = "Too few points for a gift"


class GiftPointsAboveMaximum(Unprocessable):
    code = "gift_points_above_maximum"
    title = "Too many points for one gift"


class GiftOpenLimitReached(Unprocessable):
    code = "gift_open_limit_reached"
    title = "Too many unclaimed gifts"


class GiftMonthlyLimitReached(Unprocessable):
    code = "gift_monthly_limit_reached"
    title = "Monthly gift allowance used up"
