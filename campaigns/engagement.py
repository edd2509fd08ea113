"""Engagement with a campaign's share pages, counted by the pages themselves: views (the server
counts each GET), plays and how much was watched (the page's own script posts them), and
call-to-action clicks (the link goes through the site). No third-party script; no IP address or
other identifier of the viewer is stored, only counters on the recipient's row."""

from __future__ import annotations

from django.core.cache import cache
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from campaigns.models import Campaign, Recipient
from rendering.models import RenderJob

WATCHED_STEPS = (25, 50, 75, 100)
EVENTS = ("play", "watched")
# Events one share page may post per window: a page sends at most six per viewing (play and
# four steps), so this leaves room for a few replays and refuses a script flooding the counters.
EVENT_LIMIT = 60
EVENT_WINDOW_SECONDS = 600


class BadEvent(ValueError):
    pass


def _touch(recipient: Recipient, **changes) -> None:
    now = timezone.now()
    Recipient.objects.filter(pk=recipient.pk).update(last_event_at=now, **changes)


def record_view(recipient: Recipient) -> None:
    now = timezone.now()
    _touch(recipient, views=F("views") + 1, first_viewed_at=Coalesce("first_viewed_at", now))


def record_click(recipient: Recipient) -> None:
    _touch(recipient, cta_clicks=F("cta_clicks") + 1)


def record_event(recipient: Recipient, name: str, percent: str | int | None = None) -> None:
    """A play, or the share of the video watched (25, 50, 75 or 100: the most is kept).
    Raises BadEvent for anything else."""
    if name == "play":
        _touch(recipient, plays=F("plays") + 1)
        return
    if name == "watched":
        try:
            step = int(str(percent))
        except ValueError:
            raise BadEvent("percent must be 25, 50, 75 or 100") from None
        if step not in WATCHED_STEPS:
            raise BadEvent("percent must be 25, 50, 75 or 100")
        _touch(recipient, watched_percent=Greatest("watched_percent", step))
        return
    raise BadEvent(f"unknown event; one of {', '.join(EVENTS)}")


def allow_event(token: str) -> bool:
    """At most EVENT_LIMIT events per share page per EVENT_WINDOW_SECONDS (the cache keeps the
    count; the key is the page's token, never the viewer)."""
    key = f"campaign-share-events:{token}"
    cache.add(key, 0, timeout=EVENT_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=EVENT_WINDOW_SECONDS)
        count = 1
    return count <= EVENT_LIMIT


FUNNEL = [
    ("sent", "Videos made", Q(job__status=RenderJob.Status.SUCCEEDED)),
    ("viewed", "Page viewed", Q(views__gt=0)),
    ("played", "Video played", Q(plays__gt=0)),
    *[
        (f"watched_{step}", f"Watched {step}%", Q(watched_percent__gte=step))
        for step in WATCHED_STEPS
    ],
    ("clicked", "Call to action clicked", Q(cta_clicks__gt=0)),
]


def funnel(campaign: Campaign) -> list[dict]:
    """Each step of the funnel: {"step", "label", "count", "percent"} where count is recipients
    who reached it and percent is of the videos made (0 when none was made), in order: sent,
    viewed, played, watched 25/50/75/100 %, clicked."""
    counts = campaign.recipients.aggregate(
        **{step: Count("pk", filter=condition) for step, _, condition in FUNNEL}
    )
    sent = counts["sent"]
    return [
        {
            "step": step,
            "label": label,
            "count": counts[step],
            "percent": round(100 * counts[step] / sent) if sent else 0,
        }
        for step, label, _ in FUNNEL
    ]
