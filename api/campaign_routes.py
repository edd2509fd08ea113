"""Campaigns and lessons through the API: the campaigns' and lessons' own services, as their
pages call them."""

import csv
import io
from datetime import datetime
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.urls import reverse
from ninja import Router, Schema, Status
from pydantic import Field

from api import auth
from api.errors import ApiProblem, refusal_problem, validation_error
from api.pagination import MAX_ID, Page, in_workspace, paginate
from api.resources import Cursor, Id, Limit, PurposeName, render_out
from avatars.models import Avatar
from campaigns import exports, progress
from campaigns import services as campaign_services
from campaigns.models import Campaign
from core.errors import UserError
from lessons import services as lesson_services
from lessons.models import ASPECTS, Lesson
from rendering.services import RenderRefused
from studio.models import Script

router = Router()

# ---- campaigns -----------------------------------------------------------------------------


class CampaignIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    script_id: int = Field(..., ge=1, le=MAX_ID, description="The template, with {{fields}}")
    avatar_id: int = Field(..., ge=1, le=MAX_ID)
    purpose: PurposeName
    recipients: list[dict[str, str]] = Field(
        default_factory=list,
        max_length=settings.CAMPAIGN_MAX_ROWS,
        description="One object per recipient: field name → value (as a CSV row would say)",
    )
    launch: bool = Field(False, description="Launch at once (one render per recipient)")


class CampaignOut(Schema):
    id: int
    name: str
    status: str
    purpose: str
    script_id: int
    avatar_id: int
    fields: list[str]
    counts: dict[str, int]
    percent: int
    finished: bool
    created_at: datetime
    launched_at: datetime | None


class CampaignPage(Page):
    items: list[CampaignOut]


def campaign_out(campaign: Campaign) -> dict:
    snapshot = progress.snapshot(campaign)
    return {
        "id": campaign.pk,
        "name": campaign.name,
        "status": campaign.status,
        "purpose": campaign.purpose,
        "script_id": campaign.script_id,
        "avatar_id": campaign.avatar_id,
        "fields": [f["name"] for f in campaign.fields],
        "counts": snapshot.counts,
        "percent": snapshot.percent,
        "finished": snapshot.finished,
        "created_at": campaign.created_at,
        "launched_at": campaign.launched_at,
    }


def _recipients_text(campaign: Campaign, rows: list[dict[str, str]]) -> str:
    """The rows as the CSV the page accepts, so they pass the very same checks."""
    names = [f["name"] for f in campaign.fields]
    extra = sorted({key for row in rows for key in row} - set(names))
    if extra:
        raise validation_error(f"Unknown recipient fields {extra}; the template has {names}.")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(names)
    for row in rows:
        writer.writerow([row.get(name, "") for name in names])
    return buffer.getvalue()


def _campaign_refused(error: UserError) -> ApiProblem:
    return refusal_problem(error)


@router.post("/campaigns", response={201: CampaignOut}, auth=auth.RENDER, tags=["campaigns"])
def create_campaign(request, payload: CampaignIn):
    workspace = request.auth.workspace
    script = in_workspace(Script.objects, request, payload.script_id, "script")
    avatar = in_workspace(
        Avatar.objects.select_related("grant"), request, payload.avatar_id, "avatar"
    )
    with transaction.atomic():  # a refused list or launch leaves no half-made campaign
        try:
            campaign = campaign_services.create_campaign(
                workspace=workspace,
                user=request.auth.created_by,
                name=payload.name,
                script=script,
                avatar=avatar,
                purpose=payload.purpose,
            )
            if payload.recipients:
                text = _recipients_text(campaign, payload.recipients)
                recipients = campaign_services.read_list(campaign, text=text)
                if not recipients.ok:
                    errors = [
                        {"loc": ["body", "recipients", p.line - 2], "msg": p.message}
                        for p in recipients.problems
                    ]
                    raise validation_error(
                        f"{len(errors)} recipient problems; nothing was kept.", errors=errors
                    )
                campaign_services.replace_recipients(campaign, recipients)
            if payload.launch:
                campaign_services.launch(campaign, user=request.auth.created_by)
                campaign.refresh_from_db()
        except UserError as error:
            transaction.set_rollback(True)
            raise _campaign_refused(error) from error
        except ApiProblem:
            transaction.set_rollback(True)
            raise
    return Status(201, campaign_out(campaign))


@router.get("/campaigns", response=CampaignPage, auth=auth.READ, tags=["campaigns"])
def list_campaigns(request, limit: int = Limit, cursor: str | None = Cursor):
    campaigns = Campaign.objects.filter(workspace=request.auth.workspace).exclude(
        status=Campaign.Status.DELETED
    )
    return paginate(campaigns, limit=limit, cursor=cursor, out=campaign_out)


def _campaign(request, campaign_id: int) -> Campaign:
    return in_workspace(
        Campaign.objects.exclude(status=Campaign.Status.DELETED), request, campaign_id, "campaign"
    )


@router.get("/campaigns/{campaign_id}", response=CampaignOut, auth=auth.READ, tags=["campaigns"])
def get_campaign(request, campaign_id: int = Id):
    return campaign_out(_campaign(request, campaign_id))


