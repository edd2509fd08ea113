"""Provenance records: made before each render, carried by its marks, linked to its video."""

import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from engine.c2pa import read_manifest
from engine.keys import load_site_identity
from engine.watermark import read_audio_mark
from provenance.models import LabelSettings, ProvenanceRecord, grant_fingerprint
from provenance.receivers import provenance_for_render
from rendering.models import RenderJob
from rendering.services import submit_render
from rendering.workers import drain_queue
from tests.factories import (
    GrantFactory,
    MembershipFactory,
    ProvenanceRecordFactory,
    RenderJobFactory,
    ScriptFactory,
    SubjectFactory,
)


@pytest.mark.django_db(transaction=True)
def test_a_render_gets_a_record_its_marks_and_manifest_point_to(make_avatar, settings, keys_dir):
    settings.RENDER_WIDTH = settings.RENDER_HEIGHT = 256
    owner = MembershipFactory()
    avatar = make_avatar(grant=GrantFactory(subject=SubjectFactory(workspace=owner.workspace)))
    # Two clauses, about 4.5 s of speech: the audio mark's 32 bits read back with a wide margin
    # (soft agreement >= 0.88 over 30 payloads through AAC). A one-line script's 2 s read back
    # too (45 of 45 in bench/watermark_robustness), with less to spare.
    script = ScriptFactory(
        workspace=owner.workspace,
        body="Hello. This video is synthetic, made with the consent of the person it shows.",
    )
    job = submit_render(
        workspace=owner.workspace, user=owner.user, avatar=avatar, script=script, purpose="internal"
    )
    drain_queue()
    job.refresh_from_db()
    assert job.status == RenderJob.Status.SUCCEEDED, job.error
    record = ProvenanceRecord.objects.get(job=job)
    assert record.video == job.video and record.c2pa_signed
    assert record.grant == avatar.grant and record.grant_sha256 == grant_fingerprint(avatar.grant)
    root = load_site_identity(keys_dir).root_pem()
    manifest = read_manifest(job.video.file.path, root)
    assert manifest["valid"] and manifest["trusted"]
    assert manifest["provenance"]["provenance_id"] == record.payload_id
    assert manifest["provenance"]["grant_sha256"] == record.grant_sha256
    assert read_audio_mark(job.video.file.path).payload == int(record.audio_prefix, 16)


@pytest.mark.django_db
def test_the_manifest_link_carries_no_personal_data():
    record = ProvenanceRecordFactory()
    link = json.dumps(record.manifest_link())
    subject = record.grant.subject
    assert subject.full_name not in link and subject.email not in link
    assert record.payload_id in link and record.grant_sha256 in link


@pytest.mark.django_db
def test_a_job_keeps_one_record_across_attempts():
    job = RenderJobFactory()
    first = ProvenanceRecord.for_job(job)
    assert ProvenanceRecord.for_job(job) == first
    assert first.audio_prefix == first.payload_id[:8] and len(first.payload_id) == 16


@pytest.mark.django_db
def test_a_revoked_grant_shows_on_the_record():
    record = ProvenanceRecordFactory()
    assert record.public_summary()["consent"]["status"] == "active"
    record.grant.revoke(reason="I changed my mind", at=timezone.now())
    record.refresh_from_db()
    summary = record.public_summary()
    assert summary["consent"]["status"] == "revoked" and summary["consent"]["revoked_at"]


@pytest.mark.django_db
def test_the_workspace_label_settings_reach_the_render_spec(settings):
    job = RenderJobFactory()
    LabelSettings.objects.create(
        workspace=job.workspace, position="bottom-left", language="fr", opening_card=True
    )
    fields = provenance_for_render(sender=RenderJob, job=job)
    assert fields["label_text"] == "Généré par IA" and fields["label_position"] == "bottom-left"
    assert fields["disclosure_card_seconds"] > 0 and "IA" in fields["disclosure_card_text"]
    assert fields["provenance_id"] == ProvenanceRecord.objects.get(job=job).payload_id
    assert fields["signing_keys_dir"] == str(settings.SITE_KEYS_DIR)


def test_the_signing_identity_is_created_once_by_the_command(settings, tmp_path, capsys):
    settings.SITE_KEYS_DIR = tmp_path / "keys"
    call_command("ensure_signing_identity")
    first = json.loads(capsys.readouterr().out)
    call_command("ensure_signing_identity")
    second = json.loads(capsys.readouterr().out)
    assert first["created"] and not second["created"]
    assert first["root_sha256"] == second["root_sha256"]
    assert (tmp_path / "keys/signer.key").stat().st_mode & 0o077 == 0
