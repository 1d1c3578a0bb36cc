"""The dashboards' trend charts: a registry of charts, the period a reader chooses, and the
SVG the server draws (no script, no CDN), with the same figures as a table and as exports.

An app registers a ``Chart`` (from its ``ready()``); ``figures(request, period)`` answers
None when the reader may not open what it counts, so the chart, its table and its exports
exist only for whoever may see the rows (the changelists' own permission checks).
"""

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.core.cache import cache
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.functional import Promise
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Period:
    key: str
    label: "StrOrPromise"
    days: int
    grain: str  # "day" or "week": the width of a bar


PERIODS = {
    p.key: p
    for p in (
        Period("30d", _("30 days"), 30, "day"),
        Period("quarter", _("A quarter"), 91, "day"),
        Period("year", _("A year"), 364, "week"),
    )
}
DEFAULT_PERIOD = "30d"


def period_of(request) -> Period:
    return PERIODS.get(request.GET.get("period", ""), PERIODS[DEFAULT_PERIOD])


def days_of(period: Period) -> tuple[datetime, datetime, list[date]]:
    """The period's first local midnight, the next one after today, and its days."""
    today = timezone.localdate()
    first = today - timedelta(days=period.days - 1)
    days = [first + timedelta(days=i) for i in range(period.days)]
    return midnight(first), midnight(today + timedelta(days=1)), days


def midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class Series:
    key: str
    label: "StrOrPromise"
    color: str
    overlay: bool = False  # drawn over the first series (a part of it: the failures)
    marker: bool = False  # drawn as a line across its bar (a target: a promised turnaround)


@dataclass
class Figures:
    """What a chart shows: one label per bar, and per series its value at each bar (a count,
    or a Decimal amount)."""

    buckets: Sequence[object]  # dates (a day, a week's Monday), datetimes (an hour) or names (a month)
    values: dict[str, list]
    # The series found in the figures themselves (one per currency found, say), when the
    # chart's own are not known before they are read; None: the chart's.
    series: tuple[Series, ...] | None = None


def series_of(chart: "Chart", figures: Figures) -> tuple[Series, ...]:
    return figures.series if figures.series is not None else chart.series


@dataclass(frozen=True)
class Chart:
    name: str  # the exports' address and file name
    title: "StrOrPromise"
    description: "StrOrPromise"
    unit: "StrOrPromise"  # what the vertical axis counts
    bucket_label: "StrOrPromise"  # the table's first column: day, week, hour
    series: tuple[Series, ...]
    figures: Callable[[object, Period], Figures | None]
    hourly: bool = False  # buckets are hours, whatever the period
    # One bar per bucket, each series stacked on the ones before it (the parts of a whole:
    # what became of the leavers of a month), instead of a bar per series side by side.
    stacked: bool = False


_charts: dict[str, Chart] = {}


def register(chart: Chart) -> Chart:
    _charts[chart.name] = chart
    return chart


def names() -> list[str]:
    """Every chart registered, by name (what its exports' URLs carry)."""
    return list(_charts)


def by_week(days: list[date], values: dict[str, list[int]]) -> Figures:
    """Days summed into weeks starting on Monday (a year's 52 bars)."""
    weeks: list[date] = []
    summed: dict[str, list[int]] = {key: [] for key in values}
    for i, day in enumerate(days):
        monday = day - timedelta(days=day.weekday())
        if not weeks or weeks[-1] != monday:
            weeks.append(monday)
            for key in summed:
                summed[key].append(0)
        for key in summed:
            summed[key][-1] += values[key][i]
    return Figures(weeks, summed)


def over_days(period: Period, found: Mapping[str, Mapping[Any, int]]) -> Figures:
    """Each series' counts on the period's days (``found``: series → day → count, a day not
    found counts 0), by week for a year: what every daily chart returns."""
    _start, _end, days = days_of(period)
    listed = {key: [counts.get(day, 0) for day in days] for key, counts in found.items()}
    return by_week(days, listed) if period.grain == "week" else Figures(list(days), listed)


