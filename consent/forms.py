from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils import timezone

from consent.models import Channel, ConsentDocument, Language, Purpose, Subject


class SubjectForm(forms.ModelForm):
    class Meta:
        model = Subject
        fields = ["full_name", "email"]


def _normalise_name(name: str) -> str:
    return " ".join(name.casefold().split())


class ValidityPeriodMixin:
    """Forms with valid_from / valid_until: the period must end after it starts, in the future."""

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


class SignedConsentForm(ValidityPeriodMixin, forms.Form):
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


def _lines_or_commas(text: str) -> list[str]:
    parts = [p.strip() for chunk in text.splitlines() for p in chunk.split(",")]
    return [p for p in parts if p]


class InviteForm(ValidityPeriodMixin, forms.Form):
    """A grant's scope, and the reference photo and voice its consent clip is checked against."""

    document = forms.ModelChoiceField(queryset=ConsentDocument.objects.none(), empty_label=None)
    purposes = forms.MultipleChoiceField(
        choices=Purpose.choices, widget=forms.CheckboxSelectMultiple, initial=[Purpose.INTERNAL]
    )
    languages = forms.MultipleChoiceField(
        choices=Language.choices, widget=forms.CheckboxSelectMultiple, initial=[Language.ENGLISH]
    )
    channels = forms.MultipleChoiceField(
        choices=Channel.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    territory = forms.CharField(max_length=200, initial="Worldwide")
    valid_from = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    valid_until = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    forbidden_topics = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Words or phrases, one per line or separated by commas. Scripts that mention "
        "one are never rendered.",
    )
    requires_script_approval = forms.BooleanField(
        required=False, label="Each script needs the subject's approval"
    )
    compensation = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    reference_portrait = forms.FileField(
        label="Reference photo",
        help_text="A frontal photo of the subject alone; their consent clip is compared with it.",
        widget=forms.ClearableFileInput(attrs={"accept": ".jpg,.jpeg,.png,.webp"}),
    )
    reference_voice = forms.FileField(
        label="Reference voice sample",
        help_text="A WAV recording of the subject speaking; the clip's voice is compared with it.",
        widget=forms.ClearableFileInput(attrs={"accept": ".wav"}),
    )

    def __init__(self, *args, subject: Subject, **kwargs):
        super().__init__(*args, **kwargs)
        self.subject = subject
        self.fields["document"].queryset = ConsentDocument.available_to(subject.workspace)
        now = timezone.now().replace(second=0, microsecond=0)
        self.fields["valid_from"].initial = now
        self.fields["valid_until"].initial = now + timedelta(days=365)

    def clean_forbidden_topics(self):
        return _lines_or_commas(self.cleaned_data["forbidden_topics"])[:50]

    def clean_reference_portrait(self):
        from avatars.forms import PORTRAIT_EXTENSIONS, check_upload, inspect_upload
        from engine.face import inspect_portrait

        upload = self.cleaned_data["reference_portrait"]
        check_upload(
            upload,
            extensions=PORTRAIT_EXTENSIONS,
            max_bytes=settings.MAX_PORTRAIT_BYTES,
            what="reference photo",
        )
        inspect_upload(upload, inspect_portrait)
        return upload

    def clean_reference_voice(self):
        from avatars.forms import VOICE_EXTENSIONS, check_upload, inspect_upload
        from engine.voice import inspect_voice_sample

        upload = self.cleaned_data["reference_voice"]
        check_upload(
            upload,
            extensions=VOICE_EXTENSIONS,
            max_bytes=settings.MAX_VOICE_SAMPLE_BYTES,
            what="reference voice sample",
        )
        inspect_upload(upload, inspect_voice_sample, min_seconds=settings.MIN_VOICE_SAMPLE_SECONDS)
        return upload

    def scope(self) -> dict:
        data = self.cleaned_data
        return {
            key: data[key]
            for key in (
                "purposes",
                "languages",
                "channels",
                "territory",
                "valid_from",
                "valid_until",
                "forbidden_topics",
                "requires_script_approval",
                "compensation",
            )
        }


MAX_SIGNATURE_BYTES = 512 * 1024


class SignForm(forms.Form):
    """The subject's signature and explicit agreement on their link."""

    typed_name = forms.CharField(
        max_length=200, label="Your full name", help_text="Typed as your signature."
    )
    drawn_signature = forms.CharField(required=False, widget=forms.HiddenInput)
    document_sha256 = forms.CharField(max_length=64, widget=forms.HiddenInput)
    agree = forms.BooleanField(
        label="I agree",
        error_messages={"required": "Tick “I agree” to give your consent."},
    )

    def __init__(self, *args, subject: Subject, **kwargs):
        super().__init__(*args, **kwargs)
        self.subject = subject

    def clean_typed_name(self):
        typed = self.cleaned_data["typed_name"]
        if _normalise_name(typed) != _normalise_name(self.subject.full_name):
            raise forms.ValidationError(
                f"Type your full name as the invitation shows it: {self.subject.full_name}."
            )
        return typed.strip()

    def clean_drawn_signature(self):
        import base64
        import binascii

        value = self.cleaned_data["drawn_signature"].strip()
        if not value:
            return None
        prefix = "data:image/png;base64,"
        if not value.startswith(prefix):
            raise forms.ValidationError("The drawn signature is not a PNG image; draw it again.")
        try:
            png = base64.b64decode(value[len(prefix) :], validate=True)
        except (binascii.Error, ValueError) as error:
            raise forms.ValidationError("The drawn signature is damaged; draw it again.") from error
        if len(png) > MAX_SIGNATURE_BYTES or not png.startswith(b"\x89PNG\r\n\x1a\n"):
            raise forms.ValidationError("The drawn signature is not a PNG image; draw it again.")
        return png


class RevokeForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why (optional)",
    )
    confirm = forms.BooleanField(
        label="I revoke my consent",
        error_messages={"required": "Tick the box to confirm that you revoke your consent."},
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    @property
    def approve(self) -> bool:
        return self.cleaned_data["decision"] == "approve"


class ReviewForm(DecisionForm):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required: say what you checked in the clip and why you decided so.",
    )


class ScriptRequestForm(forms.Form):
    script = forms.ModelChoiceField(queryset=None, empty_label=None)

    def __init__(self, *args, workspace, **kwargs):
        from studio.models import Script

        super().__init__(*args, **kwargs)
        self.fields["script"].queryset = Script.objects.filter(workspace=workspace)
