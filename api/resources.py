"""Avatars, scripts, renders, consent grants and verification: thin calls into the apps'
services, the same ones the pages call."""

from datetime import datetime, timedelta
from typing import Literal

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import timezone
from ninja import File, Path, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from api import auth
from api.errors import ApiProblem, refusal_problem, validation_error
from api.idempotency import run_once
from api.pagination import MAX_ID, Page, in_workspace, paginate
from avatars.models import Avatar
from consent.models import ConsentGrant, Purpose
from provenance import services as provenance_services
from provenance.forms import VerifyForm
from rendering import services as rendering_services
from rendering.models import RenderJob
from studio import services as studio_services
from studio.forms import ScriptForm
from studio.models import Script

router = Router()

Id = Path(..., ge=1, le=MAX_ID)
Limit = Query(20, ge=1, le=100, description="How many items, 1 to 100")
Cursor = Query(None, max_length=64, description="next_cursor of the previous page")
UploadField = File(...)
PurposeName = Literal[tuple(Purpose.values)]


# ---- avatars -------------------------------------------------------------------------------


class AvatarOut(Schema):
    id: int
    name: str
    status: str
    enabled: bool
    # "photo": animated from one portrait; "footage": from minutes of the subject's own video.
    kind: Literal["photo", "footage"]
    consent_grant_id: int
    created_at: datetime


class AvatarPage(Page):
    items: list[AvatarOut]


def avatar_out(avatar: Avatar) -> dict:
    """What the API says of an avatar: never its portrait, voice or any biometric data."""
    return {
        "id": avatar.pk,
        "name": avatar.name,
        "status": avatar.status,
        "enabled": avatar.is_enabled,
        "kind": "footage" if avatar.is_footage else "photo",
        "consent_grant_id": avatar.grant_id,
        "created_at": avatar.created_at,
    }


@router.get("/avatars", response=AvatarPage, auth=auth.READ, tags=["avatars"])
def list_avatars(request, limit: int = Limit, cursor: str | None = Cursor):
    avatars = Avatar.objects.filter(workspace=request.auth.workspace).select_related("grant")
    return paginate(avatars, limit=limit, cursor=cursor, out=avatar_out)


@router.get("/avatars/{avatar_id}", response=AvatarOut, auth=auth.READ, tags=["avatars"])
def get_avatar(request, avatar_id: int = Id):
    return avatar_out(
        in_workspace(Avatar.objects.select_related("grant"), request, avatar_id, "avatar")
    )


# ---- scripts -------------------------------------------------------------------------------


class ScriptIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    body: str = Field(..., min_length=1, max_length=settings.MAX_SCRIPT_CHARACTERS)


class ScriptPatch(Schema):
    title: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, min_length=1, max_length=settings.MAX_SCRIPT_CHARACTERS)


class ScriptOut(Schema):
    id: int
    title: str
    body: str
    word_count: int
    created_at: datetime
    updated_at: datetime


class ScriptPage(Page):
    items: list[ScriptOut]


def script_out(script: Script) -> dict:
    return {
        "id": script.pk,
        "title": script.title,
        "body": script.body,
        "word_count": script.word_count,
        "created_at": script.created_at,
        "updated_at": script.updated_at,
    }


def _save_script(request, data: dict, script: Script | None = None) -> Script:
    """Validated by the pages' own form, saved and screened by the pages' own service."""
    form = ScriptForm(data, instance=script)
    if not form.is_valid():
        errors = [
            {"loc": ["body", field], "msg": str(message)}
            for field, messages in form.errors.items()
            for message in messages
        ]
        raise validation_error(" ".join(e["msg"] for e in errors), errors=errors)
    return studio_services.save_script(
        form, workspace=request.auth.workspace, user=request.auth.created_by
    )


@router.get("/scripts", response=ScriptPage, auth=auth.READ, tags=["scripts"])
def list_scripts(request, limit: int = Limit, cursor: str | None = Cursor):
    scripts = Script.objects.filter(workspace=request.auth.workspace)
    return paginate(scripts, limit=limit, cursor=cursor, out=script_out)


@router.post("/scripts", response={201: ScriptOut}, auth=auth.RENDER, tags=["scripts"])
def create_script(request, payload: ScriptIn):
    return Status(201, script_out(_save_script(request, payload.dict())))


@router.get("/scripts/{script_id}", response=ScriptOut, auth=auth.READ, tags=["scripts"])
def get_script(request, script_id: int = Id):
    return script_out(in_workspace(Script.objects, request, script_id, "script"))


@router.patch("/scripts/{script_id}", response=ScriptOut, auth=auth.RENDER, tags=["scripts"])
def update_script(request, payload: ScriptPatch, script_id: int = Id):
    script = in_workspace(Script.objects, request, script_id, "script")
    data = {"title": script.title, "body": script.body}
    data.update({k: v for k, v in payload.dict().items() if v is not None})
    return script_out(_save_script(request, data, script))


