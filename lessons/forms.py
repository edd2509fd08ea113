from __future__ import annotations

import re

from django import forms
from django.conf import settings

from avatars.models import Avatar
from core.uploads import PORTRAIT_EXTENSIONS, check_upload
from lessons.models import Lesson, LessonScene

QUIZ_HELP = (
    "Optional. A question a line starting with “Q:”, then its answers a line each starting "
    "with “-”, the right one with “*”."
)


def parse_quiz(text: str) -> list[dict]:
    """[{question, choices, answer}] from the editor's text; ValidationError names the line."""
    questions: list[dict] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line[:2].upper() == "Q:":
            questions.append({"question": line[2:].strip(), "choices": [], "answer": None})
        elif line[0] in "-*":
            if not questions:
                raise forms.ValidationError(f"Line {number}: an answer needs a question above it.")
            question = questions[-1]
            if line[0] == "*":
                if question["answer"] is not None:
                    raise forms.ValidationError(
                        f"Line {number}: “{question['question']}” has two right answers."
                    )
                question["answer"] = len(question["choices"])
            question["choices"].append(line[1:].strip())
        else:
            raise forms.ValidationError(
                f"Line {number}: start a question with “Q:” and an answer with “-” or “*”."
            )
    for question in questions:
        if not question["question"] or len(question["choices"]) < 2:
            raise forms.ValidationError(
                f"“{question['question'] or '(no text)'}” needs a question and two answers or more."
            )
        if question["answer"] is None:
            raise forms.ValidationError(
                f"Mark the right answer of “{question['question']}” with “*”."
            )
    return questions


def quiz_text(quiz: list[dict]) -> str:
    lines = []
    for question in quiz:
        lines.append(f"Q: {question['question']}")
        for i, choice in enumerate(question["choices"]):
            lines.append(f"{'*' if i == question['answer'] else '-'} {choice}")
    return "\n".join(lines)


class LessonNewForm(forms.ModelForm):
    class Meta:
        model = Lesson
        fields = ["title", "aspect"]


class LessonSettingsForm(forms.ModelForm):
    completion_percent = forms.IntegerField(
        min_value=1,
        max_value=100,
        label="Complete when watched (%)",
        help_text="The share of the video a learner watches for the LMS to mark it complete.",
    )
    quiz_text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), required=False, label="Quiz", help_text=QUIZ_HELP
    )

    class Meta:
        model = Lesson
        fields = ["title", "aspect", "avatar", "mastery_percent", "burn_captions"]
        labels = {
            "avatar": "Presenter",
            "mastery_percent": "Pass mark of the quiz (%)",
            "burn_captions": "Captions in the picture",
        }
        help_texts = {
            "burn_captions": "Draw the captions into the video itself, for players that show "
            "no captions. The caption files are made either way."
        }

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["avatar"].queryset = Avatar.objects.filter(
            workspace=workspace, status=Avatar.Status.ACTIVE
        )
        if not self.is_bound:
            self.initial["completion_percent"] = round(100 * self.instance.completion_share)
            self.initial["quiz_text"] = quiz_text(self.instance.quiz)

    def clean_mastery_percent(self) -> int:
        value = self.cleaned_data["mastery_percent"]
        if not 1 <= value <= 100:
            raise forms.ValidationError("From 1 to 100.")
        return value

    def clean_quiz_text(self) -> list[dict]:
        return parse_quiz(self.cleaned_data["quiz_text"])

    def save(self, commit=True):
        lesson = super().save(commit=False)
        lesson.completion_share = self.cleaned_data["completion_percent"] / 100
        lesson.quiz = self.cleaned_data["quiz_text"]
        if commit:
            lesson.save()
        return lesson


class SceneForm(forms.ModelForm):
    class Meta:
        model = LessonScene
        fields = [
            "script",
            "title",
            "bullets",
            "chapter",
            "layout",
            "corner",
            "presenter_size",
            "side",
            "background",
            "color",
            "image",
            "deck",
            "page",
            "transition",
            "seconds",
        ]
        labels = {
            "script": "What the presenter says",
            "title": "Title on screen",
            "bullets": "Bullets on screen",
            "chapter": "Chapter name (empty: the title)",
            "presenter_size": "Presenter's size (share of the height)",
            "color": "Background colour",
            "image": "Background image",
            "deck": "Slide from deck",
            "page": "Slide number",
            "seconds": "Length without speech (s)",
        }
        widgets = {
            "script": forms.Textarea(attrs={"rows": 4}),
            "bullets": forms.Textarea(attrs={"rows": 3}),
            "color": forms.TextInput(attrs={"type": "color"}),
            "presenter_size": forms.NumberInput(attrs={"step": "0.05", "min": 0.15, "max": 0.6}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deck"].queryset = self.instance.lesson.decks.all()
        self.prefix = f"scene-{self.instance.pk}"

    def clean_script(self) -> str:
        script = self.cleaned_data["script"]
        if len(script) > settings.MAX_SCRIPT_CHARACTERS:
            raise forms.ValidationError(
                f"A scene says at most {settings.MAX_SCRIPT_CHARACTERS} characters."
            )
        return script

    def clean_bullets(self) -> str:
        bullets = [b for b in self.cleaned_data["bullets"].splitlines() if b.strip()]
        if len(bullets) > 8:
            raise forms.ValidationError("At most 8 bullets fit on a scene.")
        return "\n".join(bullets)

    def clean_presenter_size(self) -> float:
        size = self.cleaned_data["presenter_size"]
        if not 0.15 <= size <= 0.6:
            raise forms.ValidationError("From 0.15 to 0.6 of the frame's height.")
        return size

    def clean_seconds(self) -> float:
        seconds = self.cleaned_data["seconds"]
        if not 1 <= seconds <= 600:
            raise forms.ValidationError("From 1 to 600 seconds.")
        return seconds

    def clean_color(self) -> str:
        color = self.cleaned_data["color"]
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", color):
            raise forms.ValidationError("A colour is written #rrggbb.")
        return color

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if image and hasattr(image, "content_type"):  # a new upload
            check_upload(
                image,
                extensions=PORTRAIT_EXTENSIONS,
                max_bytes=settings.LESSON_IMAGE_MAX_BYTES,
                what="background image",
            )
            from PIL import Image

            try:
                with Image.open(image) as opened:
                    if opened.width * opened.height > 50_000_000:
                        raise forms.ValidationError("The background image is too large.")
                    opened.verify()
            except forms.ValidationError:
                raise
            except Exception as error:  # Pillow raises many kinds for a file that is not one
                raise forms.ValidationError("The background image is not an image.") from error
            finally:
                image.seek(0)
        return image

    def clean(self):
        data = super().clean()
        background = data.get("background")
        if background == LessonScene.Background.IMAGE and not data.get("image"):
            self.add_error("image", "Upload an image for this background.")
        if background == LessonScene.Background.SLIDE:
            deck = data.get("deck")
            if deck is None:
                self.add_error("deck", "Choose a deck (import one above).")
            elif not 1 <= (data.get("page") or 0) <= deck.pages:
                self.add_error("page", f"{deck.name} has slides 1 to {deck.pages}.")
        return data


class DeckForm(forms.Form):
    deck = forms.FileField(
        label="Slides (PDF or PPTX)",
        help_text="One scene per slide; a PPTX's speaker notes become the scripts.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.pptx"}),
    )
