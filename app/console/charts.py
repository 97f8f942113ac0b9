"""The dashboard's charts as geometry: pure functions from numbers to SVG coordinates.

A chart is drawn by a template from what these functions return (bars as rectangles, a
line as points, axis ticks with their positions); nothing here knows about HTML, the
database or the reader's language. Coordinates are in the SVG's own units (its
``viewBox``); the page scales the whole drawing to its width.

Values are whole numbers or decimals (rates); any of them may be negative (points given
back in a bucket), and a series may be empty or all zeros: the drawing is then an empty
chart with a 0 to 1 axis, never a division by zero.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from math import ceil

Number = int | Decimal

# Round steps between ticks, per power of ten.
NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
TICKS = 4  # intervals on a value axis, about
MAX_LABELS = 8  # labels on a category axis, at most
BAR_SHARE = Decimal("0.8")  # of a category's band, the rest is space between categories


@dataclass(frozen=True, slots=True)
class Frame:
    """The drawing's size and the margins around its plot area (room for the axes' text)."""

    width: int = 640
    height: int = 240
    left: int = 56
    right: int = 12
    top: int = 12
    bottom: int = 28

    @property
    def plot_left(self) -> int:
        return self.left

    @property
    def plot_right(self) -> int:
        return self.width - self.right

    @property
    def plot_top(self) -> int:
        return self.top

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom

    @property
    def plot_width(self) -> int:
        return self.plot_right - self.plot_left

    @property
    def plot_height(self) -> int:
        return self.plot_bottom - self.plot_top


def coordinate(value: Decimal | float) -> float:
    """A coordinate as written into the SVG: two decimals are more than a screen shows."""
    return round(float(value), 2)


def nice_step(span: Decimal, intervals: int = TICKS, whole: bool = True) -> Decimal:
    """The smallest round step (1, 2, 2.5 or 5 times a power of ten) that covers ``span``
    in at most ``intervals`` steps; at least 1 for whole numbers."""
    if span <= 0:
        return Decimal(1)
    raw = span / intervals
    magnitude = Decimal(1).scaleb(raw.adjusted())
    step = next(magnitude * factor for factor in NICE_STEPS if magnitude * factor >= raw)
    if whole:
        step = max(Decimal(1), step.to_integral_value(rounding=ROUND_CEILING))
    return step.normalize()


def ticks(low: Number, high: Number, intervals: int = TICKS, whole: bool = True) -> list[Decimal]:
    """Round values from at most ``low`` to at least ``high``, 0 always among them (bars
    stand on it); ``[0, 1]`` when there is nothing to show."""
    low, high = min(Decimal(low), Decimal(0)), max(Decimal(high), Decimal(0))
    if low == high:
        return [Decimal(0), Decimal(1)]
    step = nice_step(high - low, intervals, whole)
    first = (low / step).to_integral_value(rounding=ROUND_FLOOR)
    last = (high / step).to_integral_value(rounding=ROUND_CEILING)
    return [(step * index).normalize() for index in range(int(first), int(last) + 1)]


@dataclass(frozen=True, slots=True)
class Scale:
    """Values from ``low`` to ``high`` onto the pixels from ``bottom`` up to ``top``."""

    low: Decimal
    high: Decimal
    bottom: float
    top: float

    def __call__(self, value: Number) -> float:
        share = (Decimal(value) - self.low) / (self.high - self.low)
        return coordinate(self.bottom - float(share) * (self.bottom - self.top))


@dataclass(frozen=True, slots=True)
class Tick:
    value: Decimal
    y: float


def value_axis(
    values: Sequence[Number | None], frame: Frame, whole: bool = True, at_least: Number = 0
) -> tuple[Scale, list[Tick]]:
    """The vertical scale for ``values`` (None left out) reaching at least ``at_least``,
    and its ticks."""
    present = [Decimal(value) for value in values if value is not None]
    marks = ticks(min(present, default=0), max([*present, Decimal(at_least)]), whole=whole)
    scale = Scale(marks[0], marks[-1], frame.plot_bottom, frame.plot_top)
    return scale, [Tick(mark, scale(mark)) for mark in marks]


@dataclass(frozen=True, slots=True)
class Band:
    """A category's place on the horizontal axis: from ``x`` over ``width``."""

    index: int
    x: float
    width: float

    @property
    def centre(self) -> float:
        return coordinate(self.x + self.width / 2)


def bands(count: int, frame: Frame) -> list[Band]:
    width = frame.plot_width / count if count else 0.0
    return [
        Band(index, coordinate(frame.plot_left + index * width), coordinate(width))
        for index in range(count)
    ]


def labelled(count: int, most: int = MAX_LABELS) -> list[int]:
    """Which of ``count`` categories get a label: every n-th from the first, at most
    ``most`` of them, so that labels do not overlap."""
    every = max(1, ceil(count / most))
    return list(range(0, count, every))


