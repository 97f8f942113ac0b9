import io
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import AfterValidator, StringConstraints

from app.imports import source
from app.imports.errors import (
    ImportConflict,
    ImportFileInvalid,
    ImportMappingInvalid,
    UnsupportedMediaType,
)
from app.imports.mapping import MAPPING_PATTERN, parse_overrides
from app.imports.schemas import ImportReport, RejectedRow
from app.imports.service import CHUNK_SIZE, MemberImport, Tally
from app.kit.auth import AdminKey
from app.kit.errors import error_responses
from app.kit.idempotency import OPTIONAL_IDEMPOTENCY_ERRORS, OptionalIdempotencyKey
from app.kit.runtime import get_runtime
from app.kit.uow import Session, UnitOfWorkRoute
from app.members.phones import DEFAULT_REGION, is_region

router = APIRouter(prefix="/imports", tags=["imports"], route_class=UnitOfWorkRoute)

UPLOAD_PATH = "/v1/imports/members"
# Larger files through `stammkunde import members`, which commits chunk by chunk: one
# upload is one database transaction, and on SQLite it holds the write lock throughout.
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MEDIA_TYPE = "text/csv"


def _region(code: str) -> str:
    if not is_region(code):
        raise ValueError(f"{code!r} is not a region phonenumbers knows (ISO 3166 alpha-2)")
    return code


Region = Annotated[
    str,
    Query(
        description="How phone numbers without a country code are read (ISO 3166 alpha-2).",
        pattern="^[A-Z]{2}$",
    ),
    AfterValidator(_region),
]


@router.post(
    "/members",
    summary="Import members from a CSV file",
    description="The body is the file itself (`Content-Type: text/csv`, UTF-8, at most "
    f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MiB; larger files through `stammkunde import "
    "members`), its first line the header. Columns are found by their header names "
    "(`external_id`, `card_number`, `email`, `phone`, `name`, `birthdate`, "
    "`opening_balance` or `points`, and a few more, see the README) or mapped with "
    "`map=field=column`. Every row is checked; invalid rows and likely duplicates (the "
    "same external id, card number, e-mail ignoring case or phone in E.164 as a member "
    "or an earlier row) are not created but reported in `rejects`. Opening balances are "
    "posted as `import` ledger transactions. Rows imported before are recognised and "
    "left alone: uploading the same file again creates and posts nothing. All or nothing. "
    "Scope `admin`.",
    responses=error_responses(
        ImportFileInvalid,
        ImportMappingInvalid,
        ImportConflict,
        UnsupportedMediaType,
        *OPTIONAL_IDEMPOTENCY_ERRORS,
        extra={413: ["payload_too_large"]},
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                MEDIA_TYPE: {
                    # The file's bytes: generated clients take a file for it.
                    "schema": {"type": "string", "format": "binary"},
                    "example": "external_id,email,phone,name,opening_balance\n"
                    "crm-4711,anna@example.com,030 1234567,Anna Schmidt,250\n",
                }
            },
        }
    },
)
async def import_members(
    request: Request,
    _admin: AdminKey,
    _: OptionalIdempotencyKey,
    session: Session,
    map: Annotated[
        list[Annotated[str, StringConstraints(pattern=MAPPING_PATTERN)]] | None,
        Query(
            description="`field=column`: the column holding a field, where its header name "
            "is not one of the defaults; `field=` leaves a field out. Repeatable.",
            examples=["email=E-Mail Adresse"],
        ),
    ] = None,
    default_region: Region = DEFAULT_REGION,
) -> ImportReport:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != MEDIA_TYPE:
        raise UnsupportedMediaType(f"Send the file as {MEDIA_TYPE}, not {media_type or 'none'}.")
    text = source.decode(await request.body())
    member_file = source.open_member_file(io.StringIO(text, newline=""), parse_overrides(map or []))
    run = MemberImport(
        get_runtime(request).secret_key,
        len(member_file.header),
        member_file.columns,
        default_region,
    )
    tally = Tally()
    rejects: list[RejectedRow] = []
    for chunk in source.chunks(member_file.records, CHUNK_SIZE):
        result = await run.import_chunk(session, chunk)
        tally.add(result.tally)
        rejects += (
            RejectedRow(
                line=reject.line,
                reason=reject.reason,
                detail=reject.detail,
                duplicate_of=reject.duplicate_of,
                values=dict(zip(member_file.header, reject.values, strict=False)),
            )
            for reject in result.rejects
        )
    return ImportReport(
        rows=tally.rows,
        created=tally.created,
        already_imported=tally.already_imported,
        duplicates=tally.duplicates,
        invalid=tally.invalid,
        points=tally.points,
        rejects=rejects,
    )
