"""The one place that decides whether a likeness may be rendered.

Called when a render is submitted and again by the worker right before it renders, so a consent
that is revoked or expires in between stops the render.

Scripts are judged on the words the voice will say: ``engine.voice.spoken.spoken_text`` of the
script with the render's pronunciation lexicon, the same function every voice engine and the
captions use. Forbidden topics are looked for in the script as written and in those spoken
words; the language is detected in both; a per-script approval covers both. Every spoken and
on-screen text also passes the acceptable-use screening (``consent.screening``): what it flags
renders only once an owner approved it.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from consent.models import ConsentGrant, Language, Purpose, ScriptApproval, sha256_hex
from consent.screening import refusal as screening_refusal
from consent.signals import lexicon_requested
from core.merge_fields import FIELD_KINDS, check_instance
from engine.text.language import detect_language
from engine.text.topics import find_topic
from engine.voice.markup import MarkupError
from engine.voice.spoken import spoken_text, written_text


@dataclass(frozen=True)
class TemplateUse:
    """A script made from a template with merge fields (a campaign's variant): the template,
    the recipient's values and respellings, and the kind of value each field takes."""

    text: str
    values: Mapping[str, str]
    kinds: Mapping[str, str]
    say: Mapping[str, str] | None = None

    @classmethod
    def from_dict(cls, data: Mapping | None) -> "TemplateUse | None":
        if not data:
            return None
        return cls(data["text"], data["values"], data["kinds"], data.get("say") or {})


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


def forbidden_topic_in(text: str, topics: list[str], *, spoken: str = "") -> str | None:
    """The first forbidden topic the text (or the words ``spoken`` for it) mentions, however it
    is spelled (``engine.text.topics``), if any."""
    return find_topic([text, spoken], topics)


def workspace_lexicon(workspace) -> dict[str, str]:
    """The workspace's pronunciation lexicon (word -> respelling), from the app that keeps it
    (studio answers ``lexicon_requested``; consent never imports it)."""
    lexicon: dict[str, str] = {}
    for _, entries in lexicon_requested.send(sender=ConsentGrant, workspace=workspace):
        lexicon.update(entries or {})
    return lexicon


def _excerpt(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def authorize_preparation(grant: ConsentGrant, *, avatar_enabled: bool, at: datetime):
    """May the grant's likeness be used at all at `at`: signed, with evidence, in force, its
    avatar enabled? What every render needs before its script is judged, and all that preparing
    an avatar for its renders needs (a footage avatar's footage analysed into the cache)."""
    if grant.status == ConsentGrant.Status.REVOKED:
        return RenderDecision(
            False, f"The subject revoked this consent on {grant.revoked_at:%Y-%m-%d}."
        )
    if grant.status != ConsentGrant.Status.ACTIVE or grant.signed_at is None:
        return RenderDecision(
            False, _NOT_LIVE.get(grant.status, "The consent has not been signed yet.")
        )
    if grant.lacks_evidence:
        return RenderDecision(
            False,
            "This consent was typed in by a member without evidence; upload the paper the "
            "subject signed for review, or record a new consent with them.",
        )
    if not avatar_enabled:
        return RenderDecision(False, "This avatar is disabled.")
    if at < grant.valid_from:
        return RenderDecision(
            False, f"The consent is not valid until {grant.valid_from:%Y-%m-%d %H:%M} UTC."
        )
    if at >= grant.valid_until:
        return RenderDecision(
            False, f"The consent expired on {grant.valid_until:%Y-%m-%d %H:%M} UTC."
        )
    return ALLOWED


def authorize_render(
    grant: ConsentGrant,
    *,
    avatar_enabled: bool,
    purpose: str,
    at: datetime,
    language: str | None = None,
    script_text: str | None = None,
    lexicon: Mapping[str, str] | None = None,
    on_screen_text: Sequence[str] = (),
    template: TemplateUse | None = None,
) -> RenderDecision:
    """May this grant's likeness render `script_text` in `language` for `purpose` at `at`?
    `on_screen_text`: what the video shows in writing beside the likeness (titles, bullets),
    checked for forbidden topics and language as the script is.

    `language` (declared) and `script_text` are checked when given; `lexicon` (word ->
    respelling) is the pronunciation lexicon the render will speak with: the words checked are
    the words it makes. The script's language is detected and must be one the grant covers when
    the detection is confident. A grant that requires per-script approval refuses when no script
    text is given.

    `template`: `script_text` was made from a template (a campaign). It must be that template
    filled with values of the kinds its fields take, and where the subject approves each script,
    the approval is of the template, for exactly those kinds.
    """

    def refuse(reason: str) -> RenderDecision:
        return RenderDecision(False, reason)

    standing = authorize_preparation(grant, avatar_enabled=avatar_enabled, at=at)
    if not standing:
        return standing
    if purpose not in grant.purposes:
        covered = ", ".join(grant.purpose_labels()) or "nothing"
        label = Purpose(purpose).label if purpose in Purpose.values else purpose
        return refuse(f"The consent does not cover {label.lower()} use (it covers: {covered}).")
    if language is not None and grant.languages and language not in grant.languages:
        label = Language(language).label if language in Language.values else language
        covered = ", ".join(grant.language_labels())
        return refuse(f"The consent does not cover videos in {label} (it covers: {covered}).")
    if script_text is None:
        if grant.requires_script_approval:
            return refuse("The subject approves each script, and no script was given.")
        return ALLOWED
    try:
        spoken = spoken_text(script_text, lexicon)
        written = written_text(script_text)
    except MarkupError as error:
        return refuse(f"The script's markup is invalid: {error}")
    topic = forbidden_topic_in(script_text, grant.forbidden_topics, spoken=spoken)
    if topic is not None:
        return refuse(f"The script mentions “{topic}”, a topic the subject forbade.")
    for shown in on_screen_text:
        topic = forbidden_topic_in(shown, grant.forbidden_topics)  # shown as written
        if topic is not None:
            return refuse(f"The text on screen mentions “{topic}”, a topic the subject forbade.")
    if grant.languages:
        for text in (written, spoken, *on_screen_text):
            guess = detect_language(text)
            if guess.confident and guess.language not in grant.languages:
                covered = ", ".join(grant.language_labels())
                return refuse(
                    f"The script is in {guess.name} ({guess.probability:.0%} sure), and the "
                    f"consent does not cover videos in {guess.name} (it covers: {covered})."
                )
    if template is not None:
        problem = check_instance(
            template.text, script_text, template.values, template.kinds, template.say
        )
        if problem:
            return refuse(f"This video is not a filling of its template: {problem}.")
    if grant.requires_script_approval:
        if template is not None:
            decision = _template_approval_decision(grant, template, lexicon)
        else:
            decision = _approval_decision(grant, script_text, spoken)
        if not decision:
            return decision
    # Acceptable use last, whatever the consent allows: a flagged text waits for an owner.
    held = screening_refusal(
        grant.workspace_id, script_text=script_text, lexicon=lexicon, on_screen_text=on_screen_text
    )
    return refuse(held) if held else ALLOWED


def _template_approval_decision(
    grant: ConsentGrant, template: TemplateUse, lexicon: Mapping[str, str] | None
) -> RenderDecision:
    """The subject approved the template as it reads, placeholders and all, for values of the
    kinds they were shown: a value of another kind, or the template changed, is not approved."""
    approval = grant.approvals.filter(script_sha256=sha256_hex(template.text)).first()
    if approval is not None and approval.status == ScriptApproval.Status.APPROVED:
        for name, kind in template.kinds.items():
            approved = approval.field_kinds.get(name)
            if approved != kind:
                label = FIELD_KINDS[approved].label if approved in FIELD_KINDS else "no value"
                return RenderDecision(
                    False,
                    f"The subject approved {{{{{name}}}}} for {label}, not for "
                    f"{FIELD_KINDS[kind].label if kind in FIELD_KINDS else kind}.",
                )
        if approval.spoken_sha256 != sha256_hex(spoken_text(template.text, lexicon)):
            return RenderDecision(
                False,
                "The pronunciations changed since the subject approved this template. Send it "
                "to the subject for approval again.",
            )
        return ALLOWED
    return _approval_decision(grant, template.text, spoken_text(template.text, lexicon))


def _approval_decision(grant: ConsentGrant, script_text: str, spoken: str) -> RenderDecision:
    approval = grant.approvals.filter(script_sha256=sha256_hex(script_text)).first()
    if approval is None:
        return RenderDecision(
            False,
            "The subject approves each script, and this exact text has not been sent to them "
            "for approval.",
        )
    if approval.spoken_sha256:
        changed = approval.spoken_sha256 != sha256_hex(spoken)
    else:
        # Approved before approvals recorded the spoken words: the subject read the script
        # itself, so it still covers a render whose lexicon leaves this script's words as
        # written (the voice says what they read), and needs a new approval once it does not.
        changed = spoken != spoken_text(script_text)
    if changed:
        return RenderDecision(
            False,
            "The pronunciations changed since the subject was asked to approve this script: it "
            f"would now be spoken as “{_excerpt(spoken)}”. Send it to the subject for approval "
            "again.",
        )
    if approval.status == ScriptApproval.Status.PENDING:
        return RenderDecision(False, "The subject has not approved this script yet.")
    if approval.status == ScriptApproval.Status.REJECTED:
        return RenderDecision(False, "The subject rejected this script.")
    return ALLOWED