@dataclass(frozen=True, slots=True)
class Bar:
    """A rectangle from the zero line to the value, up for positive values, down below."""

    group: int
    series: int  # 1-based: the CSS class series-N
    value: Number
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class BarChart:
    frame: Frame
    bands: list[Band]
    bars: list[Bar]
    ticks: list[Tick]
    zero: float  # the y of the zero line
    labels: list[int]  # indexes of the bands that carry a label


def grouped_bars(groups: Sequence[Sequence[Number]], frame: Frame | None = None) -> BarChart:
    """One band per group, in it one bar per series side by side (series 1 first)."""
    frame = frame or Frame()
    scale, marks = value_axis([value for group in groups for value in group], frame)
    zero = scale(0)
    places = bands(len(groups), frame)
    bars = []
    for band, group in zip(places, groups, strict=True):
        if not group:
            continue
        bar_width = band.width * float(BAR_SHARE) / len(group)
        start = band.x + band.width * float(1 - BAR_SHARE) / 2
        for series, value in enumerate(group, start=1):
            top = scale(value)
            bars.append(
                Bar(
                    group=band.index,
                    series=series,
                    value=value,
                    x=coordinate(start + (series - 1) * bar_width),
                    y=min(top, zero),
                    width=coordinate(bar_width),
                    height=coordinate(abs(zero - top)),
                )
            )
    return BarChart(frame, places, bars, marks, zero, labelled(len(groups)))


@dataclass(frozen=True, slots=True)
class Point:
    index: int
    value: Number
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class LineChart:
    frame: Frame
    bands: list[Band]
    points: list[Point]  # the values that are there (a marker each)
    segments: list[str]  # SVG polyline ``points``: one per run of values without a gap
    ticks: list[Tick]
    labels: list[int]


def line(
    values: Sequence[Number | None],
    frame: Frame | None = None,
    *,
    whole: bool = False,
    at_least: Number = 0,
) -> LineChart:
    """A line through the values at their bands' centres; a missing value (None: a rate
    without a denominator) breaks the line."""
    frame = frame or Frame()
    scale, marks = value_axis(values, frame, whole=whole, at_least=at_least)
    places = bands(len(values), frame)
    points: list[Point] = []
    segments: list[str] = []
    run: list[str] = []
    for band, value in zip(places, values, strict=True):
        if value is None:
            if run:
                segments.append(" ".join(run))
            run = []
            continue
        point = Point(band.index, value, band.centre, scale(value))
        points.append(point)
        run.append(f"{point.x},{point.y}")
    if run:
        segments.append(" ".join(run))
    return LineChart(frame, places, points, segments, marks, labelled(len(values)))


@dataclass(frozen=True, slots=True)
class Row:
    """A labelled horizontal bar: the label above, the bar below it."""

    index: int
    value: Number
    label_y: float
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class RowChart:
    width: int
    height: int
    rows: list[Row]
    value_x: list[float]  # where each row's value is written: just after its bar


ROW_LABEL = 18  # height of the label line above a bar
ROW_BAR = 16
ROW_GAP = 10


def rows(values: Sequence[int], width: int = 640, value_room: int = 64) -> RowChart:
    """Horizontal bars, one per value, as long as the value relative to the largest; the
    drawing is as high as its rows need (``ROW_GAP`` high with none)."""
    largest = max([*values, 0])
    room = width - value_room
    placed: list[Row] = []
    for index, value in enumerate(values):
        top = ROW_GAP + index * (ROW_LABEL + ROW_BAR + ROW_GAP)
        length = room * value / largest if largest > 0 and value > 0 else 0
        placed.append(
            Row(
                index=index,
                value=value,
                label_y=top + ROW_LABEL - 5,
                x=0,
                y=top + ROW_LABEL,
                width=coordinate(length),
                height=ROW_BAR,
            )
        )
    height = ROW_GAP + len(values) * (ROW_LABEL + ROW_BAR + ROW_GAP)
    return RowChart(width, height, placed, [coordinate(row.width + 6) for row in placed])


@dataclass(frozen=True, slots=True)
class Segment:
    """A part of a 100 % bar: from ``x`` over ``width``."""

    index: int
    share: Decimal | None
    x: float
    width: float


def stacked(shares: Sequence[Decimal | None], width: float) -> list[Segment]:
    """Shares in percent laid end to end over ``width`` (a missing share is 0); when they
    add up to more than 100 (rounding), the bar is scaled to fit."""
    present = [max(share or Decimal(0), Decimal(0)) for share in shares]
    total = max(sum(present, Decimal(0)), Decimal(100))
    segments = []
    x = Decimal(0)
    for index, (share, part) in enumerate(zip(shares, present, strict=True)):
        length = Decimal(str(width)) * part / total
        segments.append(Segment(index, share, coordinate(x), coordinate(length)))
        x += length
    return segments
