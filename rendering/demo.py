"""The demo workspace: an illustrated presenter (drawn by the engine, not a real person) with a
synthetic voice, a signed consent, an avatar and a script — enough to render on a fresh install."""

import secrets
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from PIL import Image

from accounts.models import Membership, Role, Workspace
from avatars.models import Avatar
from consent.models import ConsentDocument, ConsentGrant, ConsentMethod, Purpose, Subject
from consent.services import Evidence, record_illustration_consent
from engine.demo import write_demo_assets
from engine.voice import inspect_voice_sample
from studio.models import Script

DEMO_USERNAME = "demo"
DEMO_WORKSPACE = "Demo workspace"
DEMO_SUBJECT = "Ada Lovelace-Presenter (illustration)"
DEMO_SCRIPT_TITLE = "Welcome to Likeness"
DEMO_SCRIPT = (
    "Hello, and welcome to Likeness. I am an illustrated presenter, drawn by the software itself. "
    "Every video made here is labeled as AI generated, and it can be traced back to the consent "
    "that allowed it."
)


@dataclass
class Demo:
    user: object
    workspace: Workspace
    grant: ConsentGrant
    avatar: Avatar
    script: Script


@transaction.atomic
def ensure_demo() -> Demo:
    """Create the demo objects, or return the existing ones (idempotent)."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=DEMO_USERNAME, defaults={"email": "demo@likeness.invalid"}
    )
    if created:
        user.set_unusable_password()
        user.save()
    membership = (
        Membership.objects.filter(user=user, workspace__name=DEMO_WORKSPACE)
        .select_related("workspace")
        .first()
    )
    workspace = (
        membership.workspace if membership else Workspace.objects.create(name=DEMO_WORKSPACE)
    )
    workspace.add_member(user, Role.OWNER)

    subject, _ = Subject.objects.get_or_create(
        workspace=workspace,
        full_name=DEMO_SUBJECT,
        defaults={"email": "presenter@likeness.invalid"},
    )
    now = timezone.now()
    grant = (
        ConsentGrant.objects.filter(
            subject=subject,
            method=ConsentMethod.ILLUSTRATION,
            status=ConsentGrant.Status.ACTIVE,
            valid_until__gt=now,
        )
        .order_by("-created_at")
        .first()
    )
    if grant is None:
        # The presenter is drawn by the software: no person, so no one to give evidence.
        grant = record_illustration_consent(
            subject=subject,
            document=ConsentDocument.standard(),
            purposes=[p.value for p in Purpose],
            valid_from=now - timedelta(minutes=1),
            valid_until=now + timedelta(days=3650),
            recorded_by=user,
            evidence=Evidence(user_agent="likeness seed_demo", user=user.username),
        )
    avatar = Avatar.objects.filter(workspace=workspace, grant=grant).first() or _create_demo_avatar(
        workspace, grant, user
    )
    script, _ = Script.objects.get_or_create(
        workspace=workspace,
        title=DEMO_SCRIPT_TITLE,
        defaults={"body": DEMO_SCRIPT, "created_by": user},
    )
    return Demo(user=user, workspace=workspace, grant=grant, avatar=avatar, script=script)


def _create_demo_avatar(workspace, grant, user) -> Avatar:
    with tempfile.TemporaryDirectory() as folder:
        assets = write_demo_assets(Path(folder))
        with Image.open(assets.portrait_path) as image:
            width, height = image.size
        voice = inspect_voice_sample(str(assets.voice_sample_path))
        avatar = Avatar(
            workspace=workspace,
            name="Ada (demo presenter)",
            grant=grant,
            portrait_width=width,
            portrait_height=height,
            face_landmarks=[list(map(float, point)) for point in assets.landmarks],
            voice_seconds=voice.seconds,
            created_by=user,
        )
        with (
            open(assets.portrait_path, "rb") as portrait,
            open(assets.voice_sample_path, "rb") as sample,
        ):
            avatar.portrait.save(Path(assets.portrait_path).name, File(portrait), save=False)
            avatar.voice_sample.save(Path(assets.voice_sample_path).name, File(sample), save=False)
        avatar.save()
    return avatar


def reset_demo_password(user) -> str:
    """A fresh password each time the demo starts, printed once; never a default password."""
    password = secrets.token_urlsafe(9)
    user.set_password(password)
    user.save(update_fields=["password"])
    return password
