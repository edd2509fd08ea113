from django.http import JsonResponse
from django.shortcuts import redirect, render

from avatars.models import Avatar
from consent.models import ConsentGrant, Subject
from rendering.models import RenderJob
from studio.models import Script


def home(request):
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    if request.workspace is None:
        return redirect("accounts:workspace_new")
    workspace = request.workspace
    context = {
        "subject_count": Subject.objects.filter(workspace=workspace).count(),
        "signed_grant_count": ConsentGrant.objects.filter(
            workspace=workspace, status=ConsentGrant.Status.ACTIVE
        ).count(),
        "avatar_count": Avatar.objects.filter(workspace=workspace).count(),
        "script_count": Script.objects.filter(workspace=workspace).count(),
        "recent_jobs": RenderJob.objects.filter(workspace=workspace).select_related(
            "avatar__grant", "script", "video"
        )[:10],
    }
    return render(request, "home.html", context)


def healthz(request):
    return JsonResponse({"ok": True})