def bucket_text(chart: Chart, period: Period, bucket) -> str:
    if isinstance(bucket, str | Promise):  # a name (a kind, an endpoint), in the reader's language
        return str(bucket)
    if isinstance(bucket, datetime):
        return date_format(timezone.localtime(bucket), "m-d H:i")
    text = date_format(bucket, "Y-m-d")
    if period.grain == "week" and not chart.hourly:
        return str(_("week of %(day)s") % {"day": text})
    return text


# The drawing: 1366x768 leaves the dashboard's column about 580 px; the SVG scales to it (0.8),
# so its 13 px text reads at about 10.5 px. Room for 1,000,000 beside the axis's unit, and
# below the plot for the bars' labels (clear of the vertical axis's 0) and the legend.
WIDTH, HEIGHT = 720, 236
LEFT, RIGHT, TOP, BOTTOM = 84, 8, 12, 52
FONT = 13
# Up to this many bars, each has its label (kinds, endpoints, months: told apart by it alone),
# on two staggered rows when one is too narrow for them, shortened to fit; more bars (days,
# hours, weeks) are labelled at most eight times.
LABEL_EVERY_BAR_UP_TO = 16
LEGEND_LINE = 20  # a legend too long for one line goes on
NOTHING_IN_PERIOD = _("Nothing in this period.")
STAGGER = 20  # the second row's drop: a CJK line box is about 1.45 em


def _ticks(peak) -> list[int]:
    """0 and up to four round steps reaching at least ``peak`` (an amount is rounded up)."""
    peak = math.ceil(peak)
    if peak <= 0:
        return [0, 1]
    step = 1
    while step * 4 < peak:
        for factor in (2, 2.5, 2):
            step = int(step * factor)
            if step * 4 >= peak:
                break
    top = -(-peak // step) * step
    return list(range(0, top + 1, step))


def svg(chart: Chart, period: Period, figures: Figures) -> SafeString:
    """The chart as SVG: role="img" with its title and a description that says what the
    figures are, the bars of each series, the axes with their units."""
    n = max(1, len(figures.buckets))
    drawn_series = series_of(chart, figures)
    # Stacked from the bottom: the overlays over the first series, or every series (``stacked``).
    overlays = [s.key for s in drawn_series if s.overlay or chart.stacked]
    # Side by side in each slot; a marker is a line across the slot, not a bar.
    beside = [s.key for s in drawn_series if not s.overlay and not s.marker][: 1 if chart.stacked else None]
    stacked = [sum(figures.values[k][i] for k in overlays) for i in range(len(figures.buckets))]
    drawn_whole = [
        v for s in drawn_series if not (s.overlay or chart.stacked) for v in figures.values.get(s.key, [])
    ]
    ticks = _ticks(max([*drawn_whole, *stacked], default=0))
    top = ticks[-1] or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / n
    bar = max(1.0, slot * 0.8 / max(1, len(beside)))

    def y(v) -> float:
        return TOP + plot_h - plot_h * float(v) / top

    labels = _bar_labels(figures.buckets, slot)
    staggered = any(row for _i, row, _text in labels)
    legend = _legend(drawn_series)
    legend_lines = 1 + max((line for _x, line, _s in legend), default=0)
    height = HEIGHT + (STAGGER if staggered else 0) + (legend_lines - 1) * LEGEND_LINE
    ident = f"trend-{chart.name}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" class="trend-chart" '
        f'style="width: 100%; height: auto; max-width: 100%; font: {FONT}px sans-serif;">',
        f'<title id="{ident}-title">{escape(chart.title)}</title>',
        f'<desc id="{ident}-desc">{escape(chart.description)}</desc>',
    ]
    out.append('<g class="trend-grid">')
    for tick in ticks:
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            'stroke="currentColor" stroke-opacity="0.15"/>'
        )
    out.append('</g><g class="trend-axis-y">')
    for tick in ticks:
        out.append(
            f'<text x="{LEFT - 4}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="currentColor">'
            f"{escape(number_format(tick, force_grouping=True))}</text>"
        )
    out.append('</g><g class="trend-unit">')
    out.append(
        f'<text transform="translate(16 {TOP + plot_h / 2:.0f}) rotate(-90)" text-anchor="middle" '
        f'fill="currentColor">{escape(chart.unit)}</text>'
    )
    out.append('</g><g class="trend-bars">')
    base = [0] * n  # the overlays stack from the bottom, narrower, over the first series
    for series in drawn_series:
        values = figures.values.get(series.key, [])
        on_top = series.overlay or chart.stacked  # on what is drawn in its slot already
        width = bar if not series.overlay else bar * 0.6
        # The first series' place (the overlays' too), or its own beside the others'.
        place = beside.index(series.key) if series.key in beside and not chart.stacked else 0
        for i, v in enumerate(values):
            if not v:
                continue
            below = base[i] if on_top else 0
            x = LEFT + slot * i + (slot - bar * len(beside)) / 2 + bar * place + (bar - width) / 2
            if series.marker:
                out.append(
                    f'<line x1="{LEFT + slot * i:.1f}" x2="{LEFT + slot * (i + 1):.1f}" y1="{y(v):.1f}" '
                    f'y2="{y(v):.1f}" stroke="{series.color}" stroke-width="2"/>'
                )
                continue
            out.append(
                f'<rect x="{x:.1f}" y="{y(below + v):.1f}" width="{width:.1f}" '
                f'height="{y(below) - y(below + v):.1f}" fill="{series.color}"/>'
            )
            if on_top:
                base[i] += v
    out.append('</g><g class="trend-axis-x">')
    for i, row, text in labels:
        x = LEFT + slot * i + slot / 2
        out.append(
            f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 24 + row * STAGGER}" text-anchor="middle" '
            f'fill="currentColor">{escape(text)}</text>'
        )
    out.append('</g><g class="trend-legend">')
    if not legend:  # series found in the figures (a currency, a run): none in this period
        out.append(
            f'<text x="{LEFT}" y="{height - 5}" fill="currentColor">{escape(NOTHING_IN_PERIOD)}</text>'
        )
    for legend_x, line, series in legend:
        bottom = height - (legend_lines - 1 - line) * LEGEND_LINE
        out.append(
            f'<rect x="{legend_x}" y="{bottom - 15}" width="10" height="10" fill="{series.color}"/>'
            f'<text x="{legend_x + 14}" y="{bottom - 5}" fill="currentColor">{escape(series.label)}</text>'
        )
    out.append("</g></svg>")
    return mark_safe("".join(out))  # noqa: S308  (every text above is escaped)


