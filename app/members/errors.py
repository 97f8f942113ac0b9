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


class MergeSameMember(Unprocessable):
    code = "merge_same_member"
    title = "Merge of a member into itself"


class MemberMerged(Conflict):
    code = "member_merged"
    title = "Member already merged"


class MemberErased(Conflict):
    code = "member_erased"
    title = "Member erased"
