from django.conf import settings
from django.db import models
from django.dispatch import receiver

from accounts.models import WorkspaceScoped
from consent.signals import lexicon_requested


class Script(WorkspaceScoped):
    """What the presenter says. Renders copy the text, so editing a script never changes a video."""

    title = models.CharField(max_length=200)
    body = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def word_count(self) -> int:
        return len(self.body.split())


class PronunciationEntry(WorkspaceScoped):
    """A workspace's way to say a word: every render of its scripts speaks ``word`` as
    ``respelling`` (e.g. "Nguyen" -> "win", "SQL" -> "sequel")."""

    word = models.CharField(max_length=100)
    respelling = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["word"]
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("word"), "workspace", name="one_respelling_per_word"
            )
        ]

    def __str__(self) -> str:
        return f"{self.word} → {self.respelling}"

    @classmethod
    def lexicon_of(cls, workspace) -> dict[str, str]:
        """word -> respelling for every entry of the workspace (what the voice engine takes)."""
        return dict(cls.objects.filter(workspace=workspace).values_list("word", "respelling"))


@receiver(lexicon_requested)
def lexicon_for_consent(sender, workspace, **kwargs) -> dict[str, str]:
    """Consent asks for the lexicon when a script is sent for approval (it never imports studio)."""
    return PronunciationEntry.lexicon_of(workspace)
