"""Importing members from a file, a chunk of rows at a time.

Each chunk is checked row by row (``rows.check``), then against what the file had before
it and against the members in the database, in one query per field; the rows left become
members with one insert per table, in a savepoint: all of the chunk or nothing of it.
Whoever runs the import commits (the CLI after each chunk, the API once at the end).

A row is not imported twice: its key (``MemberRow.key``) is stored with the member it made,
and a row whose key is stored counts as already imported. A row that looks like a member
already there (same external id, card number, e-mail ignoring case, or phone in E.164), or
like an earlier row of the file, is reported as a likely duplicate and not created: whether
it is the same person is the merchant's call (``POST /v1/members/{id}/merge`` folds
duplicates together). Opening balances are posted with the member they belong to, as an
``import`` ledger transaction, and so once.

Imported members are not new customers: they get no signup bonus and no referral link.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Insert, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.base import Base, utcnow, uuid7
from app.events.service import emit
from app.imports import repository, rows
from app.imports.errors import ImportConflict
from app.imports.mapping import IDENTITY_FIELDS
from app.imports.models import ImportRow
from app.imports.rows import DUPLICATE, MemberRow, Reject
from app.imports.source import Line
from app.ledger import service as ledger_service
from app.ledger.models import Account, AccountKind, TransactionType
from app.members.cards import generate_card_number
from app.members.models import Member, MemberStatus
from app.members.service import generate_referral_code
from app.program import calendar
from app.program.service import get_program

CHUNK_SIZE = 1000
REFERENCE = "import"
_GENERATION_ATTEMPTS = 8


def _bulk_insert(entity: type[Base]) -> Insert:
    # NULLs as values: rows that leave out other columns then still share one statement,
    # so each table is one executemany (the ORM renders a row's NULLs as absent otherwise).
    return insert(entity).execution_options(render_nulls=True)


@dataclass(slots=True)
class Tally:
    rows: int = 0
    created: int = 0
    already_imported: int = 0
    duplicates: int = 0
    invalid: int = 0
    points: int = 0  # opening balances posted

    def add(self, other: "Tally") -> None:
        self.rows += other.rows
        self.created += other.created
        self.already_imported += other.already_imported
        self.duplicates += other.duplicates
        self.invalid += other.invalid
        self.points += other.points


@dataclass(slots=True)
class ChunkResult:
    tally: Tally
    rejects: list[Reject] = field(default_factory=list)  # invalid rows and duplicates, by line


class MemberImport:
    """One run over one file. It remembers the identities of the rows it has seen, so that
    a row that repeats an earlier one in another chunk is found too."""

    def __init__(
        self,
        secret_key: bytes,
        header_length: int,
        columns: dict[str, int],
        region: str,
        now: datetime | None = None,
    ) -> None:
        self.secret_key = secret_key
        self.header_length = header_length
        self.columns = columns
        self.region = region
        self.now = now
        # field -> value -> the first line that has it
        self._seen: dict[str, dict[str, int]] = {f: {} for f in IDENTITY_FIELDS}

    async def import_chunk(self, session: AsyncSession, records: Sequence[Line]) -> ChunkResult:
        """Import these records, all or nothing; flushed, not committed.

        A unique constraint that fails (a member enrolled through the API, or another run
        of the same file, committed one of these members meanwhile) rolls the chunk back
        and it is tried once more, when the checks see the newcomers.
        """
        checked = [
            rows.check(line, values, self.header_length, self.columns, self.region)
            for line, values in records
        ]
        for attempt in range(2):
            try:
                async with session.begin_nested():
                    return await self._import(session, checked)
            except IntegrityError as error:
                if attempt == 1:
                    raise ImportConflict(
                        "Members were created meanwhile that collide with rows of this file; "
                        "run the import again."
                    ) from error
        raise AssertionError("unreachable")

    async def _import(
        self, session: AsyncSession, checked: Sequence[MemberRow | Reject]
    ) -> ChunkResult:
        now = self.now or utcnow()
        result = ChunkResult(Tally(rows=len(checked)))
        valid = [row for row in checked if isinstance(row, MemberRow)]
        result.rejects = [row for row in checked if isinstance(row, Reject)]
        result.tally.invalid = len(result.rejects)
        keys = {row.line: row.key(self.secret_key) for row in valid}
        done = await repository.imported(session, set(keys.values()))
        existing = {
            f: await repository.members_by(session, f, {v for r in valid if (v := getattr(r, f))})
            for f in IDENTITY_FIELDS
        }
        new: list[MemberRow] = []
        for row in valid:
            # An earlier row first, so that a repeated row is reported alike in every run.
            duplicate = self._repeats_earlier_row(row)
            if duplicate is None and keys[row.line] in done:
                result.tally.already_imported += 1
            elif duplicate := duplicate or _matches_member(row, existing):
                result.rejects.append(duplicate)
                result.tally.duplicates += 1
            else:
                new.append(row)
            self._remember(row)
        result.rejects.sort(key=lambda reject: reject.line)
        if new:
            result.tally.points = await self._create(session, new, keys, now)
            result.tally.created = len(new)
        return result

    def _repeats_earlier_row(self, row: MemberRow) -> Reject | None:
        for name, value in row.identities():
            line = self._seen[name].get(value)
            if line is not None and line != row.line:
                return Reject(
                    row.line,
                    DUPLICATE[name],
                    f"line {line} has the same {name}",
                    row.values,
                    duplicate_of=f"line {line}",
                )
        return None

    def _remember(self, row: MemberRow) -> None:
        for name, value in row.identities():
            self._seen[name].setdefault(value, row.line)

    async def _create(
        self, session: AsyncSession, new: Sequence[MemberRow], keys: dict[int, str], now: datetime
    ) -> int:
        """Create the members of ``new`` with their accounts and opening balances; return the
        points posted.

        Members, the accounts of members without an opening balance, and the row keys are
        inserted a table at a time, without the unit of work's bookkeeping per object: an
        import is mostly these rows. An opening balance goes through the ledger's ``earn``
        like any credit, on the accounts ``open_member_accounts`` gives.
        """
        cards = iter(
            await _unused(
                session,
                "card_number",
                generate_card_number,
                sum(1 for row in new if row.card_number is None),
            )
        )
        referral_codes = iter(
            await _unused(session, "referral_code", generate_referral_code, len(new))
        )
        member_ids = [uuid7() for _ in new]
        await session.execute(
            _bulk_insert(Member),
            [
                {
                    "id": member_id,
                    "external_id": row.external_id,
                    "card_number": row.card_number or next(cards),
                    "email": row.email,
                    "phone": row.phone,
                    "name": row.name,
                    "birthdate": row.birthdate,
                    "referral_code": next(referral_codes),
                    "status": MemberStatus.active,
                    "segments": [],
                    "created_at": now,
                    "updated_at": now,
                }
                for row, member_id in zip(new, member_ids, strict=True)
            ],
        )
        plain_accounts = [
            account
            for row, member_id in zip(new, member_ids, strict=True)
            if row.opening_balance == 0
            for account in ledger_service.new_member_accounts(member_id, now)
        ]
        if plain_accounts:
            await session.execute(_bulk_insert(Account), plain_accounts)

        program = await get_program(session)
        expires_at = calendar.expires_at(now, program)
        imported_rows: list[dict[str, Any]] = []
        points = 0
        for row, member_id in zip(new, member_ids, strict=True):
            # Ids only, as the API's enrolment emits it: events outlive an erasure.
            data = {"member_id": str(member_id), "referred_by_id": None}
            emit(session, "member.created", member_id, data, now)
            import_row_id, transaction_id = uuid7(), None
            if row.opening_balance > 0:
                ledger = ledger_service.open_member_accounts(session, member_id, now)
                earned = ledger_service.earn(
                    session,
                    ledger,
                    TransactionType.import_,
                    row.opening_balance,
                    expires_at=expires_at,
                    source=AccountKind.issued,
                    now=now,
                    reference=REFERENCE,
                    reason="opening balance",
                    related_id=import_row_id,
                )
                transaction_id = earned.transaction.id
                points += row.opening_balance
            imported_rows.append(
                {
                    "id": import_row_id,
                    "key": keys[row.line],
                    "member_id": member_id,
                    "transaction_id": transaction_id,
                    "created_at": now,
                }
            )
        await session.flush()
        await session.execute(_bulk_insert(ImportRow), imported_rows)
        return points


def _matches_member(row: MemberRow, existing: dict[str, dict[str, UUID]]) -> Reject | None:
    for name, value in row.identities():
        member_id = existing[name].get(value)
        if member_id is not None:
            return Reject(
                row.line,
                DUPLICATE[name],
                f"member {member_id} has the same {name}",
                row.values,
                duplicate_of=str(member_id),
            )
    return None


async def _unused(
    session: AsyncSession, name: str, generate: Callable[[], str], count: int
) -> list[str]:
    """``count`` new values for a unique member field that no member has yet."""
    found: set[str] = set()
    for _ in range(_GENERATION_ATTEMPTS):
        if len(found) == count:
            return list(found)
        candidates = {generate() for _ in range(count - len(found))} - found
        found |= candidates - await repository.taken(session, name, candidates)
    raise RuntimeError(f"could not generate {count} unused values of {name}")
