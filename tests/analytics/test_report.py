"""`stammkunde report --from --to` prints the figures and the ABC classes as a table."""

from tests.analytics.helpers import day, noon
from tests.factories import enrol, purchase, stammkunde


async def test_the_report_prints_the_figures_of_the_api(app, client, admin, database, pos):
    anna = await enrol(client, pos, name="Anna")
    ben = await enrol(client, pos, name="Ben")
    await purchase(client, pos, anna, 3000, occurred_at=noon(10))  # 30 points
    await purchase(client, pos, anna, 2000, occurred_at=noon(5))  # 20 points
    await purchase(client, pos, ben, 1000, occurred_at=noon(100))  # 10 points
    start, end = day(30), day(-1)

    result = await stammkunde(
        database.url, "report", "--from", start.isoformat(), "--to", end.isoformat()
    )

    assert result.exit_code == 0, result.output
    # S = Ben (100 days ago), E = Anna and Ben, N = Anna: (2 - 1) / 1 = 100 %. Anna bought
    # twice: 50.00 in 2 purchases. Points: 30 + 20 + 10 issued, all still there.
    assert result.stdout == "\n".join(
        [
            f"Figures {start} to {end} (exclusive), Europe/Berlin, EUR",
            "",
            "figure                        value",
            "------------------------  ---------",
            "retention rate (CRR)       100.00 %",
            "  customers at start (S)          1",
            "  customers at end (E)            2",
            "  new customers (N)               1",
            "repeat-purchase rate       100.00 %",
            "  repeat customers                1",
            "average order value       25.00 EUR",
            "  purchases                       2",
            "  revenue                 50.00 EUR",
            "active members                    1",
            "new members                       2",
            "points issued                    60",
            "  of which adjustments            0",
            "points redeemed                   0",
            "points expired                    0",
            "points outstanding               60",
            "liability                  0.60 EUR",
            "breakage rate                0.00 %",
            "",
            "ABC classes by revenue (A: top 80 %, B: next 15 %, C: rest)",
            "",
            "class  members    revenue  revenue share  member share",
            "-----  -------  ---------  -------------  ------------",
            "A            1  50.00 EUR       100.00 %      100.00 %",
            "B            0   0.00 EUR         0.00 %        0.00 %",
            "C            0   0.00 EUR         0.00 %        0.00 %",
            "",
        ]
    )


async def test_the_report_refuses_a_period_that_does_not_end_after_it_starts(app, database):
    result = await stammkunde(database.url, "report", "--from", "2026-02-01", "--to", "2026-01-01")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "must end after it starts" in result.stderr


async def test_the_report_needs_dates(app, database):
    result = await stammkunde(database.url, "report", "--from", "January", "--to", "2026-01-01")

    assert result.exit_code == 2
    assert result.stdout == ""
