"""Every mapped model, imported so that ``Base.metadata`` describes the whole schema."""

from app.api_keys.models import ApiKey
from app.db.base import Base
from app.kit.idempotency import IdempotencyRecord

__all__ = ["ApiKey", "Base", "IdempotencyRecord"]
