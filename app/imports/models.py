from uuid import UUID

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin


class ImportRow(IdMixin, CreatedAtMixin, Base):
    """A file row that became a member, so that the same row in a later run is recognised.

    ``key`` is an HMAC of the row's identity (its external id, else card number, else
    e-mail, else phone) under the server secret: it tells "seen before" without keeping
    the value. Its unique constraint makes two runs of one file create the member once;
    the opening balance posted with it (``transaction_id``) is posted once with it.
    """

    __tablename__ = "import_row"
    __table_args__ = (Index("ix_import_row_member_id", "member_id"),)

    key: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[UUID] = mapped_column(ForeignKey("member.id"))
    transaction_id: Mapped[UUID | None] = mapped_column(ForeignKey("ledger_transaction.id"))
