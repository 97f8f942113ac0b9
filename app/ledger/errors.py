from app.kit.errors import Conflict


class InsufficientPoints(Conflict):
    code = "insufficient_points"
    title = "Insufficient points"
