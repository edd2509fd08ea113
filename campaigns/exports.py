"""The spreadsheet of a campaign: every row with its values, status, links and engagement."""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

from campaigns.media import published_video
from campaigns.models import Campaign, Recipient
from core.spreadsheet import csv_text

LINK_COLUMNS = ["share_url", "mp4_url", "gif_url", "poster_url"]
ENGAGEMENT_COLUMNS = ["views", "plays", "watched_percent", "cta_clicks"]


def _links(recipient: Recipient, absolute: Callable[[str], str]) -> dict[str, str]:
    token = recipient.share_token
    links = {"share_url": absolute(reverse("campaign_share:page", args=[token]))}
    video = published_video(recipient)
    if video is not None and not recipient.campaign.erased_at:
        links["mp4_url"] = absolute(reverse("campaign_share:video", args=[token]))
        if video.poster:
            links["poster_url"] = absolute(reverse("campaign_share:poster", args=[token]))
        if recipient.gif:
            links["gif_url"] = absolute(reverse("campaign_share:gif", args=[token]))
    return links


def campaign_csv(campaign: Campaign, *, absolute: Callable[[str], str]) -> str:
    """One line per recipient: line, each field's value, status, the share page and file URLs
    (made absolute by ``absolute``, e.g. request.build_absolute_uri), views, plays, watched %
    and call-to-action clicks. Every cell is neutralised for spreadsheets (core.spreadsheet)."""
    fixed = {"line", "status", *LINK_COLUMNS, *ENGAGEMENT_COLUMNS}
    # A field named like a fixed column keeps its value under "<name> (value)".
    names = {
        f["name"]: f["name"] if f["name"] not in fixed else f"{f['name']} (value)"
        for f in campaign.fields
    }
    header = ["line", *names.values(), "status", *LINK_COLUMNS, *ENGAGEMENT_COLUMNS]
    recipients = campaign.recipients.select_related("job__video", "campaign")
    rows = []
    for recipient in recipients:
        row = {"line": recipient.line, "status": recipient.status}
        row.update({column: recipient.values.get(name, "") for name, column in names.items()})
        row.update(_links(recipient, absolute))
        row.update({column: getattr(recipient, column) for column in ENGAGEMENT_COLUMNS})
        rows.append(row)
    return csv_text(header, rows)
