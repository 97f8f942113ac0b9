"""The dashboard: the figures of a chosen period, formatted for the reader, with charts.

The data set (tests/analytics/dated.py) writes its ledger entries on different days; the
figures of its last 30 days and today are worked out there and in tests/analytics.
"""

import re
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from app.console.i18n import NOTHING, Formatter
from app.program.calendar import add_months
from tests.analytics.dated import build_dated_data_set
from tests.analytics.helpers import day, period
from tests.console.conftest import ConsoleClient

NBSP = "\xa0"
ENGLISH = Formatter("en", "Europe/Berlin")
ASCII_SPACE = re.compile(r"[ \t\n\r\f]+")


class Element:
    def __init__(self, tag: str, attrs: dict[str, str], parent: "Element | None") -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element | str] = []

    @property
    def text(self) -> str:
        """The text inside, white space collapsed (a no-break space is not white space)."""
        parts = [child if isinstance(child, str) else child.text for child in self.children]
        return ASCII_SPACE.sub(" ", " ".join(parts)).strip()

    def child(self, tag: str) -> "Element":
        return next(c for c in self.children if isinstance(c, Element) and c.tag == tag)

    def all(self, tag: str | None = None, **attrs: str) -> list["Element"]:
        found = []
        for child in self.children:
            if isinstance(child, Element):
                wanted = {name.replace("_", "-"): value for name, value in attrs.items()}
                if (tag is None or child.tag == tag) and all(
                    child.attrs.get(name) == value for name, value in wanted.items()
                ):
                    found.append(child)
                found += child.all(tag, **attrs)
        return found

    def one(self, tag: str | None = None, **attrs: str) -> "Element":
        found = self.all(tag, **attrs)
        assert len(found) == 1, (tag, attrs, len(found))
        return found[0]

    def rows(self) -> list[list[str]]:
        """A table's rows, each as the text of its cells."""
        return [
            [cell.text for cell in row.children if isinstance(cell, Element)]
            for row in self.all("tr")
        ]


VOID = {"input", "br", "img", "meta", "link", "hr", "circle", "line", "rect", "polyline"}


class Tree(HTMLParser):
    """Just enough of a DOM to find elements by tag and attributes and read their text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.root = Element("document", {}, None)
        self.current = self.root
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(
            Element(tag, {name: value or "" for name, value in attrs}, self.current)
        )

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def page(response: httpx.Response) -> Element:
    return Tree(response.text).root


def kpi(document: Element, key: str) -> str:
    return document.one(id=f"kpi-{key}").all("dd")[0].text


def chart(document: Element, name: str) -> tuple[Element, Element]:
    """The chart's SVG and its figure."""
    svg = document.one("svg", data_chart=name)
    figure = svg.parent
    assert figure is not None
    assert (figure.tag, figure.attrs["class"]) == ("figure", "chart")
    assert svg.attrs["role"] == "img"
    assert svg.attrs["aria-label"] == svg.child("title").text
    assert figure.one("figcaption").text
    return svg, figure


def table(figure: Element) -> dict[str, list[str]]:
    """The chart's data table: each row's first cell to its other cells."""
    details = figure.one("details", **{"class": "data"})
    return {cells[0]: cells[1:] for cells in details.one("table").rows()}


LAST_30_DAYS = period(day(29), day(-1))
PERIOD = period(day(30), day(-1))


async def dashboard(console: ConsoleClient, params: dict[str, Any] | None = None) -> Element:
    response = await console.get("/admin/dashboard", params=params)
    assert response.status_code == 200, response.text
    return page(response)


async def in_german(console: ConsoleClient) -> None:
    response = await console.get("/admin/language/de", params={"next": "/admin/dashboard"})
    assert response.status_code == 303


async def test_the_figures_of_a_period_formatted_in_english(app, client, admin, pos, console):
    await build_dated_data_set(app, client, admin, pos)

    document = await dashboard(console, PERIOD)

    assert document.one("h1").text == "Dashboard"
    # S: Clara, Dan, Finn bought in the year before the period; E: Anna, Ben, Dan in the
    # year before its end (Clara and Finn lapsed); N: Anna. (3 - 1) / 3 = 66.67 %.
    assert kpi(document, "retention-rate") == "66.67%"
    assert kpi(document, "repeat-purchase-rate") == "50%"  # Anna twice, Ben once
    assert kpi(document, "average-order-value") == "€20.00"  # (30 + 20 + 15 - 5) / 3
    assert kpi(document, "active-members") == "2"
    # Anna and Eva (erased since); Gus, merged into Dan, was never a member of his own.
    assert kpi(document, "new-members") == "2"
    assert kpi(document, "points-issued") == "85"  # 30 + 20 + 15 - 5 + 25 goodwill
    assert kpi(document, "points-redeemed") == "40"
    assert kpi(document, "points-expired") == "9"
    # Anna 10, Ben 10, Clara 10, Dan 35, Finn 10 points, a point worth 0.25.
    assert kpi(document, "points-outstanding") == "75"
    assert kpi(document, "breakage-rate") == "10.59%"  # 9 / 85
    liability = document.one("section", aria_labelledby="liability-heading")
    assert liability.one("h2").text == "Outstanding points liability"
    assert liability.one(id="kpi-liability").text == "€18.75"
    assert "75 points outstanding" in liability.text


