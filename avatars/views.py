from pathlib import Path

from django.shortcuts import redirect, render

from accounts.permissions import get_in_workspace, member_required
from avatars import services
from avatars.forms import AvatarForm
from avatars.models import Avatar
from config.private_media import serve_file


@member_required()
def avatar_list(request):
    avatars = Avatar.objects.filter(workspace=request.workspace).select_related("grant__subject")
    return render(request, "avatars/avatar_list.html", {"avatars": avatars})


@member_required(edit=True)
def avatar_new(request):
    form = AvatarForm(request.POST or None, request.FILES or None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        avatar = services.enroll_avatar(
            workspace=request.workspace,
            name=form.cleaned_data["name"],
            grant=form.cleaned_data["grant"],
            portrait=form.cleaned_data["portrait"],
            portrait_report=form.portrait_report,
            voice_sample=form.cleaned_data["voice_sample"],
            voice_report=form.voice_report,
            voice_enrollment=form.voice_enrollment,
            created_by=request.user,
        )
        return redirect("avatars:avatar_detail", avatar_id=avatar.pk)
    initial_grant = request.GET.get("grant")
    if initial_grant and not form.is_bound:
        form.initial["grant"] = initial_grant
    return render(
        request, "avatars/avatar_form.html", {"form": form}, status=400 if form.errors else 200
    )


@member_required()
def avatar_detail(request, avatar_id: int):
    avatar = get_in_workspace(
        request, Avatar.objects.select_related("grant__subject"), pk=avatar_id
    )
    return render(request, "avatars/avatar_detail.html", {"avatar": avatar})


@member_required()
def avatar_portrait(request, avatar_id: int):
    portrait = get_in_workspace(request, Avatar, pk=avatar_id).portrait
    return serve_file(request, portrait, filename=f"portrait{Path(portrait.name).suffix}")


@member_required()
def avatar_voice_sample(request, avatar_id: int):
    sample = get_in_workspace(request, Avatar, pk=avatar_id).voice_sample
    return serve_file(request, sample, filename=f"voice-sample{Path(sample.name).suffix}")
