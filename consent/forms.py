from datetime import timedelta

from django import forms
from django.utils import timezone

from consent.models import ConsentDocument, Purpose, Subject


class SubjectForm(forms.ModelForm):
    class Meta:
        model = Subject
        fields = ["full_name", "email"]


def _normalise_name(name: str) -> str:
    return " ".join(name.casefold().split())


class SignedConsentForm(forms.Form):
    document = forms.ModelChoiceField(queryset=ConsentDocument.objects.none(), empty_label=None)
    purposes = forms.MultipleChoiceField(
        choices=Purpose.choices, widget=forms.CheckboxSelectMultiple, initial=[Purpose.INTERNAL]
    )
    valid_from = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    valid_until = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    signature_name = forms.CharField(
        max_length=200, label="Typed signature", help_text="The subject types their full name."
    )
    subject_read_document = forms.BooleanField(
        label="The subject read this exact document and typed their signature themselves."
    )

    def __init__(self, *args, subject: Subject, **kwargs):
        super().__init__(*args, **kwargs)
        self.subject = subject
        self.fields["document"].queryset = ConsentDocument.available_to(subject.workspace)
        now = timezone.now().replace(second=0, microsecond=0)
        self.fields["valid_from"].initial = now
        self.fields["valid_until"].initial = now + timedelta(days=365)

    def clean_signature_name(self):
        typed = self.cleaned_data["signature_name"]
        if _normalise_name(typed) != _normalise_name(self.subject.full_name):
            raise forms.ValidationError(
                "The signature must be the subject's full name as recorded: "
                f"{self.subject.full_name}."
            )
        return typed.strip()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("valid_from"), cleaned.get("valid_until")
        if start and end:
            if end <= start:
                self.add_error("valid_until", "The consent must end after it starts.")
            elif end <= timezone.now():
                self.add_error(
                    "valid_until", "This date is already past; the consent would never be valid."
                )
        return cleaned
