from app.kit.errors import Conflict, NotFound, StammkundeError, Unprocessable


class PurchaseExists(Conflict):
    code = "purchase_exists"
    title = "Purchase exists for this order"


class PurchaseNotFound(NotFound):
    code = "purchase_not_found"
    title = "Purchase not found"


class CurrencyMismatch(Unprocessable):
    code = "currency_mismatch"
    title = "Currency differs from the programme's"


class ReturnExceedsPurchase(Unprocessable):
    code = "return_exceeds_purchase"
    title = "Return exceeds the purchase"


class ClaimCodeInvalid(Unprocessable):
    code = "claim_code_invalid"
    title = "Claim code mistyped"


class ClaimCodeNotFound(NotFound):
    code = "claim_code_not_found"
    title = "Claim code not found"


class ReceiptAlreadyClaimed(Conflict):
    code = "receipt_already_claimed"
    title = "Receipt already claimed"


class ReceiptClaimExpired(StammkundeError):
    status = 410
    code = "receipt_claim_expired"
    title = "Receipt claim window over"
