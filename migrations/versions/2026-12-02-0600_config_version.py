"""config version: one number that every change of programme, campaigns or tiers bumps

Revision ID: 0009_config_version
Revises: 0008_analytics
Create Date: 2026-12-02 06:00:00+00:00

Workers cache the configuration and trust it while this number stands; triggers bump it in
the transaction of any change to the configuration tables, whoever makes it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_config_version"
down_revision: str | None = "0008_analytics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CONFIG_TABLES = ("program", "campaign", "tier")
BUMP = "UPDATE config_version SET version = version + 1"


def upgrade() -> None:
    op.create_table(
        "config_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_config_version_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_version")),
    )
    op.execute("INSERT INTO config_version (id, version) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION bump_config_version() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        for table in CONFIG_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_bumps_config_version "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION bump_config_version()"
            )
        return
    for table in CONFIG_TABLES:
        for operation in ("insert", "update", "delete"):
            op.execute(
                f"CREATE TRIGGER {table}_{operation}_bumps_config_version "
                f"AFTER {operation.upper()} ON {table} BEGIN {BUMP}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in CONFIG_TABLES:
            op.execute(f"DROP TRIGGER {table}_bumps_config_version ON {table}")
        op.execute("DROP FUNCTION bump_config_version()")
    else:
        for table in CONFIG_TABLES:
            for operation in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{operation}_bumps_config_version")
    op.drop_table("config_version")
