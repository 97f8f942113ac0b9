"""What an export reads: members (with their balances) and ledger transactions, streamed
from the database a batch at a time (a server-side cursor on PostgreSQL), so that an export
of any size holds one batch in memory."""

from collections.abc import AsyncIterator
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.ledger.models import Account, AccountKind, LedgerTransaction
from app.members.models import Member

BATCH_SIZE = 1000


class Dataset(StrEnum):
    members = "members"
    transactions = "transactions"


def _members() -> Select[*tuple[Any, ...]]:
    available, pending = aliased(Account), aliased(Account)
    return (
        select(
            Member.id,
            Member.external_id,
            Member.card_number,
            Member.email,
            Member.phone,
            Member.name,
            Member.birthdate,
            Member.status,
            Member.referral_code,
            Member.segments,
            Member.merged_into_id,
            available.balance.label("available"),
            pending.balance.label("pending"),
            Member.created_at,
        )
        .join(
            available,
            and_(available.member_id == Member.id, available.kind == AccountKind.available),
        )
        .join(pending, and_(pending.member_id == Member.id, pending.kind == AccountKind.pending))
        .order_by(Member.id)
    )


def _transactions() -> Select[*tuple[Any, ...]]:
    # By id: time-ordered (uuid7), and the primary key's index reads them in that order.
    return select(
        LedgerTransaction.id,
        LedgerTransaction.member_id,
        LedgerTransaction.seq,
        LedgerTransaction.type,
        LedgerTransaction.points,
        LedgerTransaction.available_after,
        LedgerTransaction.pending_after,
        LedgerTransaction.reference,
        LedgerTransaction.reason,
        LedgerTransaction.related_id,
        LedgerTransaction.created_at,
        LedgerTransaction.hash,
    ).order_by(LedgerTransaction.id)


STATEMENTS = {Dataset.members: _members(), Dataset.transactions: _transactions()}
TABLES = {Dataset.members: Member, Dataset.transactions: LedgerTransaction}


def columns(dataset: Dataset) -> list[str]:
    return [column.name for column in STATEMENTS[dataset].selected_columns]


async def count(session: AsyncSession, dataset: Dataset) -> int:
    return int(await session.scalar(select(func.count()).select_from(TABLES[dataset])) or 0)


async def rows(session: AsyncSession, dataset: Dataset) -> AsyncIterator[dict[str, Any]]:
    """Every row of ``dataset``, as column -> value, read ``BATCH_SIZE`` rows at a time."""
    result = await session.stream(STATEMENTS[dataset].execution_options(yield_per=BATCH_SIZE))
    async for batch in result.mappings().partitions():
        for row in batch:
            yield dict(row)
