from app.kit.errors import Conflict, NotFound, StammkundeError, Unprocessable


class VoucherCodeInvalid(Unprocessable):
    code = "voucher_code_invalid"
    title = "Voucher code mistyped"


class VoucherNotFound(NotFound):
    code = "voucher_not_found"
    title = "Voucher not found"


class VoucherExpired(StammkundeError):
    status = 410
    code = "voucher_expired"
    title = "Voucher expired"


class VoucherAlreadyRedeemed(Conflict):
    code = "voucher_already_redeemed"
    title = "Voucher already redeemed"


class VoucherReserved(Conflict):
    code = "voucher_reserved"
    title = "Voucher reserved by another order"


class VoucherNotApplicable(Unprocessable):
    code = "voucher_not_applicable"
    title = "Voucher not applicable to this order"


class VoucherCancelled(Conflict):
    code = "voucher_cancelled"
    title = "Voucher cancelled"


class RewardNotFound(NotFound):
    code = "reward_not_found"
    title = "Reward not found"


class RewardOutOfStock(Conflict):
    code = "reward_out_of_stock"
    title = "Reward out of stock"


class RewardNotAvailable(Unprocessable):
    code = "reward_not_available"
    title = "Reward not available to this member now"
