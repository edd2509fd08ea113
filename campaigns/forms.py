from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from avatars.models import Avatar
from campaigns.models import Campaign
from consent.models import Purpose
from core.merge_fields import FIELD_KINDS
from studio.models import Script

COLOR_HELP = "The share page's colour, as #rrggbb."


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=200)
    script = forms.ModelChoiceField(
        queryset=Script.objects.none(),
        help_text="Its text is the template: write {{first_name}} or {{first_name|there}} where "
        "a recipient's value goes.",
    )
    avatar = forms.ModelChoiceField(queryset=Avatar.objects.none())
    purpose = forms.ChoiceField(choices=Purpose.choices, initial=Purpose.MARKETING)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["script"].queryset = Script.objects.filter(workspace=workspace)
        self.fields["avatar"].queryset = Avatar.objects.filter(
            workspace=workspace, status=Avatar.Status.ACTIVE
        )


class CampaignTextsForm(forms.ModelForm):
    """The campaign's written templates and the kind of value each field takes."""

    class Meta:
        model = Campaign
        fields = [
            "on_screen_text",
            "page_title",
            "page_message",
            "cta_label",
            "cta_url",
            "brand_color",
        ]
        labels = {
            "on_screen_text": "Text on screen (a lower third)",
            "page_title": "Share page headline",
            "page_message": "Share page message",
            "cta_label": "Call-to-action button",
            "cta_url": "Call-to-action link",
        }
        help_texts = {"brand_color": COLOR_HELP, "cta_url": "https://…, may hold {{fields}}."}
        widgets = {"page_message": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.instance.fields:
            self.fields[f"kind_{field['name']}"] = forms.ChoiceField(
                label=f"{{{{{field['name']}}}}} takes",
                choices=[(key, kind.label) for key, kind in FIELD_KINDS.items()],
                initial=field["kind"],
            )

    def clean_brand_color(self):
        color = self.cleaned_data["brand_color"]
        if not (
            len(color) == 7
            and color[0] == "#"
            and all(c in "0123456789abcdefABCDEF" for c in color[1:])
        ):
            raise forms.ValidationError("Write the colour as # and six hex digits, e.g. #1f6feb.")
        return color.lower()

    def clean_cta_url(self):
        url = self.cleaned_data["cta_url"].strip()
        if url and not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError("The link must start with https:// or http://.")
        return url

    def kinds(self) -> dict[str, str]:
        return {
            name[len("kind_") :]: value
            for name, value in self.cleaned_data.items()
            if name.startswith("kind_")
        }


class RecipientsForm(forms.Form):
    file = forms.FileField(required=False, label="A CSV file")
    text = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Or paste the rows (a header line first)",
    )

    def clean(self):
        data = super().clean()
        upload, text = data.get("file"), (data.get("text") or "").strip()
        if not upload and not text:
            raise forms.ValidationError("Choose a CSV file or paste the rows.")
        if upload and upload.size > settings.CAMPAIGN_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {filesizeformat(upload.size)}; the limit for a recipients file is "
                f"{filesizeformat(settings.CAMPAIGN_MAX_BYTES)}."
            )
        return data
