from django import forms

from avatars.models import Avatar
from consent.models import Purpose
from engine.face.drive import DEFAULT_MOTION
from rendering.models import MOTION_CHOICES
from studio.models import Script


class RenderForm(forms.Form):
    script = forms.ModelChoiceField(queryset=Script.objects.none())
    avatar = forms.ModelChoiceField(
        queryset=Avatar.objects.none(),
        error_messages={"invalid_choice": "Choose an active avatar of this workspace."},
    )
    # No default: a purpose picked for the user (it was Marketing) is a purpose nobody chose.
    purpose = forms.ChoiceField(
        choices=Purpose.choices,
        error_messages={
            "required": "Choose the purpose of the video: the subject consented to some only."
        },
    )

    # Optional: a form without it (an older page) renders with the natural setting.
    motion = forms.ChoiceField(choices=MOTION_CHOICES, required=False)

    def clean_motion(self) -> str:
        return self.cleaned_data["motion"] or DEFAULT_MOTION

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["script"].queryset = Script.objects.filter(workspace=workspace)
        self.fields["avatar"].queryset = Avatar.objects.filter(
            workspace=workspace, status=Avatar.Status.ACTIVE
        ).select_related("grant")
