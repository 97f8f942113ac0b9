from pydantic import BaseModel, Field

from app.imports import rows


class RejectedRow(BaseModel):
    line: int = Field(description="The line of the file the row starts on (the header is 1).")
    reason: str = Field(
        description="Why it was not imported: "
        + ", ".join(
            f"`{reason}`"
            for reason in (
                rows.MALFORMED_ROW,
                rows.MISSING_IDENTITY,
                *rows.INVALID.values(),
                *rows.DUPLICATE.values(),
            )
        )
        + "."
    )
    detail: str
    duplicate_of: str | None = Field(
        default=None,
        description="For a likely duplicate: the id of the member it matches, or `line N` "
        "of the row it repeats.",
    )
    values: dict[str, str] = Field(description="The row as it is in the file, by column.")


class ImportReport(BaseModel):
    rows: int = Field(description="Rows read (blank lines are skipped).")
    created: int = Field(description="Members created.")
    already_imported: int = Field(
        description="Rows imported by an earlier run: recognised, and left as they are."
    )
    duplicates: int = Field(description="Rows that match a member or an earlier row: not created.")
    invalid: int = Field(description="Rows with a value that is not valid: not created.")
    points: int = Field(description="Opening balances posted, as `import` ledger transactions.")
    rejects: list[RejectedRow] = Field(description="The duplicates and invalid rows, by line.")
