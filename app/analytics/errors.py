from app.kit.errors import StammkundeError


class PeriodInvalid(StammkundeError):
    """A period that ends before it starts: 422 like any other invalid input."""

    status = 422
    code = "validation_error"
    title = "Validation error"


class PeriodTooLong(PeriodInvalid):
    """A series whose period would be cut into more buckets than one query compares."""
