"""Script workflows the pages and the API share: save a validated script, then screen it."""

from django.db import transaction

from consent import screening
from consent.models import ScreeningReview
from studio.forms import ScriptForm
from studio.models import PronunciationEntry, Script


def screen_script(script: Script, *, by) -> ScreeningReview | None:
    """Acceptable-use screening of the script as saved: a flagged one is held for an owner."""
    return screening.hold_if_flagged(
        script.workspace,
        title=script.title,
        text=script.body,
        by=by,
        lexicon=PronunciationEntry.lexicon_of(script.workspace),
    )


@transaction.atomic
def save_script(form: ScriptForm, *, workspace, user) -> Script:
    """Save a valid ScriptForm (a new script of ``workspace``, or its instance) and screen it."""
    script = form.save(commit=False)
    if script.pk is None:
        script.workspace, script.created_by = workspace, user
    script.save()
    screen_script(script, by=user)
    return script
