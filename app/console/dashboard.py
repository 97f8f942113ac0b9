"""The dashboard: the programme's figures for a period, with charts drawn on the server.

The period is chosen as the API takes it: ``from`` the first local day, ``to`` the day it
ends at (not included), in the programme's time zone; by default the last 30 days up to
and including today. The figures come from the same services as ``/v1/analytics``.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from babel import dates as babel_dates
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from app.analytics import service as analytics
from app.analytics.errors import PeriodInvalid, PeriodTooLong
from app.analytics.models import Interval
from app.analytics.rules import EARLIEST_DAY, LATEST_DAY
from app.analytics.schemas import (
    AbcSummaryRead,
    KpisRead,
    MembersByTierRead,
    MonthlyRetentionRead,
    PointsFlowRead,
)
from app.console import charts, forms
from app.console.forms import Message
from app.console.i18n import N_, Formatter
from app.console.rendering import locale_of, page
from app.console.routing import ConsoleRoute, CurrentUser
from app.db.base import utcnow
from app.program.calendar import add_months, local_date
from app.program.service import get_program

router = APIRouter(prefix="/dashboard", route_class=ConsoleRoute)

DEFAULT_DAYS = 30
RETENTION_MONTHS = 12


class PeriodChoice(BaseModel):
    """The period form: the bounds are the API's (``GET /v1/analytics/kpis``)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", ge=EARLIEST_DAY, le=LATEST_DAY - timedelta(days=1))
    to: date = Field(ge=EARLIEST_DAY + timedelta(days=1), le=LATEST_DAY)


@dataclass(frozen=True, slots=True)
class Preset:
    label: str
    start: date
    end: date


def presets(today: date) -> list[Preset]:
    """Periods a click away, in local days; those that include today end tomorrow."""
    tomorrow = today + timedelta(days=1)
    this_month = today.replace(day=1)
    return [
        Preset(N_("Last 30 days"), tomorrow - timedelta(days=DEFAULT_DAYS), tomorrow),
        Preset(N_("This month"), this_month, tomorrow),
        Preset(N_("Last month"), add_months(this_month, -1), this_month),
        Preset(N_("This year"), today.replace(month=1, day=1), tomorrow),
        Preset(N_("Last 12 months"), add_months(tomorrow, -12), tomorrow),
    ]


@dataclass(frozen=True, slots=True)
class Figures:
    kpis: KpisRead
    flow: PointsFlowRead
    tiers: MembersByTierRead
    abc: AbcSummaryRead
    retention: MonthlyRetentionRead


def retention_months(start: date, end: date) -> tuple[date, date]:
    """The 12 calendar months ending with the one the period's last day is in; the last
    cut where the period ends."""
    last_month = (end - timedelta(days=1)).replace(day=1)
    return add_months(last_month, 1 - RETENTION_MONTHS), end


async def figures(request: Request, start: date, end: date) -> Figures:
    session = request.state.session
    kpis = await analytics.kpis(session, start, end)
    return Figures(
        kpis=kpis,
        flow=await analytics.points_flow(session, start, end),
        tiers=await analytics.members_by_tier(session, utcnow()),
        abc=await analytics.abc_summary(session, start, end),
        retention=await analytics.monthly_retention(session, *retention_months(start, end)),
    )


ABC_WIDTH = 640
ABC_BAR_WIDTH = 520  # the rest, on the left, is the bars' names

FLOW_CAPTIONS = {
    Interval.day: N_("Points issued, redeemed and expired per day"),
    Interval.week: N_("Points issued, redeemed and expired per week"),
    Interval.month: N_("Points issued, redeemed and expired per month"),
    Interval.year: N_("Points issued, redeemed and expired per year"),
}


