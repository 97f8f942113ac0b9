"""Each member's ledger entries form a hash chain, so tampering with any entry is detected.

An entry's hash covers its immutable fields, its postings and the previous entry's hash.
"""

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from uuid import UUID

from app.ledger.postings import Leg

GENESIS = "0" * 64


def entry_hash(
    *,
    prev_hash: str,
    transaction_id: UUID,
    member_id: UUID,
    seq: int,
    type: str,
    points: int,
    available_after: int,
    pending_after: int,
    reference: str | None,
    related_id: UUID | None,
    created_at: datetime,
    legs: Iterable[Leg],
) -> str:
    postings = ",".join(sorted(f"{leg.account_id}:{leg.side.value}:{leg.amount}" for leg in legs))
    fields = [
        prev_hash,
        str(transaction_id),
        str(member_id),
        str(seq),
        type,
        str(points),
        str(available_after),
        str(pending_after),
        reference or "",
        str(related_id or ""),
        created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        postings,
    ]
    return hashlib.sha256("\x1f".join(fields).encode()).hexdigest()
