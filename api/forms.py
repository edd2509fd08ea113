from django import forms

from api.models import Scope


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “CRM sync”.")
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one scope."},
    )
    expires_at = forms.DateTimeField(
        required=False,
        help_text="Optional: the token stops working at this time (YYYY-MM-DD HH:MM, UTC).",
    )

    def clean_expires_at(self):
        from django.utils import timezone

        value = self.cleaned_data["expires_at"]
        if value is not None and value <= timezone.now():
            raise forms.ValidationError("Choose a time in the future, or leave it empty.")
        return value


class WebhookEndpointForm(forms.Form):
    url = forms.URLField(max_length=500, label="URL", help_text="Where events are POSTed.")
    description = forms.CharField(max_length=200, required=False)
    events = forms.MultipleChoiceField(
        choices=[],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )

    def __init__(self, *args, **kwargs):
        from api.models import SUBSCRIBABLE_EVENTS, Event

        super().__init__(*args, **kwargs)
        labels = dict(Event.choices)
        self.fields["events"].choices = [(e, f"{e}: {labels[e]}") for e in SUBSCRIBABLE_EVENTS]