@router.delete(
    "/scripts/{script_id}", response={204: None, 409: None}, auth=auth.RENDER, tags=["scripts"]
)
def delete_script(request, script_id: int = Id):
    script = in_workspace(Script.objects, request, script_id, "script")
    try:
        with transaction.atomic():
            script.delete()
    except ProtectedError as error:
        raise ApiProblem(
            409, "conflict", "This script has renders or campaigns; it is kept as their record."
        ) from error
    return Status(204, None)


# ---- renders -------------------------------------------------------------------------------


class RenderIn(Schema):
    avatar_id: int = Field(..., ge=1, le=MAX_ID)
    purpose: PurposeName
    script_id: int | None = Field(None, ge=1, le=MAX_ID, description="Render this script…")
    text: str | None = Field(
        None,
        min_length=1,
        max_length=settings.MAX_SCRIPT_CHARACTERS,
        description="…or this text (saved as a new script)",
    )
    title: str | None = Field(None, min_length=1, max_length=200, description="For text")


class VideoOut(Schema):
    seconds: float
    width: int
    height: int
    size_bytes: int


class WithdrawalOut(Schema):
    reason: str
    at: datetime | None


class RenderOut(Schema):
    id: int
    status: Literal[tuple(RenderJob.Status.values)]
    stage: str
    progress: float
    error: str | None
    avatar_id: int
    script_id: int
    purpose: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    video: VideoOut | None
    withdrawn: WithdrawalOut | None


class RenderPage(Page):
    items: list[RenderOut]


def render_out(job: RenderJob) -> dict:
    video = getattr(job, "video", None) if job.status == RenderJob.Status.SUCCEEDED else None
    withdrawal = job.withdrawal
    return {
        "id": job.pk,
        "status": job.status,
        "stage": job.stage,
        "progress": round(job.progress, 3),
        "error": job.error or None,
        "avatar_id": job.avatar_id,
        "script_id": job.script_id,
        "purpose": job.purpose,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "video": (
            {
                "seconds": video.seconds,
                "width": video.width,
                "height": video.height,
                "size_bytes": video.size_bytes,
            }
            if video
            else None
        ),
        "withdrawn": {"reason": withdrawal.reason, "at": withdrawal.at} if withdrawal else None,
    }


def _jobs(request):
    return RenderJob.objects.filter(workspace=request.auth.workspace).select_related(
        "avatar__grant", "video"
    )


def _submit(request, payload: RenderIn) -> tuple[int, dict]:
    if (payload.script_id is None) == (payload.text is None):
        raise validation_error("Send either script_id or text, not both and not neither.")
    avatar = in_workspace(
        Avatar.objects.select_related("grant"), request, payload.avatar_id, "avatar"
    )
    with transaction.atomic():  # a refused render leaves no script made for it behind
        if payload.script_id is not None:
            script = in_workspace(Script.objects, request, payload.script_id, "script")
        else:
            title = payload.title or " ".join(payload.text.split()[:8])[:200] or "API render"
            script = _save_script(request, {"title": title, "body": payload.text})
        try:
            job = rendering_services.submit_render(
                workspace=request.auth.workspace,
                user=request.auth.created_by,
                avatar=avatar,
                script=script,
                purpose=payload.purpose,
            )
        except rendering_services.RenderRefused as refusal:
            transaction.set_rollback(True)
            raise refusal_problem(refusal, default_code="consent_refused") from refusal
    return 201, RenderOut.model_validate(render_out(job)).model_dump(mode="json")


@router.post(
    "/renders",
    response={201: RenderOut, 402: None, 409: None, 422: None},
    auth=auth.RENDER,
    tags=["renders"],
    description="Start a render of a script or of text. The consent policy decides: a refusal "
    "is `422 consent_refused` with its reason. Where billing is on, a render the credits do not "
    "cover is `402 quota_exceeded` (cost, balance and shortfall in seconds; the same "
    "Idempotency-Key may be sent again once credits are bought). Send an `Idempotency-Key` "
    "header to make retries safe.",
)
def create_render(request, payload: RenderIn):
    return Status(*run_once(request, payload.dict(), lambda: _submit(request, payload)))


@router.get("/renders", response=RenderPage, auth=auth.READ, tags=["renders"])
def list_renders(
    request,
    limit: int = Limit,
    cursor: str | None = Cursor,
    status: Literal[tuple(RenderJob.Status.values)] | None = None,
):
    jobs = _jobs(request)
    if status:
        jobs = jobs.filter(status=status)
    return paginate(jobs, limit=limit, cursor=cursor, out=render_out)


@router.get("/renders/{render_id}", response=RenderOut, auth=auth.READ, tags=["renders"])
def get_render(request, render_id: int = Id):
    return render_out(in_workspace(_jobs(request), request, render_id, "render"))


