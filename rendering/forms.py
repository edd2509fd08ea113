from django import forms

from avatars.models import Avatar
from consent.models import Purpose
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

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["script"].queryset = Script.objects.filter(workspace=workspace)
        self.fields["avatar"].queryset = Avatar.objects.filter(
            workspace=workspace, status=Avatar.Status.ACTIVE
        ).select_related("grant")
