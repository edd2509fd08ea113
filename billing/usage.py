"""A workspace's usage from its ledger: seconds of video charged per day (net of refunds), per
campaign and lesson, and the day chart drawn as SVG on the server (no script, no library)."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.dispatch import Signal
from django.utils import timezone

from billing.models import CreditEntry

# Sent with parts=[part_of, ...]; campaigns and lessons (above billing) answer {part_of: title}
# for theirs, so the usage page names them without billing importing either.
parts_named = Signal()


@dataclass(frozen=True)
class Bar:
    day: date
    seconds: float
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class DayChart:
    bars: list[Bar]
    width: int
    height: int
    top_seconds: float  # the value the chart's top line stands for
    total_seconds: float
    ticks: list[tuple[float, str]]  # (y, label) of the horizontal guide lines
    labels: list[tuple[float, str]]  # (x, label) of the days named under the bars


def _used(workspace_id: int):
    return CreditEntry.objects.filter(
        workspace_id=workspace_id,
        kind__in=[CreditEntry.Kind.SETTLEMENT, CreditEntry.Kind.REFUND],
    )


def seconds_per_day(workspace_id: int, *, days: int = 30, today: date | None = None) -> dict:
    today = today or timezone.localdate()
    start = today - timedelta(days=days - 1)
    rows = (
        _used(workspace_id)
        .filter(at__date__gte=start)
        .annotate(day=TruncDate("at"))
        .values("day")
        .annotate(ms=Sum("used_milliseconds"))
    )
    per_day = {start + timedelta(days=i): 0.0 for i in range(days)}
    for row in rows:
        per_day[row["day"]] = row["ms"] / 1000
    return per_day


def _nice_top(value: float) -> float:
    """The chart's top: the next of 1, 2, 5 x 10^n at or above the largest day."""
    if value <= 0:
        return 10.0
    step = 1.0
    while step * 10 <= value:
        step *= 10
    for factor in (1, 2, 5, 10):
        if factor * step >= value:
            return factor * step
    return 10 * step


def day_chart(per_day: dict, *, width: int = 640, height: int = 180) -> DayChart:
    left, bottom, top_pad = 44, 22, 8
    plot_w, plot_h = width - left - 22, height - bottom - top_pad  # room for the last label
    days = sorted(per_day)
    top = _nice_top(max(per_day.values(), default=0))
    slot = plot_w / max(len(days), 1)
    bars = []
    for i, day in enumerate(days):
        value = per_day[day]
        h = plot_h * value / top
        bars.append(
            Bar(
                day=day,
                seconds=value,
                x=round(left + i * slot + slot * 0.15, 1),
                y=round(top_pad + plot_h - h, 1),
                width=round(slot * 0.7, 1),
                height=round(h, 1),
            )
        )
    ticks = [(round(top_pad + plot_h - plot_h * f, 1), f"{top * f:g} s") for f in (0, 0.5, 1)]
    # Today and every seventh day before it (counting back, so no two labels collide).
    labels = [
        (round(left + i * slot + slot / 2, 1), day.strftime("%d %b"))
        for i, day in enumerate(days)
        if (len(days) - 1 - i) % 7 == 0
    ]
    return DayChart(bars, width, height, top, sum(per_day.values()), ticks, labels)


@dataclass(frozen=True)
class PartUsage:
    part_of: str
    title: str
    seconds: float
    renders: int


def per_part(workspace_id: int) -> list[PartUsage]:
    """Seconds charged per campaign and lesson (and single renders together), most first."""
    rows = (
        _used(workspace_id).values("part_of").annotate(ms=Sum("used_milliseconds")).order_by("-ms")
    )
    renders = dict(
        _used(workspace_id)
        .filter(kind=CreditEntry.Kind.SETTLEMENT)
        .values("part_of")
        .annotate(n=Count("pk"))
        .values_list("part_of", "n")
    )
    parts = [row["part_of"] for row in rows if row["part_of"]]
    names: dict[str, str] = {}
    for _, answer in parts_named.send(sender=CreditEntry, parts=parts):
        names.update(answer or {})
    return [
        PartUsage(
            part_of=row["part_of"],
            title=names.get(row["part_of"], row["part_of"]) if row["part_of"] else "Single renders",
            seconds=row["ms"] / 1000,
            renders=renders.get(row["part_of"], 0),
        )
        for row in rows
        if row["ms"]
    ]
