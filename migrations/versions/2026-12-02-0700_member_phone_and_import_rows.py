"""member phone and import rows: phone numbers in E.164, unique; the keys of imported rows

Revision ID: 0011_member_phone_import_rows
Revises: 0010_covering_ledger_index
Create Date: 2026-12-02 07:00:00+00:00

The phone's uniqueness is a unique index, not a constraint, so that SQLite adds it without
rebuilding the member table (which every other table refers to).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_member_phone_import_rows"
down_revision: str | None = "0010_covering_ledger_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("member", sa.Column("phone", sa.String(length=16), nullable=True))
    op.create_index("uq_member_phone", "member", ["phone"], unique=True)
    op.create_table(
        "import_row",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("transaction_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_import_row_member_id_member")
        ),
        sa.ForeignKeyConstraint(
            ["transaction_id"],
            ["ledger_transaction.id"],
            name=op.f("fk_import_row_transaction_id_ledger_transaction"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_row")),
        sa.UniqueConstraint("key", name=op.f("uq_import_row_key")),
    )
    op.create_index("ix_import_row_member_id", "import_row", ["member_id"])


def downgrade() -> None:
    op.drop_index("ix_import_row_member_id", "import_row")
    op.drop_table("import_row")
    op.drop_index("uq_member_phone", "member")
    # SQLite drops a column in place since 3.35, without rebuilding the table.
    op.drop_column("member", "phone")
