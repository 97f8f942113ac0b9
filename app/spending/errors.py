from app.kit.errors import Conflict, NotFound


class RedemptionNotFound(NotFound):
    code = "redemption_not_found"
    title = "Redemption not found"


class RedemptionExists(Conflict):
    code = "redemption_exists"
    title = "Redemption exists for this order"


class RedemptionAlreadyCancelled(Conflict):
    code = "redemption_already_cancelled"
    title = "Redemption already cancelled"
