"""The figures as a plain-text table for the terminal (``stammkunde report``)."""

from collections.abc import Sequence
from decimal import Decimal

from app.analytics.schemas import AbcSummaryRead, KpisRead
from app.program.currency import to_major_units


def _rate(value: Decimal | None) -> str:
    return "-" if value is None else f"{value} %"


def _money(amount: int | None, currency: str) -> str:
    return "-" if amount is None else f"{to_major_units(amount, currency)} {currency}"


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Columns padded to their widest cell; the first left-aligned, the others right."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    return [line(header), "  ".join("-" * width for width in widths), *map(line, rows)]


def render(kpis: KpisRead, abc: AbcSummaryRead) -> str:
    period = kpis.period
    currency = kpis.currency
    figures: list[tuple[str, str]] = [
        ("retention rate (CRR)", _rate(kpis.retention_rate)),
        ("  customers at start (S)", str(kpis.customers_at_start)),
        ("  customers at end (E)", str(kpis.customers_at_end)),
        ("  new customers (N)", str(kpis.new_customers)),
        ("repeat-purchase rate", _rate(kpis.repeat_purchase_rate)),
        ("  repeat customers", str(kpis.repeat_customers)),
        ("average order value", _money(kpis.average_order_value, currency)),
        ("  purchases", str(kpis.purchases)),
        ("  revenue", _money(kpis.revenue_minor, currency)),
        ("active members", str(kpis.active_members)),
        ("new members", str(kpis.new_members)),
        ("points issued", str(kpis.points_issued)),
        ("  of which adjustments", str(kpis.points_adjusted)),
        ("points redeemed", str(kpis.points_redeemed)),
        ("points expired", str(kpis.points_expired)),
        ("points outstanding", str(kpis.points_outstanding)),
        ("liability", _money(kpis.liability_minor, currency)),
        ("breakage rate", _rate(kpis.breakage_rate)),
    ]
    classes = [
        (
            abc_class.abc_class.value,
            str(abc_class.members),
            _money(abc_class.revenue_minor, currency),
            _rate(abc_class.revenue_share),
            _rate(abc_class.member_share),
        )
        for abc_class in abc.classes
    ]
    lines = [
        f"Figures {period.from_} to {period.to} (exclusive), {period.timezone}, {currency}",
        "",
        *_table(("figure", "value"), figures),
        "",
        f"ABC classes by revenue (A: top {abc.a_share} %, B: next {abc.b_share} %, C: rest)",
        "",
        *_table(("class", "members", "revenue", "revenue share", "member share"), classes),
        "",
    ]
    return "\n".join(lines)
