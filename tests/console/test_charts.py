"""The charts' geometry: worked examples of scales, ticks, bars, lines, rows and shares."""

from decimal import Decimal

from app.console import charts

FRAME = charts.Frame(width=200, height=120, left=40, right=0, top=10, bottom=10)  # plot 160x100


def test_ticks_are_round_numbers_that_cover_the_values_and_zero():
    assert charts.ticks(0, 85) == [0, 25, 50, 75, 100]
    assert charts.ticks(0, 3) == [0, 1, 2, 3]
    assert charts.ticks(0, 7) == [0, 2, 4, 6, 8]
    assert charts.ticks(-5, 30) == [-10, 0, 10, 20, 30]
    assert charts.ticks(-20, -5) == [-20, -15, -10, -5, 0]  # 0 is always there
    assert charts.ticks(0, 1_234_567) == [0, 500_000, 1_000_000, 1_500_000]
    # Rates may have fractions; whole numbers never get a step below 1.
    assert charts.ticks(0, Decimal("0.4"), whole=False) == [
        0,
        Decimal("0.1"),
        Decimal("0.2"),
        Decimal("0.3"),
        Decimal("0.4"),
    ]
    assert charts.ticks(0, Decimal("0.4")) == [0, 1]


def test_nothing_to_show_is_an_axis_from_0_to_1():
    assert charts.ticks(0, 0) == [0, 1]
    assert charts.nice_step(Decimal(0)) == 1


def test_a_scale_puts_the_lowest_tick_at_the_bottom_and_the_highest_at_the_top():
    scale, marks = charts.value_axis([30, 85], FRAME)

    assert [tick.value for tick in marks] == [0, 25, 50, 75, 100]
    assert [tick.y for tick in marks] == [110, 85, 60, 35, 10]
    assert scale(85) == 25  # 110 - 85 % of 100
    assert scale(0) == 110


def test_grouped_bars_stand_side_by_side_in_their_band_on_the_zero_line():
    chart = charts.grouped_bars([[30, 10], [-10, 0]], FRAME)

    # Ticks -10 to 30: 40 units over 100 px, 2.5 px a unit; zero at 10 + 30 * 2.5 = 85.
    assert [tick.value for tick in chart.ticks] == [-10, 0, 10, 20, 30]
    assert chart.zero == 85
    # Two bands of 80 px from x = 40; the bars take 80 % of a band: 32 px each, 8 px in.
    assert [(band.x, band.width) for band in chart.bands] == [(40, 80), (120, 80)]
    assert [(bar.group, bar.series, bar.x, bar.y, bar.width, bar.height) for bar in chart.bars] == [
        (0, 1, 48, 10, 32, 75),  # 30 up from the zero line
        (0, 2, 80, 60, 32, 25),
        (1, 1, 128, 85, 32, 25),  # -10 hangs below it
        (1, 2, 160, 85, 32, 0),
    ]


def test_an_empty_bar_chart_has_an_axis_and_no_bars():
    chart = charts.grouped_bars([], FRAME)

    assert (chart.bars, chart.bands, chart.labels) == ([], [], [])
    assert [tick.value for tick in chart.ticks] == [0, 1]
    assert chart.zero == 110


def test_all_zeros_draw_flat_bars_on_an_axis_from_0_to_1():
    chart = charts.grouped_bars([[0, 0, 0]] * 3, FRAME)

    assert {bar.height for bar in chart.bars} == {0}
    assert {bar.y for bar in chart.bars} == {110}


def test_at_most_eight_categories_are_labelled():
    assert charts.labelled(5) == [0, 1, 2, 3, 4]
    assert charts.labelled(8) == list(range(8))
    assert charts.labelled(9) == [0, 2, 4, 6, 8]
    assert charts.labelled(31) == [0, 4, 8, 12, 16, 20, 24, 28]
    assert charts.labelled(0) == []


def test_a_line_goes_through_the_band_centres_and_breaks_where_a_value_is_missing():
    chart = charts.line([Decimal("50"), None, Decimal("100"), Decimal("75")], FRAME, at_least=100)

    # Four bands of 40 px from x = 40: centres 60, 100, 140, 180; 0 to 100 % over 100 px.
    assert [(point.index, point.x, point.y) for point in chart.points] == [
        (0, 60, 60),
        (2, 140, 10),
        (3, 180, 35),
    ]
    assert chart.segments == ["60.0,60.0", "140.0,10.0 180.0,35.0"]
    assert [tick.value for tick in chart.ticks] == [0, 25, 50, 75, 100]


def test_a_line_of_no_values_is_an_empty_chart_reaching_what_it_must():
    chart = charts.line([None, None], FRAME, at_least=100)

    assert (chart.points, chart.segments) == ([], [])
    assert [tick.value for tick in chart.ticks] == [0, 25, 50, 75, 100]
    assert charts.line([], FRAME).ticks[-1].value == 1


def test_rows_are_as_long_as_their_value_against_the_largest():
    chart = charts.rows([4, 1, 0], width=264, value_room=64)

    assert [row.width for row in chart.rows] == [200, 50, 0]
    assert [row.y for row in chart.rows] == [28, 72, 116]  # 10 + 18, then 44 a row
    assert chart.value_x == [206, 56, 6]
    assert chart.height == 10 + 3 * 44


def test_rows_of_nothing_have_no_length():
    assert [row.width for row in charts.rows([0, 0]).rows] == [0, 0]
    assert charts.rows([]).height == 10


def test_shares_are_laid_end_to_end():
    segments = charts.stacked([Decimal("50"), Decimal("30"), Decimal("20")], 200)

    assert [(segment.x, segment.width) for segment in segments] == [(0, 100), (100, 60), (160, 40)]


def test_missing_shares_are_empty_and_rounded_shares_over_100_fit():
    assert [s.width for s in charts.stacked([None, None, None], 200)] == [0, 0, 0]
    over = charts.stacked([Decimal("33.34"), Decimal("33.34"), Decimal("33.34")], 300)
    assert over[-1].x + over[-1].width == 300
