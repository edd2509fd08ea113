"""Campaigns with recipients and small but real variant videos (ffmpeg test patterns), for the
share page, engagement, export and retention tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from django.core.files.base import ContentFile

from campaigns import services
from campaigns.models import Campaign, Recipient
from rendering.models import RenderJob, Video
from tests.factories import GrantFactory, MembershipFactory, ScriptFactory, SubjectFactory

TEMPLATE = "Hi {{first_name}}, this video is for you. See you soon at {{company|your company}}."
CAPTIONS = "WEBVTT\n\n00:00.000 --> 00:02.000\nAI-generated video\n\n00:02.000 --> 00:04.000\nHi!\n"


def make_campaign(make_avatar, *, rows=(), grant_options=None, **texts) -> Campaign:
    """A launched campaign of a fresh workspace with one recipient per ``rows`` item (values)."""
    owner = MembershipFactory()
    grant = GrantFactory(subject=SubjectFactory(workspace=owner.workspace), **(grant_options or {}))
    campaign = services.create_campaign(
        workspace=owner.workspace,
        user=owner.user,
        name="Spring visit",
        script=ScriptFactory(workspace=owner.workspace, body=TEMPLATE),
        avatar=make_avatar(grant=grant),
        purpose="marketing",
    )
    texts = {
        "page_title": "A video for {{first_name}}",
        "page_message": "Hello {{first_name}} of {{company|your company}}.",
        "cta_label": "Book a call",
        "cta_url": "https://example.com/book?name={{first_name}}",
        **texts,
    }
    services.update_campaign(campaign, **texts)
    for i, values in enumerate(rows):
        Recipient.objects.create(campaign=campaign, line=i + 2, values=values)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.LAUNCHED)
    campaign.refresh_from_db()
    campaign.owner = owner
    return campaign


def tiny_mp4(path: Path, *, seconds: float = 4.0, size: int = 160, busy: bool = False) -> Path:
    """An H.264/AAC MP4 of a test pattern with a tone; ``busy``: noise on top, which makes GIFs
    big."""
    source = f"testsrc2=size={size}x{size}:rate=25:duration={seconds}"
    if busy:
        source += ",noise=alls=20:allf=t"
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source),
            *("-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"),
            *(
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-pix_fmt",
                "yuv420p",
                "-c:a",
                "aac",
                "-shortest",
                str(path),
            ),
        ],
        check=True,
        capture_output=True,
    )
    return path


def queued_variant(recipient: Recipient, script_text: str) -> RenderJob:
    """The recipient's variant, submitted but not rendered yet."""
    campaign = recipient.campaign
    recipient.job = RenderJob.objects.create(
        workspace=campaign.workspace,
        avatar=campaign.avatar,
        script=campaign.script,
        script_text=script_text,
        purpose=campaign.purpose,
        part_of=campaign.part_of,
        width=160,
        height=160,
        fps=25,
    )
    recipient.save(update_fields=["job"])
    return recipient.job


def rendered_variant(recipient: Recipient, tmp_path: Path, **mp4_options) -> Video:
    """A finished variant of the recipient: a real MP4, poster and captions."""
    campaign = recipient.campaign
    job = RenderJob.objects.create(
        workspace=campaign.workspace,
        avatar=campaign.avatar,
        script=campaign.script,
        script_text=TEMPLATE.replace("{{first_name}}", recipient.values.get("first_name", "")),
        template={"text": TEMPLATE, "values": dict(recipient.values), "say": {}, "kinds": {}},
        timeline={"scenes": [{"segments": [{"text": "Hi Ada.", "pause_after": 0.0}]}]},
        purpose=campaign.purpose,
        part_of=campaign.part_of,
        status=RenderJob.Status.SUCCEEDED,
        progress=1.0,
        width=160,
        height=160,
        fps=25,
    )
    mp4 = tiny_mp4(tmp_path / f"variant-{recipient.pk}.mp4", **mp4_options)
    poster = tmp_path / f"variant-{recipient.pk}.jpg"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-ss", "1", "-i", str(mp4), "-frames:v", "1", str(poster)],
        check=True,
        capture_output=True,
    )
    video = Video(
        workspace=campaign.workspace,
        job=job,
        seconds=4.0,
        width=160,
        height=160,
        fps=25,
        frames=100,
        size_bytes=mp4.stat().st_size,
    )
    video.file.save("v.mp4", ContentFile(mp4.read_bytes()), save=False)
    video.poster.save("v.jpg", ContentFile(poster.read_bytes()), save=False)
    video.captions_vtt.save("v.vtt", ContentFile(CAPTIONS.encode()), save=False)
    video.captions_srt.save(
        "v.srt", ContentFile(b"1\n00:00:00,000 --> 00:00:02,000\nAI\n"), save=False
    )
    video.save()
    recipient.job = job
    recipient.save(update_fields=["job"])
    return video
