from app.kit.errors import Conflict, NotFound, Unprocessable


class MemberNotFound(NotFound):
    code = "member_not_found"
    title = "Member not found"


class MemberExists(Conflict):
    code = "member_exists"
    title = "Member exists"


class ReferralCodeUnknown(Unprocessable):
    code = "referral_code_unknown"
    title = "Referral code unknown"
