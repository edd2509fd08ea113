from django import forms
from django.conf import settings

from studio.models import Script


class ScriptForm(forms.ModelForm):
    class Meta:
        model = Script
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 10})}
        labels = {"body": "What the presenter says"}

    def clean_body(self):
        body = self.cleaned_data["body"].strip()
        limit = settings.MAX_SCRIPT_CHARACTERS
        if len(body) > limit:
            raise forms.ValidationError(
                f"The script has {len(body):,} characters; the limit is {limit:,}. "
                "Split it into several scripts."
            )
        if not any(ch.isalnum() for ch in body):
            raise forms.ValidationError("The script has no words to speak.")
        return body
