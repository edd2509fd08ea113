from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.models import Membership, Role, Workspace
from avatars.models import Avatar
from consent.models import (
    Channel,
    ConsentDocument,
    ConsentGrant,
    Purpose,
    ScriptApproval,
    Subject,
    sha256_hex,
)
from engine.voice.spoken import spoken_text as words_spoken
from rendering.models import RenderJob, Video
from studio.models import Script

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    role = Role.OWNER


class SubjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subject

    workspace = factory.SubFactory(WorkspaceFactory)
    full_name = factory.Sequence(lambda n: f"Subject Person {n}")
    email = factory.Sequence(lambda n: f"subject{n}@example.com")


def standard_document() -> ConsentDocument:
    return ConsentDocument.standard()


class GrantFactory(factory.django.DjangoModelFactory):
    """A signed, in-date consent for every purpose and channel unless told otherwise."""

    class Meta:
        model = ConsentGrant

    subject = factory.SubFactory(SubjectFactory)
    workspace = factory.SelfAttribute("subject.workspace")
    document = factory.LazyFunction(standard_document)
    document_text = factory.SelfAttribute("document.body")
    document_sha256 = factory.SelfAttribute("document.sha256")
    purposes = factory.LazyFunction(lambda: [p.value for p in Purpose])
    channels = factory.LazyFunction(lambda: [c.value for c in Channel])
    valid_from = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    valid_until = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))
    status = ConsentGrant.Status.ACTIVE
    signature_name = factory.SelfAttribute("subject.full_name")
    signed_at = factory.LazyFunction(timezone.now)


class AvatarFactory(factory.django.DjangoModelFactory):
    """Needs `portrait` and `voice` bytes and cached `landmarks` from the media fixtures."""

    class Meta:
        model = Avatar
        exclude = ("portrait_bytes", "voice_bytes")

    grant = factory.SubFactory(GrantFactory)
    workspace = factory.SelfAttribute("grant.workspace")
    name = factory.Sequence(lambda n: f"Avatar {n}")
    portrait_bytes = b""
    voice_bytes = b""
    portrait = factory.LazyAttribute(lambda a: ContentFile(a.portrait_bytes, name="portrait.png"))
    voice_sample = factory.LazyAttribute(lambda a: ContentFile(a.voice_bytes, name="voice.wav"))
    portrait_width = 512
    portrait_height = 512
    face_landmarks = factory.LazyFunction(list)
    voice_seconds = 4.0


class ScriptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Script

    workspace = factory.SubFactory(WorkspaceFactory)
    title = factory.Sequence(lambda n: f"Script {n}")
    body = "Hello there. This is a short test."


class RenderJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RenderJob

    avatar = factory.SubFactory(AvatarFactory)
    workspace = factory.SelfAttribute("avatar.workspace")
    script = factory.SubFactory(ScriptFactory, workspace=factory.SelfAttribute("..workspace"))
    script_text = factory.SelfAttribute("script.body")
    purpose = Purpose.INTERNAL
    width = 256
    height = 256
    fps = 25


def finished_video(avatar, *, extras: bool = False) -> Video:
    """A succeeded render of ``avatar`` with a stored video file (a bare MP4 header, not a
    playable video) and, with ``extras``, caption files and a poster, for tests of the URLs
    under it."""
    job = RenderJobFactory(avatar=avatar, status=RenderJob.Status.SUCCEEDED, progress=1.0)
    video = Video(
        workspace=avatar.workspace,
        job=job,
        seconds=2.0,
        width=256,
        height=256,
        fps=25,
        frames=50,
        size_bytes=4,
    )
    video.file.save("video.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42"), save=False)
    if extras:
        video.captions_vtt.save("video.vtt", ContentFile(b"WEBVTT\n"), save=False)
        video.captions_srt.save("video.srt", ContentFile(b"1\n"), save=False)
        video.poster.save("video.jpg", ContentFile(b"\xff\xd8\xff\xe0"), save=False)
    video.save()
    return video


class ScriptApprovalFactory(factory.django.DjangoModelFactory):
    """A script sent to the grant's subject; approved unless told otherwise."""

    class Meta:
        model = ScriptApproval

    grant = factory.SubFactory(GrantFactory)
    workspace = factory.SelfAttribute("grant.workspace")
    title = factory.Sequence(lambda n: f"Approved script {n}")
    script_text = "Hello there. This is a short test."
    script_sha256 = factory.LazyAttribute(lambda a: sha256_hex(a.script_text))
    # The words spoken with no pronunciation lexicon (pass spoken_text="" for an approval made
    # before approvals recorded them).
    spoken_text = factory.LazyAttribute(lambda a: words_spoken(a.script_text))
    spoken_sha256 = factory.LazyAttribute(
        lambda a: sha256_hex(a.spoken_text) if a.spoken_text else ""
    )
    status = ScriptApproval.Status.APPROVED


class ProvenanceRecordFactory(factory.django.DjangoModelFactory):
    """A provenance record for a render job (no video yet); `payload_id` may be given."""

    class Meta:
        model = "provenance.ProvenanceRecord"

    job = factory.SubFactory(RenderJobFactory)
    workspace = factory.SelfAttribute("job.workspace")
    grant = factory.SelfAttribute("job.avatar.grant")
    grant_sha256 = "ab" * 32
    payload_id = factory.Sequence(lambda n: f"{0x1000000000000000 + n:016x}")
    audio_prefix = factory.LazyAttribute(lambda r: r.payload_id[:8])
    engines = factory.LazyFunction(lambda: {"engine": "test", "voice": "festival", "face": "warp"})
