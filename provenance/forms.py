from django import forms
from django.conf import settings

from provenance.models import LabelSettings


class VerifyForm(forms.Form):
    file = forms.FileField(
        label="Video or audio file",
        help_text="MP4, MOV, WebM, MP3, M4A or WAV; checked and then deleted, never kept.",
        error_messages={
            "required": "Choose a video or audio file to check.",
            "empty": "The file is empty: it is not a video or audio file we can read.",
            "invalid": "Send the file as a multipart form upload in the field “file”.",
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.VERIFY_MAX_BYTES:
            limit = settings.VERIFY_MAX_BYTES // (1024 * 1024)
            raise forms.ValidationError(f"The file is larger than {limit} MB.")
        return upload


class LabelSettingsForm(forms.ModelForm):
    class Meta:
        model = LabelSettings
        fields = ["position", "language", "opening_card"]
