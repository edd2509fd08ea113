"""What the campaign page shows while its videos are made: counts, an ETA and a chart."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from campaigns.models import Campaign, Recipient
from core.merge_fields import TemplateError, merge
from rendering.models import RenderJob

# The chart's segments, in the order they are drawn (left to right).
STATES = ("done", "rendering", "queued", "failed", "cancelled", "refused", "pending")
CHART_WIDTH, CHART_HEIGHT = 300.0, 60.0


@dataclass
class Snapshot:
    counts: dict[str, int]
    eta_seconds: float | None
    bars: list[dict] = field(default_factory=list)  # {"state", "x", "width"} in chart units
    line: str = ""  # SVG polyline points: videos done over time

    @property
    def total(self) -> int:
        return self.counts["total"]

    @property
    def finished(self) -> bool:
        return finished(self.counts)

    @property
    def percent(self) -> int:
        return round(100 * self.counts["done"] / self.total) if self.total else 0

    def as_json(self) -> dict:
        return {"counts": self.counts, "percent": self.percent, "eta_seconds": self.eta_seconds}


def finished(counts: dict[str, int]) -> bool:
    """Nothing left to render: every row is done, failed, cancelled or refused."""
    active = counts["queued"] + counts["rendering"] + counts["pending"]
    return counts["total"] > 0 and active == 0


def snapshot(campaign: Campaign) -> Snapshot:
    counts = campaign.counts()
    done_at = sorted(
        RenderJob.objects.filter(
            part_of=campaign.part_of, status=RenderJob.Status.SUCCEEDED, finished_at__isnull=False
        ).values_list("finished_at", flat=True)
    )
    return Snapshot(
        counts, _eta(campaign, counts, done_at), _bars(counts), _line(campaign, done_at)
    )


def _eta(campaign: Campaign, counts: dict, done_at: list) -> float | None:
    """Seconds until the rest is done, at the pace so far (None before two videos are done)."""
    remaining = counts["queued"] + counts["rendering"]
    if not remaining or len(done_at) < 2 or campaign.launched_at is None:
        return None
    elapsed = (done_at[-1] - campaign.launched_at).total_seconds()
    return round(remaining * elapsed / len(done_at), 1) if elapsed > 0 else None


def _bars(counts: dict) -> list[dict]:
    total, x, bars = counts["total"], 0.0, []
    for state in STATES:
        if counts[state] and total:
            width = CHART_WIDTH * counts[state] / total
            bars.append({"state": state, "x": round(x, 2), "width": round(width, 2)})
            x += width
    return bars


def _line(campaign: Campaign, done_at: list) -> str:
    """Videos done (y) against time since launch (x), scaled to the chart."""
    if not done_at or campaign.launched_at is None:
        return ""
    start = campaign.launched_at
    span = max((timezone.now() - start).total_seconds(), 1.0)
    total = max(campaign.counts()["total"], 1)
    points = [(0.0, CHART_HEIGHT)]
    for count, at in enumerate(done_at, start=1):
        x = CHART_WIDTH * min((at - start).total_seconds() / span, 1.0)
        points.append((x, CHART_HEIGHT * (1 - count / total)))
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def samples(campaign: Campaign):
    return RenderJob.objects.filter(part_of=f"{campaign.part_of}:sample").order_by("-created_at")[
        :6
    ]


def merged(campaign: Campaign, recipient: Recipient | None) -> dict[str, str]:
    """Every text of the campaign as this recipient gets it (a problem named in its place)."""
    if recipient is None:
        return {}
    texts = {
        "Script": campaign.template_text,
        "Text on screen": campaign.on_screen_text,
        "Headline": campaign.page_title,
        "Message": campaign.page_message,
        "Link": campaign.cta_url,
    }
    out = {}
    for name, text in texts.items():
        if not text:
            continue
        try:
            out[name] = merge(text, recipient.values, url=name == "Link")
        except TemplateError as error:
            out[name] = f"(cannot merge: {error})"
    return out