@router.post(
    "/renders/{render_id}/cancel",
    response={200: RenderOut, 409: None},
    auth=auth.RENDER,
    tags=["renders"],
)
def cancel_render(request, render_id: int = Id):
    job = in_workspace(_jobs(request), request, render_id, "render")
    if not rendering_services.cancel_render(job, reason="Cancelled through the API."):
        raise ApiProblem(409, "conflict", f"The render has already finished ({job.status}).")
    return render_out(job)


class DownloadsOut(Schema):
    mp4: str
    captions_vtt: str | None
    captions_srt: str | None
    poster: str | None
    expires_at: datetime


DOWNLOAD_SALT = "api.download"
DOWNLOAD_FIELDS = {"mp4": "file", "vtt": "captions_vtt", "srt": "captions_srt", "jpg": "poster"}


def download_url(request, video, kind: str) -> str:
    token = signing.dumps({"video": video.pk, "kind": kind}, salt=DOWNLOAD_SALT)
    return request.build_absolute_uri(reverse("api-download", kwargs={"token": token}))


@router.get(
    "/renders/{render_id}/downloads",
    response={200: DownloadsOut, 409: None, 410: None},
    auth=auth.READ,
    tags=["renders"],
    description="Links to the MP4, captions and poster, each valid for API_DOWNLOAD_SECONDS.",
)
def render_downloads(request, render_id: int = Id):
    job = in_workspace(_jobs(request), request, render_id, "render")
    video = getattr(job, "video", None) if job.status == RenderJob.Status.SUCCEEDED else None
    if video is None:
        raise ApiProblem(409, "not_ready", f"The render has no video ({job.status}).")
    if withdrawal := job.withdrawal:
        raise ApiProblem(410, "gone", withdrawal.reason)
    links = {
        name: download_url(request, video, kind) if getattr(video, DOWNLOAD_FIELDS[kind]) else None
        for name, kind in (
            ("mp4", "mp4"),
            ("captions_vtt", "vtt"),
            ("captions_srt", "srt"),
            ("poster", "jpg"),
        )
    }
    expires = timezone.now() + timedelta(seconds=settings.API_DOWNLOAD_SECONDS)
    return {**links, "expires_at": expires}


# ---- consent grants ------------------------------------------------------------------------


class GrantOut(Schema):
    id: int
    subject_id: int
    status: str
    purposes: list[str]
    languages: list[str]
    channels: list[str]
    territory: str
    forbidden_topics: list[str]
    requires_script_approval: bool
    valid_from: datetime
    valid_until: datetime
    signed_at: datetime | None
    revoked_at: datetime | None
    document_sha256: str


class GrantPage(Page):
    items: list[GrantOut]


def grant_out(grant: ConsentGrant) -> dict:
    return {
        "id": grant.pk,
        "subject_id": grant.subject_id,
        "status": grant.status,
        "purposes": list(grant.purposes),
        "languages": list(grant.languages),
        "channels": list(grant.channels),
        "territory": grant.territory,
        "forbidden_topics": list(grant.forbidden_topics),
        "requires_script_approval": grant.requires_script_approval,
        "valid_from": grant.valid_from,
        "valid_until": grant.valid_until,
        "signed_at": grant.signed_at,
        "revoked_at": grant.revoked_at,
        "document_sha256": grant.document_sha256,
    }


@router.get("/consent-grants", response=GrantPage, auth=auth.AUDIT, tags=["consent"])
def list_grants(request, limit: int = Limit, cursor: str | None = Cursor):
    grants = ConsentGrant.objects.filter(workspace=request.auth.workspace)
    return paginate(grants, limit=limit, cursor=cursor, out=grant_out)


@router.get("/consent-grants/{grant_id}", response=GrantOut, auth=auth.AUDIT, tags=["consent"])
def get_grant(request, grant_id: int = Id):
    return grant_out(in_workspace(ConsentGrant.objects, request, grant_id, "consent grant"))


# ---- verify --------------------------------------------------------------------------------


@router.post(
    "/verify",
    response={200: dict, 413: None},
    auth=auth.READ,
    tags=["provenance"],
    description="Upload a video or audio file (multipart field `file`): what this site knows "
    "of it, as the public /verify/api answers. The file is checked and deleted, never kept.",
)
def verify(request, file: UploadedFile = UploadField):
    if file.size > settings.VERIFY_MAX_BYTES:
        limit = settings.VERIFY_MAX_BYTES // (1024 * 1024)
        raise ApiProblem(413, "too_large", f"The file is larger than {limit} MB.")
    form = VerifyForm(files={"file": file})
    if not form.is_valid():
        raise validation_error(" ".join(form.errors.get("file", ["Send a file."])))
    try:
        return provenance_services.verify_upload(form.cleaned_data["file"]).report
    except provenance_services.VerificationRefused as error:
        raise refusal_problem(error) from error
