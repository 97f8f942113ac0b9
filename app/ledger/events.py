"""The events of the points ledger: every ledger transaction emits exactly one, from one
place (``service._record``), in the transaction's own database transaction.

Event type by ledger transaction type (the transaction type is in the data's ``type``):

==================  ===================================================================
``points.earned``   purchase, receipt_claim, signup_bonus, birthday_bonus, profile_bonus,
                    referral_bonus, gift_received, adjustment with points > 0 (goodwill),
                    import (an opening balance)
``points.redeemed`` redemption, voucher_purchase, gift_sent (points paid for something)
``points.expired``  expiry (what was left of lots past their expiry date)
``points.reversed`` purchase_return, adjustment with points < 0 (a correction)
``points.restored`` redemption_cancel, gift_returned (points given back, into their lots)
``points.available`` pending_release (pending points became spendable; ``points`` is 0)
``points.merged``   merge_out (the duplicate record), merge_in (the record merged into)
``points.forfeited`` erasure (an erased member's points go to the expired account)
==================  ===================================================================

``points.expiring_soon`` is not a ledger transaction: the notice job emits it
(``app.ledger.notices``).

Data, the same for all of them, ids and numbers only (never personal data)::

    {"transaction_id": "...", "type": "purchase", "points": 45,
     "available_change": 0, "pending_change": 45,
     "balance": {"available": 120, "pending": 45},
     "reference": "order-1", "related_id": "..."}

``points`` is the change of the member's points (available + pending), as in the member's
transaction history; ``available_change`` and ``pending_change`` split it; ``balance`` is
the member's balance after the transaction. ``related_id`` is the purchase, redemption,
gift, bonus grant, referral or (in a merge) other member the transaction belongs to.
"""

from typing import Any

from app.ledger.models import LedgerTransaction, TransactionType

EARNED = "points.earned"
REDEEMED = "points.redeemed"
EXPIRED = "points.expired"
REVERSED = "points.reversed"
RESTORED = "points.restored"
AVAILABLE = "points.available"
MERGED = "points.merged"
FORFEITED = "points.forfeited"
EXPIRING_SOON = "points.expiring_soon"

EVENT_TYPES: dict[TransactionType, str] = {
    TransactionType.purchase: EARNED,
    TransactionType.receipt_claim: EARNED,
    TransactionType.signup_bonus: EARNED,
    TransactionType.birthday_bonus: EARNED,
    TransactionType.profile_bonus: EARNED,
    TransactionType.referral_bonus: EARNED,
    TransactionType.gift_received: EARNED,
    TransactionType.import_: EARNED,
    TransactionType.redemption: REDEEMED,
    TransactionType.voucher_purchase: REDEEMED,
    TransactionType.gift_sent: REDEEMED,
    TransactionType.expiry: EXPIRED,
    TransactionType.purchase_return: REVERSED,
    TransactionType.redemption_cancel: RESTORED,
    TransactionType.gift_returned: RESTORED,
    TransactionType.pending_release: AVAILABLE,
    TransactionType.merge_out: MERGED,
    TransactionType.merge_in: MERGED,
    TransactionType.erasure: FORFEITED,
}


def event_type(type: TransactionType, points: int) -> str:
    """The event a ledger transaction of ``type`` moving ``points`` emits."""
    if type is TransactionType.adjustment:
        return EARNED if points > 0 else REVERSED
    return EVENT_TYPES[type]


def event_data(
    transaction: LedgerTransaction, available_change: int, pending_change: int
) -> dict[str, Any]:
    return {
        "transaction_id": str(transaction.id),
        "type": TransactionType(transaction.type).value,
        "points": transaction.points,
        "available_change": available_change,
        "pending_change": pending_change,
        "balance": {
            "available": transaction.available_after,
            "pending": transaction.pending_after,
        },
        "reference": transaction.reference,
        "related_id": str(transaction.related_id) if transaction.related_id else None,
    }
