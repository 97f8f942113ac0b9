"""Actions a person confirms: a confirmation page, and a guard against submitting it twice.

A confirmation page carries a random action key. The action records it as an
idempotency record of the admin key, in the same transaction as its work, so a second
submission of the same page (a double click, a reload after a slow answer) does nothing;
it is the same protection ``Idempotency-Key`` gives API clients.
"""

import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta
from uuid import UUID

from fastapi import Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.console.rendering import page
from app.db.base import utcnow
from app.db.statements import insert_unless_present
from app.kit.idempotency import COMPLETED, IdempotencyRecord
from app.kit.runtime import get_runtime

ACTION_KEY_FIELD = "action_key"
CONFIRMED_FIELD = "confirmed"


def new_action_key() -> str:
    return "console:" + secrets.token_urlsafe(16)


async def first_submission(session: AsyncSession, request: Request, api_key_id: UUID) -> bool:
    """Records the form's action key; False if it was recorded before (or is missing)."""
    form = await request.form()
    key = form.get(ACTION_KEY_FIELD)
    if not isinstance(key, str) or not key.startswith("console:") or len(key) > 100:
        return False
    now = utcnow()
    ttl = timedelta(hours=get_runtime(request).settings.idempotency_ttl_hours)
    inserted = await session.execute(
        insert_unless_present(session, IdempotencyRecord, "api_key_id", "key")
        .values(
            api_key_id=api_key_id,
            key=key,
            fingerprint="console",
            state=COMPLETED,
            locked_until=now,
            expires_at=now + ttl,
            response_status=303,
        )
        .returning(IdempotencyRecord.id)
    )
    return inserted.first() is not None


async def confirmation(
    request: Request,
    *,
    title: str,
    summary: Sequence[str],
    action: str,
    fields: Mapping[str, str],
    confirm_label: str,
    back: str,
    danger: bool = False,
    section: str = "",
) -> Response:
    """The page that asks "really?": its form posts ``fields`` again, confirmed.

    ``title``, ``summary`` and ``confirm_label`` are already translated text.
    """
    return await page(
        request,
        "confirm.html",
        {
            "title": title,
            "summary": summary,
            "action": action,
            "fields": {**fields, ACTION_KEY_FIELD: new_action_key(), CONFIRMED_FIELD: "yes"},
            "confirm_label": confirm_label,
            "back": back,
            "danger": danger,
            "section": section,
        },
    )


async def is_confirmed(request: Request) -> bool:
    return (await request.form()).get(CONFIRMED_FIELD) == "yes"
