"""The one place that decides whether a likeness may be rendered.

Called when a render is submitted and again by the worker right before it renders, so a consent
that is revoked or expires in between stops the render.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from consent.models import ConsentGrant, Language, Purpose, ScriptApproval, sha256_hex


@dataclass(frozen=True)
class RenderDecision:
    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = RenderDecision(True)

_NOT_LIVE = {
    ConsentGrant.Status.PENDING: "The consent has not been signed yet.",
    ConsentGrant.Status.VERIFYING: "The consent has not been signed yet: it is being verified.",
    ConsentGrant.Status.NEEDS_REVIEW: (
        "The consent has not been signed yet: its verification failed and it awaits review."
    ),
    ConsentGrant.Status.REJECTED: "The consent was rejected on review.",
}


def forbidden_topic_in(text: str, topics: list[str]) -> str | None:
    """The first forbidden topic the text mentions (whole words, any case), if any."""
    folded = " ".join(text.casefold().split())
    for topic in topics:
        words = topic.casefold().split()
        if words and re.search(r"\b" + r"\s+".join(map(re.escape, words)) + r"\b", folded):
            return topic
    return None


def authorize_render(
    grant: ConsentGrant,
    *,
    avatar_enabled: bool,
    purpose: str,
    at: datetime,
    language: str | None = None,
    script_text: str | None = None,
) -> RenderDecision:
    """May this grant's likeness render `script_text` in `language` for `purpose` at `at`?

    `language` and `script_text` are checked when given; a grant that requires per-script
    approval refuses when no script text is given.
    """

    def refuse(reason: str) -> RenderDecision:
        return RenderDecision(False, reason)

    if grant.status == ConsentGrant.Status.REVOKED:
        return refuse(f"The subject revoked this consent on {grant.revoked_at:%Y-%m-%d}.")
    if grant.status != ConsentGrant.Status.ACTIVE or grant.signed_at is None:
        return refuse(_NOT_LIVE.get(grant.status, "The consent has not been signed yet."))
    if not avatar_enabled:
        return refuse("This avatar is disabled.")
    if at < grant.valid_from:
        return refuse(f"The consent is not valid until {grant.valid_from:%Y-%m-%d %H:%M} UTC.")
    if at >= grant.valid_until:
        return refuse(f"The consent expired on {grant.valid_until:%Y-%m-%d %H:%M} UTC.")
    if purpose not in grant.purposes:
        covered = ", ".join(grant.purpose_labels()) or "nothing"
        label = Purpose(purpose).label if purpose in Purpose.values else purpose
        return refuse(f"The consent does not cover {label.lower()} use (it covers: {covered}).")
    if language is not None and grant.languages and language not in grant.languages:
        label = Language(language).label if language in Language.values else language
        covered = ", ".join(grant.language_labels())
        return refuse(f"The consent does not cover videos in {label} (it covers: {covered}).")
    if script_text is not None:
        topic = forbidden_topic_in(script_text, grant.forbidden_topics)
        if topic is not None:
            return refuse(f"The script mentions “{topic}”, a topic the subject forbade.")
    if grant.requires_script_approval:
        if script_text is None:
            return refuse("The subject approves each script, and no script was given.")
        approval = grant.approvals.filter(script_sha256=sha256_hex(script_text)).first()
        if approval is None:
            return refuse(
                "The subject approves each script, and this exact text has not been sent to "
                "them for approval."
            )
        if approval.status == ScriptApproval.Status.PENDING:
            return refuse("The subject has not approved this script yet.")
        if approval.status == ScriptApproval.Status.REJECTED:
            return refuse("The subject rejected this script.")
    return ALLOWED
