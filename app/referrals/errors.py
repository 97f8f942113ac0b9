from app.kit.errors import Conflict, Unprocessable


class ReferralSelf(Unprocessable):
    code = "referral_self"
    title = "Own referral code"


class ReferralLoop(Unprocessable):
    code = "referral_loop"
    title = "Referral loop"


class ReferralExists(Conflict):
    code = "referral_exists"
    title = "Referral exists"


class ReferralTooLate(Conflict):
    code = "referral_too_late"
    title = "Too late for a referral"
