"""Acceptable-use screening on the site: what the engine's screening flags waits for an owner.

``engine.text.screening`` says what in a text matches the policy (the shipped one, or the file
an operator names in ``SCREENING_POLICY_FILE``, for every workspace). Here a flagged script gets
a ``ScreeningReview``, recorded in the consent ledger; the render policy
(``consent.policy.authorize_render``) refuses every flagged text an owner has not approved, at
submit and again in the worker, so nothing flagged is ever rendered silently.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Role
from consent import ledger
from consent.ledger import Event
from consent.models import ConsentError, ScreeningReview, describe_findings, sha256_hex
from engine.text.screening import ScreeningPolicy, load_policy, screen_all
from engine.voice.markup import MarkupError
from engine.voice.spoken import spoken_text, written_text


def screening_policy() -> ScreeningPolicy:
    """The operator's policy (``SCREENING_POLICY_FILE``), else the one that ships."""
    return load_policy(settings.SCREENING_POLICY_FILE or None)


def script_findings(text: str, lexicon: Mapping[str, str] | None = None) -> list[dict]:
    """What the policy flags in a script: as written (with and without markup) and as the voice
    will speak it with ``lexicon``, so neither markup nor a respelling hides a word."""
    forms = [text]
    with contextlib.suppress(MarkupError):  # refused on its own; the raw text is still screened
        forms += [written_text(text), spoken_text(text, lexicon)]
    return [finding.as_dict() for finding in screen_all(forms, screening_policy())]


def text_findings(text: str) -> list[dict]:
    """What the policy flags in a text shown on screen."""
    return [finding.as_dict() for finding in screen_all([text], screening_policy())]


def refusal(
    workspace_id: int,
    *,
    script_text: str,
    lexicon: Mapping[str, str] | None = None,
    on_screen_text: Iterable[str] = (),
) -> str | None:
    """Why the render policy must refuse these texts (a flag no owner approved), or None."""
    for text, findings, what in [
        (script_text, script_findings(script_text, lexicon), "The script"),
        *((shown, text_findings(shown), "The text on screen") for shown in on_screen_text),
    ]:
        if not findings:
            continue
        review = ScreeningReview.objects.filter(
            workspace_id=workspace_id, text_sha256=sha256_hex(text)
        ).first()
        if review is not None and review.covers(findings):
            continue
        reason = describe_findings(findings)
        if review is not None and review.status == ScreeningReview.Status.KEPT_HELD:
            return f"{what} is held: an owner kept it from rendering ({reason})."
        return (
            f"{what} is held for acceptable-use review: {reason}. An owner of the workspace "
            "must approve it on the script's page before it can render."
        )
    return None


@transaction.atomic
def hold_if_flagged(
    workspace, *, title: str, text: str, by, lexicon: Mapping[str, str] | None = None
) -> ScreeningReview | None:
    """Screen a script; a flagged one gets (or keeps) its review, held until an owner decides,
    and the flag goes into the ledger. An approval that does not cover what the script now
    says (its pronunciations changed) is held again. None when nothing is flagged."""
    findings = script_findings(text, lexicon)
    if not findings:
        return None
    review, created = ScreeningReview.objects.select_for_update().get_or_create(
        workspace=workspace,
        text_sha256=sha256_hex(text),
        defaults={"title": title, "text": text, "findings": findings, "flagged_by": by},
    )
    if not created and review.status == ScreeningReview.Status.APPROVED:
        if review.covers(findings):
            return review
        review.status, review.findings, review.flagged_by = review.Status.HELD, findings, by
        review.decided_by, review.decided_at = None, None
        review.save()
        created = True
    if created:
        ledger.append(
            Event.SCREENING_HELD,
            workspace_id=workspace.pk,
            review=review.pk,
            title=title,
            script_sha256=review.text_sha256,
            findings=findings,
            user=getattr(by, "username", None),
        )
    return review


@transaction.atomic
def decide_review(review: ScreeningReview, *, approve: bool, by) -> None:
    """An owner's answer to a held script: approve it (it may render) or keep it held."""
    review = ScreeningReview.objects.select_for_update().get(pk=review.pk)
    is_owner = Membership.objects.filter(
        user=by, workspace_id=review.workspace_id, role=Role.OWNER
    ).exists()
    if not is_owner:
        raise ConsentError("Only an owner of the workspace can review a held script.")
    review.decide(approve=approve, by=by, at=timezone.now())
    ledger.append(
        Event.SCREENING_APPROVED if approve else Event.SCREENING_KEPT_HELD,
        workspace_id=review.workspace_id,
        review=review.pk,
        title=review.title,
        script_sha256=review.text_sha256,
        findings=review.findings,
        user=by.username,
    )
