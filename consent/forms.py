from datetime import timedelta

from django import forms
from django.conf import settings
from django.utils import timezone

from consent.models import (
    Channel,
    ConsentDocument,
    ConsentGrant,
    ConsentMethod,
    Language,
    Purpose,
    Subject,
)
from consent.uploads import (
    SIGNED_DOCUMENT_TYPES,
    WRITTEN_REQUEST_TYPES,
    EvidenceFileError,
    check_evidence_file,
    describe_types,
)
from core.uploads import PortraitField, VoiceSampleField


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
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Where the videos may be shown. Only the website, social media and email have "
        "public share pages; with none of them ticked, the videos stay internal.",
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
    reference_portrait = PortraitField(
        what="reference photo",
        label="Reference photo",
        help_text="A frontal photo of the subject alone; their consent clip is compared with it.",
    )
    reference_voice = VoiceSampleField(
        what="reference voice sample",
        label="Reference voice sample",
        help_text="A WAV recording of the subject speaking; the clip's voice is compared with it.",
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

    def scope(self) -> dict:
        return {key: self.cleaned_data[key] for key in ConsentGrant.SCOPE_FIELDS}


def _evidence_file(upload, *, types: dict[str, str], what: str):
    try:
        check_evidence_file(
            upload, types=types, max_bytes=settings.CONSENT_MAX_DOCUMENT_BYTES, what=what
        )
    except EvidenceFileError as error:
        raise forms.ValidationError(str(error)) from error
    return upload


def _types_help(types: dict[str, str]) -> str:
    from django.template.defaultfilters import filesizeformat

    return f"{describe_types(types)}, at most {filesizeformat(settings.CONSENT_MAX_DOCUMENT_BYTES)}"


class SignedPaperForm(forms.Form):
    """The scan of a consent the subject signed on paper, who witnessed it, and when."""

    signed_document = forms.FileField(
        label="Scan of the signed consent",
        help_text=(
            "Every page of the printed document with the subject's handwritten signature: "
            f"{_types_help(SIGNED_DOCUMENT_TYPES)}."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    witness_name = forms.CharField(
        max_length=200,
        label="Witness's full name",
        help_text="The person who saw the subject sign; not the subject.",
    )
    signed_on = forms.DateField(
        label="Date signed",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date beside the subject's signature.",
    )

    # Set by the subclass or the caller: whose signature the paper holds.
    subject: Subject

    def clean_signed_document(self):
        return _evidence_file(
            self.cleaned_data["signed_document"],
            types=SIGNED_DOCUMENT_TYPES,
            what="signed consent",
        )

    def clean_witness_name(self):
        witness = " ".join(self.cleaned_data["witness_name"].split())
        if len(witness) < 2:
            raise forms.ValidationError("Write the witness's full name.")
        if _normalise_name(witness) == _normalise_name(self.subject.full_name):
            raise forms.ValidationError(
                "The witness is someone else who saw the subject sign, not the subject."
            )
        return witness

    def clean_signed_on(self):
        signed_on = self.cleaned_data["signed_on"]
        if signed_on > timezone.localdate():
            raise forms.ValidationError("The date signed cannot be in the future.")
        return signed_on


class RemoteInviteForm(InviteForm):
    """An invitation the subject answers on their own device: the link may go by email."""

    email_link = forms.BooleanField(
        required=False,
        initial=True,
        label="Email the link to the subject",
        help_text="Sent to the subject's email address; the link is also shown once here.",
    )
    message = forms.CharField(
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Your message (in the email)",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("email_link") and not self.subject.email:
            self.add_error("email_link", "The subject has no email address; copy the link instead.")
        return cleaned


class SignedDocumentForm(InviteForm, SignedPaperForm):
    """A new consent signed on paper: its scope, the references for avatars, and the scan."""

    field_order = ["signed_document", "witness_name", "signed_on", "document"]

    def clean(self):
        cleaned = super().clean()
        document, signed_on = cleaned.get("document"), cleaned.get("signed_on")
        if document and signed_on and signed_on < timezone.localdate(document.created_at):
            self.add_error(
                "signed_on",
                f"“{document}” was published on {document.created_at:%Y-%m-%d}; a paper signed "
                "before that is another document. Choose the version the subject signed.",
            )
        return cleaned


class AddSignedPaperForm(SignedPaperForm):
    """The signed paper for a consent that was recorded without evidence, or awaits signing."""

    def __init__(self, *args, grant, **kwargs):
        super().__init__(*args, **kwargs)
        self.grant, self.subject = grant, grant.subject

    def clean_signed_on(self):
        signed_on = super().clean_signed_on()
        published = self.grant.document.created_at
        if signed_on < timezone.localdate(published):
            raise forms.ValidationError(
                f"“{self.grant.document}” was published on {published:%Y-%m-%d}; a paper signed "
                "before that is another document."
            )
        return signed_on


class WrittenRevocationForm(forms.Form):
    """An owner revokes a consent because the subject asked so in writing."""

    written_request = forms.FileField(
        label="The subject's written request",
        help_text=(
            "A scan of their letter, the email they sent (saved as .eml) or its text: "
            f"{_types_help(WRITTEN_REQUEST_TYPES)}."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(WRITTEN_REQUEST_TYPES)}),
    )
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the subject asked for, when, and how you know the request is theirs.",
    )
    confirm = forms.BooleanField(
        label="Revoke this consent now: renders waiting are cancelled, its avatars disabled and "
        "its share pages taken offline. This cannot be undone.",
        error_messages={"required": "Tick the box to confirm the revocation."},
    )

    def clean_written_request(self):
        return _evidence_file(
            self.cleaned_data["written_request"],
            types=WRITTEN_REQUEST_TYPES,
            what="written request",
        )


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

    def __init__(self, *args, grant=None, **kwargs):
        super().__init__(*args, **kwargs)
        if grant is not None and grant.method == ConsentMethod.SIGNED_DOCUMENT:
            self.fields["reason"].help_text = (
                "Required: say what you checked on the scan (the document version and scope "
                "printed on it, the signature and date, the witness) and why you decided so."
            )


class AuditFilterForm(forms.Form):
    """The audit pages' and exports' filters, from the query string; every field optional."""

    status = forms.ChoiceField(
        choices=[("", "any"), *ConsentGrant.Status.choices],
        required=False,
        error_messages={"invalid_choice": "“%(value)s” is not a consent status."},
    )
    subject = forms.CharField(required=False, max_length=200)
    expires_before = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={
            "invalid": "Enter a date that exists, as YYYY-MM-DD (for example 2026-02-28)."
        },
    )

    def error_message(self) -> str:
        """One line naming each filter that is wrong and why."""
        return " ".join(
            f"{self.fields[name].label or name.replace('_', ' ').capitalize()}: {message}"
            for name, messages in self.errors.items()
            for message in messages
        )

    def grants(self, workspace):
        """The workspace's grants that pass the (valid) filters, soonest to expire first."""
        grants = (
            ConsentGrant.objects.filter(workspace=workspace)
            .select_related("subject", "document")
            .prefetch_related("verifications")
        )
        if self.cleaned_data["status"]:
            grants = grants.filter(status=self.cleaned_data["status"])
        subject = self.cleaned_data["subject"].strip()
        if subject:
            grants = grants.filter(subject__full_name__icontains=subject)
        if self.cleaned_data["expires_before"]:
            grants = grants.filter(valid_until__date__lte=self.cleaned_data["expires_before"])
        return grants.order_by("valid_until")
