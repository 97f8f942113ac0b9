"""Exactly-once writes under retries, keyed by API key + ``Idempotency-Key``.

A write endpoint opts in with one parameter, ``_: IdempotencyKey``. Before the endpoint
runs, the key is claimed in a short transaction of its own, so a concurrent duplicate sees
it in flight (409). The unit of work then stores the response in the same transaction as
the work (see ``app.kit.uow``); a replay returns that status and body unchanged. The same
key with a different request is 422. Business refusals are stored and replayed like
successes; validation errors and crashes release the key.
"""

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Request, Response
from pydantic import BaseModel
from sqlalchemy import (
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    bindparam,
    delete,
    or_,
    select,
    text,
)
from sqlalchemy import update as sql_update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import TextClause

from app.db.base import Base, CreatedAtMixin, IdMixin, utcnow
from app.db.session import is_postgresql
from app.db.statements import insert_unless_present
from app.kit.auth import CurrentApiKey
from app.kit.errors import StammkundeError
from app.kit.runtime import get_runtime

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# Printable ASCII without spaces at the ends: what every HTTP stack passes on unchanged.
KEY_PATTERN = r"^[!-~]([ -~]*[!-~])?$"

IN_PROGRESS = "in_progress"
COMPLETED = "completed"


class IdempotencyRecord(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)

    api_key_id: Mapped[UUID] = mapped_column(ForeignKey("api_key.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    locked_until: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_media_type: Mapped[str | None] = mapped_column(String(100))
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)


class IdempotencyKeyMissing(StammkundeError):
    status = 400
    code = "idempotency_key_missing"
    title = "Idempotency-Key header missing"


class IdempotencyKeyInvalid(StammkundeError):
    status = 400
    code = "idempotency_key_invalid"
    title = "Idempotency-Key header invalid"


class IdempotencyKeyReused(StammkundeError):
    status = 422
    code = "idempotency_key_reused"
    title = "Idempotency key reused"


class IdempotencyInProgress(StammkundeError):
    status = 409
    code = "idempotency_in_progress"
    title = "Request with this idempotency key in progress"


OPTIONAL_IDEMPOTENCY_ERRORS = (IdempotencyKeyInvalid, IdempotencyKeyReused, IdempotencyInProgress)
IDEMPOTENCY_ERRORS = (IdempotencyKeyMissing, *OPTIONAL_IDEMPOTENCY_ERRORS)


class Replay(Exception):
    """Raised to answer with the stored response instead of running the endpoint."""

    def __init__(self, response: Response) -> None:
        self.response = response


@dataclass(slots=True)
class Claim:
    record_id: UUID
    # What a replay returns instead of the response, where that holds a secret shown once.
    replay_body: bytes | None = None

    def replay_without_secret(self, redacted: BaseModel) -> None:
        """Store ``redacted`` for replays: the secret in the response is never written down."""
        self.replay_body = redacted.model_dump_json().encode()


def claim_of(request: Request) -> Claim | None:
    return getattr(request.state, "idempotency_claim", None)


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """Identifies "the same request": method, path, query and the body's JSON content."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    digest = hashlib.sha256(f"{method} {path}?{query}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()


def _stored_response(record: IdempotencyRecord) -> Response:
    assert record.response_status is not None
    return Response(
        content=record.response_body or b"",
        status_code=record.response_status,
        media_type=record.response_media_type,
        headers={REPLAY_HEADER: "true"},
    )


def _check_existing(record: IdempotencyRecord, request_fingerprint: str, now: datetime) -> None:
    """Refuse or replay for a key that is already taken; return if it may be taken over."""
    if record.fingerprint != request_fingerprint:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was used for a different request; use a new key."
        )
    if record.state == COMPLETED:
        raise Replay(_stored_response(record))
    if record.locked_until > now:
        raise IdempotencyInProgress(
            "A request with this Idempotency-Key is still being processed; retry later.",
            headers={"Retry-After": "1"},
        )


async def _claim(
    session: AsyncSession,
    api_key_id: UUID,
    key: str,
    request_fingerprint: str,
    ttl: timedelta,
    lock: timedelta,
) -> Claim:
    now = utcnow()
    claimed = await session.scalar(
        insert_unless_present(session, IdempotencyRecord, "api_key_id", "key")
        .values(
            api_key_id=api_key_id,
            key=key,
            fingerprint=request_fingerprint,
            state=IN_PROGRESS,
            locked_until=now + lock,
            expires_at=now + ttl,
        )
        .returning(IdempotencyRecord.id)
    )
    if claimed is not None:
        await session.commit()
        return Claim(claimed)
    record = (
        await session.execute(
            select(IdempotencyRecord).where(
                IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key
            )
        )
    ).scalar_one_or_none()
    if record is None or record.expires_at <= now:
        # Gone since (purged), or past its time: the key is free again.
        if record is not None:
            await session.execute(
                delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id)
            )
        await session.commit()
        return await _claim(session, api_key_id, key, request_fingerprint, ttl, lock)
    _check_existing(record, request_fingerprint, now)
    # An abandoned claim (its process died mid-request): take it over, unless another
    # retry got there first.
    taken = await session.execute(
        sql_update(IdempotencyRecord)
        .where(
            IdempotencyRecord.id == record.id, IdempotencyRecord.locked_until == record.locked_until
        )
        .values(locked_until=now + lock)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    if not getattr(taken, "rowcount", 0):
        raise IdempotencyInProgress(
            "A request with this Idempotency-Key is still being processed; retry later.",
            headers={"Retry-After": "1"},
        )
    return Claim(record.id)


async def require_idempotency_key(
    request: Request,
    api_key: CurrentApiKey,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="A unique key per logical write (e.g. a UUID); retries reuse it. "
            "Kept 72 hours per API key.",
        ),
    ] = None,
) -> Claim:
    if idempotency_key is None:
        raise IdempotencyKeyMissing(f"This write requires an {HEADER} header.")
    if len(idempotency_key) > MAX_KEY_LENGTH or not re.fullmatch(KEY_PATTERN, idempotency_key):
        raise IdempotencyKeyInvalid(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters."
        )
    settings = get_runtime(request).settings
    request_fingerprint = fingerprint(
        request.method, request.url.path, request.url.query, await request.body()
    )
    session: AsyncSession = request.state.session
    claim = await _claim(
        session,
        api_key.id,
        idempotency_key,
        request_fingerprint,
        ttl=timedelta(hours=settings.idempotency_ttl_hours),
        lock=timedelta(seconds=settings.idempotency_lock_seconds),
    )
    request.state.idempotency_claim = claim
    return claim


IdempotencyKey = Annotated[Claim, Depends(require_idempotency_key)]


async def optional_idempotency_key(
    request: Request,
    api_key: CurrentApiKey,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="Optional here: with it, a retry returns the first response.",
        ),
    ] = None,
) -> Claim | None:
    if idempotency_key is None:
        return None
    return await require_idempotency_key(request, api_key, idempotency_key)


OptionalIdempotencyKey = Annotated[Claim | None, Depends(optional_idempotency_key)]


# Built once: every write ends with it.
_RECORD_RESPONSE = (
    sql_update(IdempotencyRecord)
    .where(IdempotencyRecord.id == bindparam("record_id"))
    .values(
        state=COMPLETED,
        response_status=bindparam("status"),
        response_media_type=bindparam("media_type"),
        response_body=bindparam("body"),
    )
    .execution_options(synchronize_session=False)
)


async def record_response(session: AsyncSession, claim: Claim, response: Response) -> None:
    await session.execute(
        _RECORD_RESPONSE,
        {
            "record_id": claim.record_id,
            "status": response.status_code,
            "media_type": response.media_type,
            "body": claim.replay_body or bytes(response.body),
        },
    )


async def release(session: AsyncSession, claim: Claim) -> None:
    await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == claim.record_id))


async def purge_expired(session: AsyncSession, now: datetime | None = None) -> int:
    result = await session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= (now or utcnow()))
    )
    return int(getattr(result, "rowcount", 0))


async def replace_responses_containing(
    session: AsyncSession, values: Sequence[str], replacement: Response
) -> int:
    """Store ``replacement`` instead of every stored response that holds one of ``values``
    as a JSON string (an erased member's personal data, say): a replay then answers with
    ``replacement``, and the key stays taken, so a retry never runs its request again.

    A scan of the stored responses, which the retention window keeps few: for rare writes.
    """
    needles = [json.dumps(value, ensure_ascii=False).encode() for value in values if value]
    if not needles:
        return 0
    postgres = is_postgresql(session)
    result = await session.execute(
        sql_update(IdempotencyRecord)
        .where(
            IdempotencyRecord.state == COMPLETED,
            or_(*(_holds(needle, f"needle_{n}", postgres) for n, needle in enumerate(needles))),
        )
        .values(
            response_status=replacement.status_code,
            response_media_type=replacement.media_type,
            response_body=bytes(replacement.body),
        )
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0))


def _holds(needle: bytes, name: str, postgres: bool) -> TextClause:
    """The stored response holds ``needle``: exact bytes, no wildcards."""
    if postgres:
        clause = f"position(CAST(:{name} AS bytea) IN response_body) > 0"
    else:
        clause = f"instr(response_body, :{name}) > 0"
    return text(clause).bindparams(**{name: needle})