async def test_the_figures_in_german(app, client, admin, pos, console):
    await build_dated_data_set(app, client, admin, pos)
    await in_german(console)

    document = await dashboard(console, PERIOD)

    assert document.one("html").attrs["lang"] == "de"
    assert kpi(document, "retention-rate") == f"66,67{NBSP}%"
    assert kpi(document, "average-order-value") == f"20,00{NBSP}€"
    assert kpi(document, "breakage-rate") == f"10,59{NBSP}%"
    assert document.one(id="kpi-liability").text == f"18,75{NBSP}€"
    assert document.one("section", aria_labelledby="liability-heading").one("h2").text == (
        "Offene Punkteverbindlichkeit"
    )
    assert document.one("label", **{"for": "from"}).text.startswith("Von")
    assert document.one("label", **{"for": "to"}).text.startswith("Bis")
    _, flow = chart(document, "points-flow")
    assert table(flow)["Summe"] == ["85", "40", "9"]


async def test_points_issued_redeemed_and_expired_per_day(app, client, admin, pos, console):
    await build_dated_data_set(app, client, admin, pos)

    document = await dashboard(console, PERIOD)

    svg, figure = chart(document, "points-flow")
    assert figure.one("figcaption").text == "Points issued, redeemed and expired per day"
    assert "85 points issued, 40 redeemed and 9 expired" in svg.attrs["aria-label"]
    rows = table(figure)
    assert rows["Period"] == ["Issued", "Redeemed", "Expired"]
    assert rows["Total"] == ["85", "40", "9"]
    assert len(rows) == 31 + 2  # a row a day, the header and the total
    english_day = "{d:%b} {d.day}, {d.year}".format
    assert rows[english_day(d=day(20))] == ["30", "0", "0"]
    assert rows[english_day(d=day(4))] == ["0", "40", "0"]
    assert rows[english_day(d=day(3))] == ["-5", "0", "0"]
    assert rows[english_day(d=day(2))] == ["0", "0", "9"]
    # A bar per series and day; the legend names the series.
    assert len(svg.all("rect")) == 31 * 3
    assert [item.text for item in figure.one("ul", **{"class": "legend"}).all("li")] == [
        "Issued",
        "Redeemed",
        "Expired",
    ]


async def test_a_long_period_shows_points_per_month(app, client, admin, pos, console):
    await build_dated_data_set(app, client, admin, pos)
    this_month = day(0).replace(day=1)
    start = add_months(this_month, -11)

    document = await dashboard(console, period(start, day(-1)))

    _, figure = chart(document, "points-flow")
    assert figure.one("figcaption").text == "Points issued, redeemed and expired per month"
    rows = table(figure)
    assert len(rows) == 12 + 2
    # Dan's 10 points of day 200 too; the entries of days 380 and 800 are older.
    assert rows["Total"] == ["95", "40", "9"]
    assert f"{start:%b} {start.year}" in rows  # fmt.month: "Jan 2026"


async def test_members_by_tier(app, client, admin, pos, console):
    await build_dated_data_set(app, client, admin, pos)

    document = await dashboard(console, PERIOD)

    svg, figure = chart(document, "members-by-tier")
    # Anna earned Silver, Clara holds Gold by hand; Gus (merged) and Eva (erased) are gone.
    assert table(figure) == {
        "Tier": ["Members"],
        "Silver": ["1"],
        "Gold": ["1"],
        "No tier": ["3"],
        "All active members": ["5"],
    }
    assert svg.attrs["aria-label"] == "5 active members by tier: Silver: 1, Gold: 1, No tier: 3."


async def test_abc_revenue_shares(app, client, admin, pos, console):
    await build_dated_data_set(app, client, admin, pos)

    document = await dashboard(console, PERIOD)

    svg, figure = chart(document, "abc")
    # Anna 50.00 of 60.00 (83.33 %, past the 80 % of A), Ben 10.00.
    assert table(figure) == {
        "Class": ["Members", "Revenue", "Revenue share", "Member share"],
        "A": ["1", "€50.00", "83.33%", "50%"],
        "B": ["1", "€10.00", "16.67%", "50%"],
        "C": ["0", "€0.00", "0%", "0%"],
        "Total": ["2", "€60.00", "", ""],
    }
    assert svg.attrs["aria-label"] == (
        "Revenue share of class A 83.33%, class B 16.67%, class C 0%."
    )


