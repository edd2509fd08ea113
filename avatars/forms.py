import tempfile
from dataclasses import asdict
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.files.base import ContentFile

from avatars.identity import check_identity
from consent.models import ConsentGrant
from core.files import copy_to_local
from core.uploads import (
    FootageField,
    PortraitField,
    VoiceSampleField,
    footage_likeness,
    inspect_upload,
)
from engine.errors import EngineError
from engine.voice import inspect_voice_sample
from engine.voice.enrollment import check_enrollment_sample


class _EnrollmentForm(forms.Form):
    """What every avatar's enrollment asks: a name, the consent it stands on, and, when its
    likeness does not match the consent's references, whether to hold it for review and why.
    Subclasses add the likeness (``likeness_files``) and check it."""

    name = forms.CharField(max_length=100)
    grant = forms.ModelChoiceField(
        queryset=ConsentGrant.objects.none(),
        label="Consent",
        help_text="Only signed consents can carry an avatar.",
        error_messages={"invalid_choice": "Choose a signed consent of this workspace."},
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
    voice_enrollment = None  # engine.voice.enrollment.EnrollmentReport of the voice sample

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grant"].queryset = ConsentGrant.objects.filter(
            workspace=workspace, status=ConsentGrant.Status.ACTIVE
        ).select_related("subject")
        self.fields["grant"].label_from_instance = lambda g: (
            f"{g.subject.full_name} — signed {g.signed_at:%Y-%m-%d}, "
            f"valid until {g.valid_until:%Y-%m-%d}"
        )

    def _check_voice_enrollment(self, upload):
        """Enrollment: enough speech, no clipping, a quiet room, one speaker."""
        return inspect_upload(
            upload,
            check_enrollment_sample,
            min_speech_seconds=settings.MIN_VOICE_SPEECH_SECONDS,
            min_sample_rate=settings.MIN_VOICE_SAMPLE_RATE,
            min_snr_db=settings.MIN_VOICE_SNR_DB,
        )

    def likeness_files(self, cleaned) -> tuple:
        """(portrait, voice sample): the files the avatar keeps and the identity check reads."""
        raise NotImplementedError

    def clean(self):
        """Is the likeness the consenting person's? Compared only once every upload is valid."""
        cleaned = super().clean()
        grant = cleaned.get("grant")
        if self.errors or grant is None:
            return cleaned
        portrait, voice_sample = self.likeness_files(cleaned)
        try:
            self.identity_check = check_identity(
                grant, portrait=portrait, voice_sample=voice_sample
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


class AvatarForm(_EnrollmentForm):
    """A photo avatar: a portrait and a voice sample."""

    field_order = ["name", "grant", "portrait", "voice_sample"]

    portrait = PortraitField(
        help_text="A well-lit, frontal photo of the subject alone (JPG, PNG or WebP).",
    )
    voice_sample = VoiceSampleField(
        help_text=(
            "A WAV recording (16 kHz or more) of the subject alone reading a few sentences in a "
            "quiet room; 30 seconds of speech gives the most faithful voice."
        ),
    )

    def clean_voice_sample(self):
        upload = self.cleaned_data["voice_sample"]
        self.voice_enrollment = self._check_voice_enrollment(upload)
        return upload

    def likeness_files(self, cleaned) -> tuple:
        return cleaned["portrait"], cleaned["voice_sample"]

    def enrollment(self) -> dict:
        """The keyword arguments of avatars.services.enroll_avatar this form's upload gives."""
        portrait, voice_sample = self.cleaned_data["portrait"], self.cleaned_data["voice_sample"]
        return {
            "portrait": portrait,
            "portrait_report": portrait.portrait_report,
            "voice_sample": voice_sample,
            "voice_report": voice_sample.voice_report,
        }


class FootageAvatarForm(_EnrollmentForm):
    """A footage avatar: one to five minutes of the subject's own video, and its voice from the
    footage's sound unless a separate voice sample is uploaded."""

    field_order = ["name", "grant", "footage", "voice_sample"]

    footage = FootageField(
        required=False,
        help_text=(
            "One to five minutes of the subject alone, facing the camera and talking, in one "
            "take (MP4, MOV, WebM or MKV). Their renders keep its head motion, blinks and light, "
            "and take their mouths from it: reading a varied text covers the most sounds. Left "
            "empty, the footage the subject recorded on their consent link is used."
        ),
    )
    voice_sample = VoiceSampleField(
        required=False,
        help_text=(
            "Optional: a WAV recording of the subject in a quiet room. Left empty, the voice is "
            "cloned from the footage's own sound."
        ),
    )

    def clean_voice_sample(self):
        upload = self.cleaned_data.get("voice_sample")
        if upload:
            self.voice_enrollment = self._check_voice_enrollment(upload)
        return upload

    def clean(self):
        if self.errors or self.cleaned_data.get("grant") is None:
            return super().clean()
        if not self.cleaned_data.get("footage"):
            self.cleaned_data["footage"] = self._recorded_footage(self.cleaned_data["grant"])
        if not self.cleaned_data.get("voice_sample"):
            self._footage_voice = self._voice_from_footage(self.cleaned_data["footage"].likeness)
        return super().clean()

    @staticmethod
    def _recorded_footage(grant) -> ContentFile:
        """The footage the subject recorded on their link, checked as an upload would be."""
        if not grant.footage:
            raise forms.ValidationError(
                "Upload the subject's footage, or ask them to record it on their consent link "
                "(it is offered there once they have signed)."
            )
        with tempfile.TemporaryDirectory(prefix="likeness-footage-") as folder:
            path = copy_to_local(grant.footage, Path(folder), "footage")
            try:
                likeness = footage_likeness(path)
            except EngineError as error:
                raise forms.ValidationError(
                    f"The footage recorded on the consent link cannot be used: {error}"
                ) from error
            footage = ContentFile(path.read_bytes(), name=f"recorded{path.suffix}")
        footage.likeness = likeness
        return footage

    def _voice_from_footage(self, likeness) -> ContentFile:
        """The footage's sound as the voice sample, checked as an uploaded one would be."""
        if likeness.sound_wav is None:
            raise forms.ValidationError(
                "The footage has no sound: upload a voice sample of the subject as well."
            )
        sound = ContentFile(likeness.sound_wav, name="footage-voice.wav")
        try:
            self.voice_enrollment = self._check_voice_enrollment(sound)
            sound.voice_report = inspect_upload(
                sound, inspect_voice_sample, min_seconds=settings.MIN_VOICE_SAMPLE_SECONDS
            )
        except forms.ValidationError as error:
            raise forms.ValidationError(
                f"The footage's sound cannot be the voice sample: {' '.join(error.messages)} "
                "Upload a separate voice sample recorded in a quiet room."
            ) from error
        return sound

    def likeness_files(self, cleaned) -> tuple:
        still = ContentFile(cleaned["footage"].likeness.still_png, name="footage-still.png")
        return still, cleaned.get("voice_sample") or self._footage_voice

    def enrollment(self) -> dict:
        footage = self.cleaned_data["footage"]
        portrait, voice_sample = self.likeness_files(self.cleaned_data)
        return {
            "portrait": portrait,
            "portrait_report": footage.likeness.portrait_report,
            "voice_sample": voice_sample,
            "voice_report": voice_sample.voice_report,
            "footage": footage,
            "footage_report": {
                **asdict(footage.likeness.report),
                "voice_from": "upload" if self.cleaned_data.get("voice_sample") else "footage",
            },
        }


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
