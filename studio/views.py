from django.shortcuts import redirect, render

from accounts.permissions import get_in_workspace, member_required
from avatars.models import Avatar
from consent.models import Purpose
from studio.forms import ScriptForm
from studio.models import Script


@member_required()
def script_list(request):
    return render(
        request,
        "studio/script_list.html",
        {"scripts": Script.objects.filter(workspace=request.workspace)},
    )


@member_required(edit=True)
def script_new(request):
    form = ScriptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        script = form.save(commit=False)
        script.workspace, script.created_by = request.workspace, request.user
        script.save()
        return redirect("studio:script_detail", script_id=script.pk)
    return render(
        request, "studio/script_form.html", {"form": form}, status=400 if form.errors else 200
    )


@member_required()
def script_detail(request, script_id: int):
    script = get_in_workspace(request, Script, pk=script_id)
    form = ScriptForm(instance=script)
    if request.method == "POST":
        if not request.membership.can_edit:
            return render(request, "403.html", status=403)
        form = ScriptForm(request.POST, instance=script)
        if form.is_valid():
            form.save()
            return redirect("studio:script_detail", script_id=script.pk)
    return render(
        request,
        "studio/script_detail.html",
        {
            "script": script,
            "form": form,
            # The Render form posts to rendering, which validates it again.
            "avatars": Avatar.objects.filter(
                workspace=request.workspace, status=Avatar.Status.ACTIVE
            ),
            "purposes": Purpose.choices,
            "jobs": script.render_jobs.select_related("avatar").order_by("-created_at")[:20],
        },
        status=400 if form.errors else 200,
    )
