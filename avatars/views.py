from pathlib import Path

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.permissions import get_in_workspace, member_required
from avatars import services
from avatars.forms import AvatarForm, AvatarReviewForm, FootageAvatarForm
from avatars.models import Avatar, AvatarError
from consent.views import AUDIT_ROLES, require_audit_role
from core.media import serve_file

# Who may see or hear the raw likeness (portrait, voice sample): viewers see renders only.
LIKENESS_ROLES = frozenset({Role.OWNER, Role.EDITOR, Role.AUDITOR})


def _may_see_likeness(request) -> bool:
    return request.membership.role in LIKENESS_ROLES


def _require_likeness_role(request) -> None:
    if not _may_see_likeness(request):
        raise PermissionDenied("Viewers see the videos, not the portraits or voice samples.")


@member_required()
def avatar_list(request):
    avatars = Avatar.objects.filter(workspace=request.workspace).select_related("grant__subject")
    return render(
        request,
        "avatars/avatar_list.html",
        {"avatars": avatars, "can_see_likeness": _may_see_likeness(request)},
    )


@member_required(edit=True)
def avatar_new(request):
    """A photo avatar: a portrait and a voice sample."""
    return _enroll(request, AvatarForm, footage=False)


@member_required(edit=True)
def avatar_new_footage(request):
    """A footage avatar: minutes of the subject's own video (and its sound, or a voice sample)."""
    return _enroll(request, FootageAvatarForm, footage=True)


def _enroll(request, form_class, *, footage: bool):
    form = form_class(request.POST or None, request.FILES or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        try:
            avatar = services.enroll_avatar(
                workspace=request.workspace,
                name=form.cleaned_data["name"],
                grant=form.cleaned_data["grant"],
                voice_enrollment=form.voice_enrollment,
                identity=form.identity_check,
                hold_reason=form.cleaned_data["hold_reason"],
                created_by=request.user,
                **form.enrollment(),
            )
        except services.IdentityMismatch as error:
            form.add_error(None, str(error))
        else:
            return redirect("avatars:avatar_detail", avatar_id=avatar.pk)
    elif request.method == "POST" and form.identity_refused:
        services.record_identity_refusal(
            form.cleaned_data["grant"], form.identity_check, by=request.user
        )
    initial_grant = request.GET.get("grant")
    if initial_grant and not form.is_bound:
        form.initial["grant"] = initial_grant
    return render(
        request,
        "avatars/avatar_form.html",
        {"form": form, "footage": footage},
        status=400 if form.errors else 200,
    )


@member_required()
def avatar_detail(request, avatar_id: int):
    avatar = get_in_workspace(
        request, Avatar.objects.select_related("grant__subject"), pk=avatar_id
    )
    return render(
        request,
        "avatars/avatar_detail.html",
        {
            "avatar": avatar,
            "can_audit": request.membership.role in AUDIT_ROLES,
            "can_see_likeness": _may_see_likeness(request),
            "review_form": AvatarReviewForm(),
        },
    )


@require_POST
@member_required()
def avatar_review(request, avatar_id: int):
    """An owner or auditor approves or rejects an avatar held for identity review."""
    require_audit_role(request)
    avatar = get_in_workspace(request, Avatar, pk=avatar_id)
    form = AvatarReviewForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"Not reviewed: {error}")
        return redirect("avatars:avatar_detail", avatar_id=avatar.pk)
    try:
        services.review_avatar(
            avatar, approve=form.approve, reason=form.cleaned_data["reason"], by=request.user
        )
    except AvatarError as error:
        messages.error(request, str(error))
    return redirect("avatars:avatar_detail", avatar_id=avatar.pk)


@member_required()
def avatar_portrait(request, avatar_id: int):
    _require_likeness_role(request)
    portrait = get_in_workspace(request, Avatar, pk=avatar_id).portrait
    return serve_file(request, portrait, filename=f"portrait{Path(portrait.name).suffix}")


@member_required()
def avatar_voice_sample(request, avatar_id: int):
    _require_likeness_role(request)
    sample = get_in_workspace(request, Avatar, pk=avatar_id).voice_sample
    return serve_file(request, sample, filename=f"voice-sample{Path(sample.name).suffix}")


@member_required()
def avatar_footage(request, avatar_id: int):
    _require_likeness_role(request)
    footage = get_in_workspace(request, Avatar, pk=avatar_id).footage
    if not footage:
        raise Http404("This avatar has no footage.")
    return serve_file(request, footage, filename=f"footage{Path(footage.name).suffix}")
