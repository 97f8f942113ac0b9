"""A ledger history for the growth benchmark, bulk-loaded with COPY.

Appends ``entries`` postings (two per purchase: the programme's issued account to the
member's available account) to the members' ledgers, spread evenly over them and over the
past eleven months, each with its purchase and its lot. Every entry continues its member's
hash chain and the cached balances follow, so `stammkunde verify` passes on the result.
(No events: the outbox keeps only ``event_retention_days`` of them.)
"""

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from app.db.base import uuid7
from app.ledger.chain import entry_hash
from app.ledger.models import AccountKind, LotStatus, TransactionType, program_account_id
from app.ledger.postings import transfer

POINTS = 45  # what one purchase of the bench's workload earns
MEMBERS_PER_COPY = 5_000  # bounds the rows held in memory at once
HISTORY_SPAN = timedelta(days=330)
TRANSACTION_COLUMNS = (
    "id", "created_at", "member_id", "seq", "type", "points", "available_after",
    "pending_after", "reference", "reason", "related_id", "prev_hash", "hash",
)  # fmt: skip
POSTING_COLUMNS = (
    "id",
    "created_at",
    "transaction_id",
    "member_id",
    "account_id",
    "side",
    "amount",
)
PURCHASE_COLUMNS = (
    "id", "created_at", "member_id", "order_id", "channel", "currency", "total", "items",
    "occurred_at", "points_earned", "breakdown", "lot_id", "returned_total", "returned_items",
    "points_reversed",
)  # fmt: skip
LOT_COLUMNS = (
    "id", "created_at", "member_id", "transaction_id", "points", "remaining", "expired_points",
    "status", "available_at", "expires_at", "expiry_notified_at",
)  # fmt: skip


ACCOUNTS_FOR_UPDATE = """
SELECT a.member_id, a.id, a.balance, a.entry_count, a.chain_head, p.balance AS pending
FROM account a JOIN account p ON p.member_id = a.member_id AND p.kind = $2
WHERE a.member_id = ANY($1) AND a.kind = $3
ORDER BY a.member_id
FOR UPDATE
"""


class _Member:
    """A member's available account as the history continues it."""

    def __init__(self, row: Any) -> None:
        self.member_id: UUID = row["member_id"]
        self.account_id: UUID = row["id"]
        self.balance: int = row["balance"]
        self.pending: int = row["pending"]
        self.entry_count: int = row["entry_count"]
        self.chain_head: str = row["chain_head"]


async def load_history(dsn: str, entries: int) -> int:
    """Append about ``entries`` postings; returns how many transactions were written."""
    connection = await asyncpg.connect(dsn)
    try:
        member_ids = [
            row["id"] for row in await connection.fetch("SELECT id FROM member ORDER BY id")
        ]
        per_member = max(1, entries // 2 // max(1, len(member_ids)))
        written = 0
        for start in range(0, len(member_ids), MEMBERS_PER_COPY):
            async with connection.transaction():
                # Locked as the service locks a ledger: a sale still finishing waits or is done.
                chunk = [
                    _Member(row)
                    for row in await connection.fetch(
                        ACCOUNTS_FOR_UPDATE,
                        member_ids[start : start + MEMBERS_PER_COPY],
                        AccountKind.pending.value,
                        AccountKind.available.value,
                    )
                ]
                transactions, postings, lots, purchases = _history(chunk, per_member)
                await connection.copy_records_to_table(
                    "ledger_transaction", records=transactions, columns=TRANSACTION_COLUMNS
                )
                await connection.copy_records_to_table(
                    "posting", records=postings, columns=POSTING_COLUMNS
                )
                await connection.copy_records_to_table(
                    "earn_lot", records=lots, columns=LOT_COLUMNS
                )
                await connection.copy_records_to_table(
                    "purchase", records=purchases, columns=PURCHASE_COLUMNS
                )
                await connection.executemany(
                    "UPDATE account SET balance = $2, entry_count = $3, chain_head = $4 "
                    "WHERE id = $1",
                    [(m.account_id, m.balance, m.entry_count, m.chain_head) for m in chunk],
                )
            written += len(transactions)
        await connection.execute("ANALYZE")
        return written
    finally:
        await connection.close()


Rows = list[tuple[Any, ...]]


def _history(members: Sequence[_Member], per_member: int) -> tuple[Rows, Rows, Rows, Rows]:
    transactions: Rows = []
    postings: Rows = []
    lots: Rows = []
    purchases: Rows = []
    issued = program_account_id(AccountKind.issued)
    for member in members:
        for created_at in _times(per_member):
            transaction_id, lot_id, purchase_id = uuid7(), uuid7(), uuid7()
            legs = transfer(issued, member.account_id, POINTS)
            member.balance += POINTS
            member.entry_count += 1
            reference = f"history-{transaction_id.hex}"
            digest = entry_hash(
                prev_hash=member.chain_head,
                transaction_id=transaction_id,
                member_id=member.member_id,
                seq=member.entry_count,
                type=TransactionType.purchase,
                points=POINTS,
                available_after=member.balance,
                pending_after=member.pending,
                reference=reference,
                related_id=purchase_id,
                created_at=created_at,
                legs=legs,
            )
            transactions.append(
                (
                    transaction_id, created_at, member.member_id, member.entry_count,
                    TransactionType.purchase.value, POINTS, member.balance, member.pending,
                    reference, None, purchase_id, member.chain_head, digest,
                )
            )  # fmt: skip
            member.chain_head = digest
            postings.extend(
                (uuid7(), created_at, transaction_id, member.member_id, leg.account_id,
                 leg.side.value, leg.amount)
                for leg in legs
            )  # fmt: skip
            lots.append(
                (lot_id, created_at, member.member_id, transaction_id, POINTS, POINTS, 0,
                 LotStatus.available.value, None, None, None)
            )  # fmt: skip
            purchases.append(
                (purchase_id, created_at, member.member_id, reference, "pos", "EUR", 4590, "[]",
                 created_at, POINTS, "[]", lot_id, 0, "{}", 0)
            )  # fmt: skip
    return transactions, postings, lots, purchases


def _times(count: int) -> Iterator[datetime]:
    """``count`` moments spread over the past eleven months, oldest first."""
    now = datetime.now(UTC)
    step = HISTORY_SPAN / count
    for n in range(count, 0, -1):
        yield now - n * step