class Labels:
    """The names of buckets and months: short on a chart's axis, whole in its table."""

    def __init__(self, locale: str, fmt: Formatter) -> None:
        self.locale = locale
        self.fmt = fmt

    def axis(self, first: date, interval: Interval) -> str:
        if interval is Interval.year:
            return str(first.year)
        if interval is Interval.month:
            return babel_dates.format_skeleton("yMMM", first, locale=self.locale)
        return babel_dates.format_skeleton("MMMd", first, locale=self.locale)

    def span(self, first: date, end: date) -> str:
        """A bucket's days in words: a day, a whole month or year by its name, else from
        its first day to its last."""
        last = end - timedelta(days=1)
        months_apart = (end.year * 12 + end.month) - (first.year * 12 + first.month)
        if first == last:
            return self.fmt.day(first)
        if first.day == 1 and end.day == 1 and months_apart == 1:
            return self.fmt.month(first)
        if (first.month, first.day, end.month, end.day) == (1, 1, 1, 1) and months_apart == 12:
            return str(first.year)
        return f"{self.fmt.day(first)} \N{EN DASH} {self.fmt.day(last)}"


def chart_context(found: Figures, labels: Labels) -> dict[str, Any]:
    flow = found.flow
    buckets = flow.buckets
    tiers = found.tiers
    tier_values = [tier.members for tier in tiers.tiers] + [tiers.without_tier]
    classes = found.abc.classes
    months = found.retention.months
    return {
        "flow": {
            "caption": FLOW_CAPTIONS[flow.interval],
            "chart": charts.grouped_bars(
                [
                    [bucket.points_issued, bucket.points_redeemed, bucket.points_expired]
                    for bucket in buckets
                ]
            ),
            "axis": [labels.axis(bucket.from_, flow.interval) for bucket in buckets],
            "rows": [(labels.span(bucket.from_, bucket.to), bucket) for bucket in buckets],
            "issued": sum(bucket.points_issued for bucket in buckets),
            "redeemed": sum(bucket.points_redeemed for bucket in buckets),
            "expired": sum(bucket.points_expired for bucket in buckets),
        },
        "tiers": {"chart": charts.rows(tier_values), "counts": tier_values},
        "abc": {
            "width": ABC_WIDTH,
            "offset": ABC_WIDTH - ABC_BAR_WIDTH,
            "revenue": charts.stacked([item.revenue_share for item in classes], ABC_BAR_WIDTH),
            "members": charts.stacked([item.member_share for item in classes], ABC_BAR_WIDTH),
        },
        "retention": {
            "chart": charts.line([month.retention_rate for month in months], at_least=Decimal(100)),
            "axis": [labels.axis(month.month, Interval.month) for month in months],
            "rows": [(labels.span(month.from_, month.to), month) for month in months],
        },
    }


def _entered(request: Request, default: tuple[date, date]) -> dict[str, str]:
    query = request.query_params
    if "from" not in query and "to" not in query:
        return {"from": default[0].isoformat(), "to": default[1].isoformat()}
    return {name: query[name] for name in ("from", "to") if name in query}


@router.get("")
async def dashboard(request: Request, user: CurrentUser) -> Response:
    program = await get_program(request.state.session)
    today = local_date(utcnow(), program.timezone)
    choices = presets(today)
    entered = _entered(request, (choices[0].start, choices[0].end))
    form = forms.read(PeriodChoice, entered)
    errors = dict(form.errors)
    found = None
    if form.model is not None:
        try:
            found = await figures(request, form.model.from_, form.model.to)
        except PeriodTooLong:
            errors["from"] = Message(N_("The period is too long to show: choose a shorter one."))
        except PeriodInvalid:
            errors["to"] = Message(N_("Must be after the first day."))
    fmt = Formatter(locale_of(request), program.timezone)
    context: dict[str, Any] = {
        "section": "dashboard",
        "entered": form.entered,
        "errors": errors,
        "presets": choices,
        "found": found,
    }
    if found is not None:
        context["last_day"] = found.kpis.period.to - timedelta(days=1)
        context["charts"] = chart_context(found, Labels(locale_of(request), fmt))
    return await page(request, "dashboard.html", context, status_code=422 if found is None else 200)
