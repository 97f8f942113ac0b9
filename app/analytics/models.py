"""ABC classes of members by revenue, and the runs of the job that stores them on members."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, CreatedAtMixin, IdMixin


class AbcClass(StrEnum):
    """A: the top members who together reach ``abc_a_share`` % of revenue; B: the next
    ``abc_b_share`` %; C: the rest."""

    A = "A"
    B = "B"
    C = "C"


class Interval(StrEnum):
    """The length of a series' buckets: local days, weeks (Monday to Sunday), calendar
    months or calendar years. A period's first and last buckets are cut at its ends."""

    day = "day"
    week = "week"
    month = "month"
    year = "year"


class AbcClassification(IdMixin, CreatedAtMixin, Base):
    """One run of the classification job: which window and thresholds it used, what it found.

    The job runs the ranking once per local day (and again when the thresholds change): a
    run for today with today's thresholds means the members' classes are current.
    """

    __tablename__ = "abc_classification"
    __table_args__ = (Index("ix_abc_classification_created_at", "created_at"),)

    as_of: Mapped[date] = mapped_column(Date)  # local day; the window ends at its start
    window_starts_at: Mapped[datetime]
    window_ends_at: Mapped[datetime]
    a_share: Mapped[int] = mapped_column(Integer)
    b_share: Mapped[int] = mapped_column(Integer)
    members_a: Mapped[int] = mapped_column(Integer)
    members_b: Mapped[int] = mapped_column(Integer)
    members_c: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)