async def test_retention_by_month_is_the_figure_of_each_month(app, client, admin, pos, console):
    await build_dated_data_set(app, client, admin, pos)

    document = await dashboard(console, PERIOD)

    svg, figure = chart(document, "retention")
    rows = table(figure)
    assert rows.pop("Month") == [
        "Retention rate",
        "Customers at start (S)",
        "Customers at end (E)",
        "New customers (N)",
    ]
    assert len(rows) == 12
    # The 12 months up to this one, this one until the period's end; each as the figures
    # of that month alone say.
    this_month = day(0).replace(day=1)
    months = [add_months(this_month, -back) for back in range(11, -1, -1)]
    for first, (name, cells) in zip(months, rows.items(), strict=True):
        end = min(add_months(first, 1), day(-1))
        response = await client.get("/v1/analytics/kpis", params=period(first, end), headers=admin)
        figures = response.json()
        assert cells == [
            ENGLISH.percent(figures["retention_rate"]),
            str(figures["customers_at_start"]),
            str(figures["customers_at_end"]),
            str(figures["new_customers"]),
        ], name
    assert len(svg.all("circle")) == sum(1 for cells in rows.values() if cells[0] != NOTHING)


async def test_an_empty_programme_draws_empty_charts(console):
    document = await dashboard(console)

    assert kpi(document, "retention-rate") == NOTHING
    assert document.one(id="kpi-liability").text == "€0.00"
    for name in ("points-flow", "members-by-tier", "abc", "retention"):
        chart(document, name)
    _, flow = chart(document, "points-flow")
    assert table(flow)["Total"] == ["0", "0", "0"]


async def test_the_period_is_the_last_30_days_unless_chosen(console):
    document = await dashboard(console)

    assert document.one("input", id="from").attrs["value"] == day(29).isoformat()
    assert document.one("input", id="to").attrs["value"] == day(-1).isoformat()
    assert document.one("label", **{"for": "from"}).text.startswith("From")
    assert document.one("label", **{"for": "to"}).text.startswith("To")
    assert document.one("form", **{"class": "inline period-form"}).one("button").text == "Show"
    presets = {link.text: link for link in document.one("nav", **{"class": "presets"}).all("a")}
    assert list(presets) == [
        "Last 30 days",
        "This month",
        "Last month",
        "This year",
        "Last 12 months",
    ]
    assert presets["Last 30 days"].attrs["href"] == "/admin/dashboard?" + urlencode(LAST_30_DAYS)
    assert presets["Last 30 days"].attrs.get("aria-current") == "true"
    this_month = day(0).replace(day=1)
    assert presets["Last month"].attrs["href"] == "/admin/dashboard?" + urlencode(
        period(add_months(this_month, -1), this_month)
    )
    assert "aria-current" not in presets["Last month"].attrs
    assert presets["This year"].attrs["href"] == "/admin/dashboard?" + urlencode(
        period(date(day(0).year, 1, 1), day(-1))
    )
    table(chart(document, "points-flow")[1])  # the default period has its figures
    assert len(table(chart(document, "points-flow")[1])) == 30 + 2


async def test_a_preset_shows_its_period(console):
    this_month = day(0).replace(day=1)
    last_month = period(add_months(this_month, -1), this_month)

    document = await dashboard(console, last_month)

    presets = {link.text: link for link in document.one("nav", **{"class": "presets"}).all("a")}
    assert presets["Last month"].attrs.get("aria-current") == "true"
    last_day = this_month - timedelta(days=1)
    assert (
        f"{last_day:%b} {last_day.day}, {last_day.year}"
        in document.one("p", **{"class": "period-shown"}).text
    )


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2026-03-10", "to": "2026-03-10"}, "to", "Must be after the first day."),
        ({"from": "2026-03-10", "to": "2026-03-01"}, "to", "Must be after the first day."),
        ({"from": "2026-13-01", "to": "2026-03-01"}, "from", "Enter a date (YYYY-MM-DD)."),
        ({"from": "yesterday", "to": "2026-03-01"}, "from", "Enter a date (YYYY-MM-DD)."),
        ({"from": "2026-03-01"}, "to", "Required."),
        ({"from": "2026-03-01", "to": ""}, "to", "Required."),
        ({"from": "0001-01-01", "to": "2026-03-01"}, "from", "Must be at least 1970-01-01."),
        (
            {"from": "1970-01-01", "to": "9999-12-31"},
            "from",
            "The period is too long to show: choose a shorter one.",
        ),
    ],
)
async def test_an_invalid_period_is_shown_next_to_its_field(console, params, field, message):
    response = await console.get("/admin/dashboard", params=params)

    assert response.status_code == 422
    document = page(response)
    assert document.one("p", id=f"{field}-error").text == message
    assert document.one("input", id=field).attrs["aria-invalid"] == "true"
    assert document.one("input", id="from").attrs["value"] == params["from"]
    assert document.all("figure") == []


async def test_an_invalid_period_in_german(console):
    await in_german(console)

    response = await console.get(
        "/admin/dashboard", params={"from": "2026-03-10", "to": "2026-03-01"}
    )

    assert response.status_code == 422
    assert page(response).one("p", id="to-error").text == "Muss nach dem ersten Tag liegen."


async def test_the_dashboard_needs_a_login(anonymous_console):
    response = await anonymous_console.get("/admin/dashboard", params=PERIOD)

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=" + (
        "%2Fadmin%2Fdashboard%3F" + urlencode(PERIOD).replace("=", "%3D").replace("&", "%26")
    )
