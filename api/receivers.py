"""The apps' signals, turned into events (webhooks, emails) once their transaction commits."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from api import events
from consent.ledger import Event as LedgerEvent
from consent.models import LedgerEntry
from consent.signals import grant_revoked
from rendering.signals import render_failed, video_published

# Ledger entries after which a consent may have become active (signed on paper, verified,
# approved at review).
ACTIVATING = {LedgerEvent.SIGNED, LedgerEvent.VERIFIED, LedgerEvent.REVIEWED}


@receiver(video_published, dispatch_uid="api.render_succeeded")
def on_video_published(sender, video, **kwargs):
    job_id = video.job_id
    events.after_commit(lambda: events.render_finished(job_id))


@receiver(render_failed, dispatch_uid="api.render_failed")
def on_render_failed(sender, job, **kwargs):
    job_id = job.pk
    events.after_commit(lambda: events.render_finished(job_id))


@receiver(grant_revoked, dispatch_uid="api.consent_revoked")
def on_grant_revoked(sender, grant, **kwargs):
    grant_id = grant.pk
    events.after_commit(lambda: events.consent_revoked(grant_id))


@receiver(post_save, sender=LedgerEntry, dispatch_uid="api.consent_activated")
def on_ledger_entry(sender, instance, created, **kwargs):
    if created and instance.event in ACTIVATING and instance.grant_id:
        grant_id = instance.grant_id
        events.after_commit(lambda: events.consent_activated(grant_id))
