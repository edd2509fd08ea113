import re
import unicodedata

from django import forms
from django.conf import settings

from consent.models import ConsentGrant
from engine.voice.markup import MarkupError, Spoken, parse_script
from engine.voice.spoken import speakable
from studio.models import PronunciationEntry, Script

MARKUP_HELP = (
    "Markup: [pause 1.5s] for silence, [slow]…[/slow], [fast]…[/fast] or [rate 0.9]…[/rate] for "
    "pace, [emphasis]…[/emphasis] to stress words, [say respelling]word[/say] for one "
    "pronunciation. Numbers, dates and amounts ($1,250.50) are read out in words."
)


class ScriptForm(forms.ModelForm):
    class Meta:
        model = Script
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 10})}
        labels = {"body": "What the presenter says"}
        help_texts = {"body": MARKUP_HELP}

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
        try:
            segments = parse_script(body)
        except MarkupError as error:
            raise forms.ValidationError(
                f"{error} Near: “{_excerpt(body, error.offset)}”"
            ) from error
        if not any(isinstance(s, Spoken) and _has_words(s.text) for s in segments):
            # Saved, it would fail at render with a Retry that could never work.
            raise forms.ValidationError(
                "The script has no words to speak: markup alone, such as [pause 2s], is silence."
            )
        return body


def _has_words(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _excerpt(text: str, offset: int, width: int = 24) -> str:
    """The text around ``offset`` on its line, so the message shows the spot."""
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line_end = len(text) if line_end < 0 else line_end
    start, end = max(line_start, offset - width), min(line_end, offset + width)
    return ("…" if start > line_start else "") + text[start:end] + ("…" if end < line_end else "")


class PronunciationForm(forms.ModelForm):
    class Meta:
        model = PronunciationEntry
        fields = ["word", "respelling"]
        help_texts = {
            "word": "As written in scripts (any capitalisation).",
            "respelling": "Spelled as it sounds: “win” for Nguyen, “sequel” for SQL.",
        }

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_word(self):
        word = self.cleaned_data["word"].strip()
        if not re.fullmatch(r"[\w'.-]+(?: [\w'.-]+)*", word):
            raise forms.ValidationError("A word or a short phrase of letters, digits, ' . or -.")
        taken = PronunciationEntry.objects.filter(workspace=self.workspace, word__iexact=word)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"“{word}” already has a pronunciation; edit that one.")
        return word

    def clean_respelling(self):
        respelling = self.cleaned_data["respelling"].strip()
        # Judged as the voice reads it: fullwidth brackets are brackets, invisible characters
        # hide letters from people, and letters festival cannot say are dropped.
        shown = unicodedata.normalize("NFKC", respelling)
        if any(unicodedata.category(ch) in ("Cf", "Cc") for ch in shown):
            raise forms.ValidationError(
                "The respelling has invisible characters; type it again with letters, spaces "
                "and hyphens."
            )
        if re.search(r"[\[\]{}<>\"\\]", shown):
            raise forms.ValidationError(
                "Spell the sound with letters, spaces and hyphens (no brackets or quotes): "
                "markup belongs in the script."
            )
        if not re.search(r"[A-Za-z]", speakable(respelling)):
            raise forms.ValidationError(
                "Spell the sound with letters, spaces and hyphens: this says nothing the voice "
                "can speak."
            )
        return respelling


class ApprovalRequestForm(forms.Form):
    """Send a script to a subject whose consent asks to approve each script."""

    grant = forms.ModelChoiceField(
        queryset=ConsentGrant.objects.none(),
        label="Consent",
        empty_label=None,
        error_messages={"invalid_choice": "Choose an active consent of this workspace."},
    )

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grant"].queryset = ConsentGrant.objects.filter(
            workspace=workspace,
            status=ConsentGrant.Status.ACTIVE,
            requires_script_approval=True,
        ).select_related("subject")
        self.fields["grant"].label_from_instance = lambda g: g.subject.full_name