@router.post(
    "/campaigns/{campaign_id}/launch", response=CampaignOut, auth=auth.RENDER, tags=["campaigns"]
)
def launch_campaign(request, campaign_id: int = Id):
    campaign = _campaign(request, campaign_id)
    try:
        campaign_services.launch(campaign, user=request.auth.created_by)
    except UserError as error:
        raise _campaign_refused(error) from error
    campaign.refresh_from_db()
    return campaign_out(campaign)


@router.get(
    "/campaigns/{campaign_id}/export",
    response={200: None},
    auth=auth.READ,
    tags=["campaigns"],
    description="Every recipient with its status and links, as CSV.",
    openapi_extra={
        "responses": {
            "200": {
                "description": "CSV",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    },
)
def export_campaign(request, campaign_id: int = Id):
    campaign = _campaign(request, campaign_id)
    text = exports.campaign_csv(campaign, absolute=request.build_absolute_uri)
    response = HttpResponse(text, content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}.csv"'
    return response


# ---- lessons -------------------------------------------------------------------------------


class SceneIn(Schema):
    script: str = Field(..., min_length=1, max_length=settings.MAX_SCRIPT_CHARACTERS)
    title: str = Field("", max_length=200)


class LessonIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    aspect: Literal[tuple(ASPECTS)] = "landscape-720p"
    avatar_id: int = Field(..., ge=1, le=MAX_ID)
    scenes: list[SceneIn] = Field(..., min_length=1, max_length=settings.TIMELINE_MAX_SCENES)


class SceneOut(Schema):
    id: int
    position: int
    title: str
    script: str


class LessonOut(Schema):
    id: int
    title: str
    aspect: str
    avatar_id: int | None
    scenes: list[SceneOut]
    latest_render_id: int | None
    created_at: datetime


class LessonPage(Page):
    items: list[LessonOut]


class ScormOut(Schema):
    scorm_12: str
    scorm_2004: str


def lesson_out(lesson: Lesson) -> dict:
    latest = lesson.renders().first()
    return {
        "id": lesson.pk,
        "title": lesson.title,
        "aspect": lesson.aspect,
        "avatar_id": lesson.avatar_id,
        "scenes": [
            {"id": s.pk, "position": s.position, "title": s.title, "script": s.script}
            for s in lesson.ordered_scenes()
        ],
        "latest_render_id": latest.pk if latest else None,
        "created_at": lesson.created_at,
    }


def _lesson(request, lesson_id: int) -> Lesson:
    return in_workspace(Lesson.objects, request, lesson_id, "lesson")


@router.post("/lessons", response={201: LessonOut}, auth=auth.RENDER, tags=["lessons"])
def create_lesson(request, payload: LessonIn):
    avatar = in_workspace(Avatar.objects, request, payload.avatar_id, "avatar")
    with transaction.atomic():
        lesson = Lesson.objects.create(
            workspace=request.auth.workspace,
            title=payload.title,
            aspect=payload.aspect,
            avatar=avatar,
            created_by=request.auth.created_by,
        )
        try:
            for scene in payload.scenes:
                lesson_services.add_scene(lesson, script=scene.script, title=scene.title)
        except UserError as error:
            transaction.set_rollback(True)
            raise refusal_problem(error) from error
    return Status(201, lesson_out(lesson))


@router.get("/lessons", response=LessonPage, auth=auth.READ, tags=["lessons"])
def list_lessons(request, limit: int = Limit, cursor: str | None = Cursor):
    lessons = Lesson.objects.filter(workspace=request.auth.workspace)
    return paginate(lessons, limit=limit, cursor=cursor, out=lesson_out)


@router.get("/lessons/{lesson_id}", response=LessonOut, auth=auth.READ, tags=["lessons"])
def get_lesson(request, lesson_id: int = Id):
    return lesson_out(_lesson(request, lesson_id))


@router.post(
    "/lessons/{lesson_id}/render",
    response={201: dict},
    auth=auth.RENDER,
    tags=["lessons"],
    description="Render the whole lesson (purpose: training); the consent policy decides. The "
    "answer is the render, as GET /renders/{id} shows it.",
)
def render_lesson(request, lesson_id: int = Id):
    lesson = _lesson(request, lesson_id)
    try:
        lesson_services.screen(lesson, user=request.auth.created_by)
        rendered = lesson_services.submit_lesson(lesson, user=request.auth.created_by)
    except RenderRefused as refusal:
        raise refusal_problem(refusal, default_code="consent_refused") from refusal
    except UserError as error:
        raise refusal_problem(error) from error
    return Status(201, render_out(rendered.job))


@router.get(
    "/lessons/{lesson_id}/scorm",
    response={200: ScormOut, 409: None},
    auth=auth.READ,
    tags=["lessons"],
    description="Links to SCORM packages (1.2 and 2004) of the lesson's latest video, each "
    "valid for API_DOWNLOAD_SECONDS.",
)
def lesson_scorm(request, lesson_id: int = Id):
    from django.core import signing

    lesson = _lesson(request, lesson_id)
    video = lesson.latest_video()
    if video is None or video.withdrawal:
        raise ApiProblem(
            409, "not_ready", "Render the lesson first: SCORM packages hold its video."
        )
    links = {}
    for version, name in (("1.2", "scorm_12"), ("2004", "scorm_2004")):
        token = signing.dumps({"lesson": lesson.pk, "version": version}, salt=SCORM_SALT)
        links[name] = request.build_absolute_uri(reverse("api-scorm", kwargs={"token": token}))
    return links


SCORM_SALT = "api.scorm"