def _legend(series: Sequence[Series]) -> list[tuple[int, int, Series]]:
    """(x, line, series) of the legend's entries: on as many lines as the chart's width needs."""
    out, x, line = [], LEFT, 0
    for s in series:
        width = 14 + _text_width(str(s.label))
        if x > LEFT and x + width > WIDTH - RIGHT:
            x, line = LEFT, line + 1
        out.append((x, line, s))
        x += width + 24
    return out


def _bar_labels(buckets: Sequence[object], slot: float) -> list[tuple[int, int, str]]:
    """(bar, row, text) of the horizontal axis's labels: see LABEL_EVERY_BAR_UP_TO."""
    n = len(buckets)
    if n > LABEL_EVERY_BAR_UP_TO:
        every = -(-n // 8)
        return [(i, 0, _short(b)) for i, b in enumerate(buckets) if i % every == 0]
    texts = [_short(b) for b in buckets]
    if all(_text_width(t) <= slot - 8 for t in texts):
        return [(i, 0, t) for i, t in enumerate(texts)]
    # Two rows: a label's neighbours on its row are two bars away; the last one has only its
    # bar's width and the margin before the chart's right edge.
    rooms = [2 * slot - 8] * (n - 1) + [min(2 * slot - 8, slot + 2 * RIGHT - 4)]
    return [(i, i % 2, _fitted(t, room)) for i, (t, room) in enumerate(zip(texts, rooms, strict=True))]


def _fitted(text: str, room: float) -> str:
    """``text``, cut with an ellipsis to about ``room`` wide (the table under the chart has it whole)."""
    if _text_width(text) <= room:
        return text
    while text and _text_width(text + "…") > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _text_width(text: str) -> int:
    """About how wide ``text`` is at FONT px: a CJK character is a square, a Latin one not much
    more than half of it (wide enough for capitals)."""
    return sum(FONT if ord(ch) > 0x2E7F else 8 for ch in text)


def _short(bucket) -> str:
    if isinstance(bucket, str | Promise):  # a name: cut to about 90 px (the table has it whole)
        text = str(bucket)
        while _text_width(text) > 90:
            text = text[:-2] + "…"
        return text
    if isinstance(bucket, datetime):
        return date_format(timezone.localtime(bucket), "H:i")
    return date_format(bucket, "m-d")


@dataclass
class Drawn:
    chart: Chart
    svg: SafeString
    rows: list[tuple[str, list]]
    series: tuple[Series, ...]


# The rollups change once a minute (the recomputation's beat): a group of readers' figures are
# kept as long, so the dashboard opened again, or exported, costs no query for its charts.
CACHE_SECONDS = 60
_HIDDEN = "hidden"


def group_of(user) -> str:
    """Readers who see the same figures: a chart decides what it shows by the reader's
    permissions alone (its changelists' view permissions, the event types a role may open), so
    readers holding the same permissions share what is kept for them. A superuser holds them all."""
    if user.is_superuser:
        return "superuser"
    held = "\n".join(sorted(user.get_all_permissions()))
    return hashlib.blake2b(held.encode(), digest_size=12).hexdigest()


def figures_key(name: str, period_key: str, group: str) -> str:
    """Where a group of readers' figures of a chart and period are kept."""
    return f"trends:{name}:{period_key}:{group}"


def forget(group: str, period_key: str) -> None:
    """The group's figures of a period are read anew at their next use."""
    cache.delete_many([figures_key(name, period_key, group) for name in _charts])


def figures_for(request, chart: Chart, period: Period) -> Figures | None:
    """``chart.figures``, kept a minute per group of readers."""
    key = figures_key(chart.name, period.key, group_of(request.user))
    found = cache.get(key)
    if found is None:
        found = chart.figures(request, period) or _HIDDEN
        cache.set(key, found, CACHE_SECONDS)
    return None if found == _HIDDEN else found


def drawn(request) -> list[Drawn]:
    """The charts this reader may see, for the period they chose, drawn (kept drawn by
    ``sections``)."""
    period = period_of(request)
    out = []
    for chart in _charts.values():
        figures = figures_for(request, chart, period)
        if figures is None:
            continue
        shown = series_of(chart, figures)
        rows = [
            (bucket_text(chart, period, b), [figures.values[s.key][i] for s in shown])
            for i, b in enumerate(figures.buckets)
        ]
        out.append(Drawn(chart, svg(chart, period, figures), rows, shown))
    return out


def export(request, name: str, fmt: str):
    """A chart's figures as CSV or Excel, for the period chosen; 404 for a chart the reader
    may not see (as for one that does not exist)."""
    from django.http import Http404

    from hireops.core.spreadsheets import export as spreadsheets

    chart = _charts.get(name)
    figures = chart.figures(request, period_of(request)) if chart else None
    if chart is None or figures is None or fmt not in ("csv", "xlsx"):
        raise Http404
    period = period_of(request)
    bucket_column: spreadsheets.Column = (
        chart.bucket_label,
        lambda row: bucket_text(chart, period, row[0]) if period.grain == "week" else row[0],
    )
    shown = series_of(chart, figures)
    columns = [bucket_column] + [(s.label, (lambda row, i=i: row[1][i])) for i, s in enumerate(shown)]
    rows = [(b, [figures.values[s.key][i] for s in shown]) for i, b in enumerate(figures.buckets)]
    file_name = f"{chart.name}-{period.key}"
    if fmt == "csv":
        return spreadsheets.csv_response(file_name, columns, rows)
    return spreadsheets.xlsx_response(file_name, columns, rows)
