from django import forms
from django.conf import settings

from avatars.identity import check_identity
from consent.models import ConsentGrant
from core.uploads import PortraitField, VoiceSampleField, inspect_upload
from engine.errors import EngineError
from engine.voice.enrollment import check_enrollment_sample


class AvatarForm(forms.Form):
    name = forms.CharField(max_length=100)
    grant = forms.ModelChoiceField(
        queryset=ConsentGrant.objects.none(),
        label="Consent",
        help_text="Only signed consents can carry an avatar.",
        error_messages={"invalid_choice": "Choose a signed consent of this workspace."},
    )
    portrait = PortraitField(
        help_text="A well-lit, frontal photo of the subject alone (JPG, PNG or WebP).",
    )
    voice_sample = VoiceSampleField(
        help_text=(
            "A WAV recording (16 kHz or more) of the subject alone reading a few sentences in a "
            "quiet room; 30 seconds of speech gives the most faithful voice."
        ),
    )
    hold_for_review = forms.BooleanField(
        required=False,
        label="If the portrait or voice does not match the consent, hold the avatar for review",
        help_text=(
            "Both are compared with the consent's reference photo, reference voice and verified "
            "consent clip. A held avatar cannot render until an owner or auditor approves it."
        ),
    )
    hold_reason = forms.CharField(
        required=False,
        max_length=2000,
        label="Why it should be reviewed",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example: the photo is ten years older than the reference.",
    )

    identity_check = None  # the comparison with the consent's references, once made

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grant"].queryset = ConsentGrant.objects.filter(
            workspace=workspace, status=ConsentGrant.Status.ACTIVE
        ).select_related("subject")
        self.fields["grant"].label_from_instance = lambda g: (
            f"{g.subject.full_name} — signed {g.signed_at:%Y-%m-%d}, "
            f"valid until {g.valid_until:%Y-%m-%d}"
        )

    def clean_voice_sample(self):
        upload = self.cleaned_data["voice_sample"]
        # Enrollment: enough speech, no clipping, a quiet room, one speaker.
        self.voice_enrollment = inspect_upload(
            upload,
            check_enrollment_sample,
            min_speech_seconds=settings.MIN_VOICE_SPEECH_SECONDS,
            min_sample_rate=settings.MIN_VOICE_SAMPLE_RATE,
            min_snr_db=settings.MIN_VOICE_SNR_DB,
        )
        return upload

    def clean(self):
        """Is the likeness the consenting person's? Compared only once every upload is valid."""
        cleaned = super().clean()
        grant = cleaned.get("grant")
        if self.errors or grant is None:
            return cleaned
        try:
            self.identity_check = check_identity(
                grant, portrait=cleaned["portrait"], voice_sample=cleaned["voice_sample"]
            )
        except EngineError as error:
            raise forms.ValidationError(str(error)) from error
        if self.identity_check.passed:
            return cleaned
        if not cleaned.get("hold_for_review"):
            raise forms.ValidationError(
                [
                    *self.identity_check.reasons,
                    "If this is the consenting person (an older photo, a cold), tick “hold for "
                    "review” and say why; an owner or auditor then decides before it can render.",
                ]
            )
        if not cleaned.get("hold_reason", "").strip():
            self.add_error("hold_reason", "Say why this avatar should be reviewed.")
        return cleaned

    @property
    def identity_refused(self) -> bool:
        """Compared, not matched, and not held: a refusal the ledger records."""
        return (
            self.identity_check is not None
            and not self.identity_check.passed
            and not self.is_valid()
        )


class AvatarReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required: say what you compared (photos, voice, the consent clip) and why.",
    )

    @property
    def approve(self) -> bool:
        return self.cleaned_data["decision"] == "approve"
