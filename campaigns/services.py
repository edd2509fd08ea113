"""Campaign workflows: make one from a script, import its recipients (all or nothing), send its
template to the subject, launch one render per recipient, cancel, retry, erase."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing import services as billing
from campaigns.models import Campaign, Recipient
from campaigns.recipients import Recipient as RecipientRow
from campaigns.recipients import RecipientField, RecipientList, read_recipient_text, read_recipients
from campaigns.signals import campaign_launch_due
from consent import services as consent_services
from consent.policy import RenderDecision, TemplateUse, forbidden_topic_in
from core.errors import UserError
from core.merge_fields import (
    FIELD_KINDS,
    TemplateError,
    check_value,
    merge,
    parse_template,
    sentences,
)
from engine.timeline import OnScreenText, OutputFormat, Scene, Segment, Timeline
from engine.voice.markup import MarkupError
from engine.voice.spoken import spoken_text
from rendering import services as rendering_services
from rendering.models import RenderJob
from rendering.previews import spoken_preview
from rendering.segment_cache import personal_namespace, site_segment_cache
from studio.models import PronunciationEntry


class CampaignError(UserError):
    code = "campaign_invalid"


def guess_kind(name: str) -> str:
    """The kind a field most likely takes, from its name (the user can change it)."""
    lowered = name.lower()
    if "name" in lowered and not any(w in lowered for w in ("company", "business", "org")):
        return "given_name"
    if any(w in lowered for w in ("company", "business", "organisation", "organization")):
        return "company"
    if any(w in lowered for w in ("number", "count", "amount", "total", "price", "age")):
        return "number"
    return "text"


def template_texts(campaign: Campaign) -> dict[str, str]:
    """Every text of the campaign that may hold merge fields, by what it is."""
    return {
        "script": campaign.template_text,
        "on-screen text": campaign.on_screen_text,
        "page title": campaign.page_title,
        "page message": campaign.page_message,
        "call-to-action link": campaign.cta_url,
    }


def fields_of(campaign: Campaign, kinds: dict[str, str] | None = None) -> list[dict]:
    """The merge fields of all the campaign's texts, in order of first use, with their kinds
    (``kinds`` given, else kept, else guessed). Raises CampaignError naming the text, line and
    column of a broken field."""
    known = {f["name"]: f for f in campaign.fields}
    kinds = kinds or {}
    found: dict[str, dict] = {}
    for what, text in template_texts(campaign).items():
        try:
            placeholders = parse_template(text)
        except TemplateError as error:
            raise CampaignError(f"In the {what}: {error}") from error
        for p in placeholders:
            entry = found.setdefault(
                p.name,
                {
                    "name": p.name,
                    "kind": kinds.get(p.name)
                    or known.get(p.name, {}).get("kind")
                    or guess_kind(p.name),
                    "required": False,
                },
            )
            if entry["kind"] not in FIELD_KINDS:
                raise CampaignError(f"{{{{{p.name}}}}}: unknown kind of value {entry['kind']!r}.")
            # Required when any use of it has no fallback.
            entry["required"] = entry["required"] or p.fallback is None
    return list(found.values())


@transaction.atomic
def create_campaign(*, workspace, user, name: str, script, avatar, purpose: str) -> Campaign:
    if script.workspace_id != workspace.pk or avatar.workspace_id != workspace.pk:
        raise CampaignError("The script and the avatar must belong to this workspace.")
    campaign = Campaign(
        workspace=workspace,
        name=name,
        script=script,
        avatar=avatar,
        purpose=purpose,
        template_text=script.body,
        created_by=user,
    )
    campaign.fields = fields_of(campaign)
    campaign.save()
    return campaign


@transaction.atomic
def update_campaign(campaign: Campaign, *, kinds: dict[str, str] | None = None, **texts) -> None:
    """Change a draft's texts or its fields' kinds; every field checked before anything is kept."""
    if not campaign.is_draft:
        raise CampaignError("A launched campaign cannot change.")
    for name, value in texts.items():
        setattr(campaign, name, value)
    campaign.fields = fields_of(campaign, kinds)
    campaign.full_clean(exclude=["logo"])
    campaign.save()


def recipient_fields(campaign: Campaign) -> list[RecipientField]:
    return [RecipientField(f["name"], f["kind"], f["required"]) for f in campaign.fields]


def _lexicon(campaign: Campaign) -> dict[str, str]:
    return PronunciationEntry.lexicon_of(campaign.workspace)


def _row_check(campaign: Campaign):
    """A recipient row's own check: the script it makes must not reach a forbidden topic."""
    topics = campaign.avatar.grant.forbidden_topics
    lexicon = _lexicon(campaign)

    def check(row: RecipientRow) -> str | None:
        try:
            merged = merge(campaign.template_text, row.values, say=row.say)
            spoken = spoken_text(merged, lexicon)
        except (TemplateError, MarkupError) as error:
            return str(error)
        topic = forbidden_topic_in(merged, topics, spoken=spoken)
        if topic is None and campaign.on_screen_text:
            topic = forbidden_topic_in(merge(campaign.on_screen_text, row.values), topics)
        if topic is not None:
            return f"the script would mention “{topic}”, a topic the subject forbade"
        return None

    return check


def read_list(campaign: Campaign, *, data: bytes | None = None, text: str | None = None):
    """Every row of an upload (``data``) or a paste (``text``) checked against the campaign."""
    if data is not None:
        return read_recipients(
            data,
            recipient_fields(campaign),
            max_rows=settings.CAMPAIGN_MAX_ROWS,
            max_bytes=settings.CAMPAIGN_MAX_BYTES,
            check_row=_row_check(campaign),
        )
    return read_recipient_text(
        text or "",
        recipient_fields(campaign),
        max_rows=settings.CAMPAIGN_MAX_ROWS,
        check_row=_row_check(campaign),
    )


@transaction.atomic
def replace_recipients(campaign: Campaign, recipients: RecipientList) -> int:
    """Keep the list as the campaign's recipients; a list with any problem keeps nothing."""
    if not recipients.ok:
        raise CampaignError(f"{len(recipients.problems)} problems: nothing was imported.")
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not campaign.is_draft:
        raise CampaignError("A launched campaign's recipients cannot change.")
    campaign.recipients.all().delete()
    Recipient.objects.bulk_create(
        Recipient(campaign=campaign, line=row.line, values=row.values, say=row.say)
        for row in recipients.rows
    )
    return len(recipients.rows)


def request_approval(campaign: Campaign, *, user):
    """Send the template to the subject, as it reads, with the kind each field takes."""
    return consent_services.request_script_approval(
        campaign.avatar.grant,
        title=campaign.name,
        text=campaign.template_text,
        by=user,
        lexicon=_lexicon(campaign),
        field_kinds=_spoken_kinds(campaign),
    )


def _spoken_kinds(campaign: Campaign) -> dict[str, str]:
    spoken = {p.name for p in parse_template(campaign.template_text)}
    return {name: kind for name, kind in campaign.kinds.items() if name in spoken}


def variant_timeline(campaign: Campaign, recipient: Recipient, *, scale: float = 1.0) -> Timeline:
    """The recipient's video: one scene, one segment per sentence of the template filled in
    (the constant sentences are the same segments in every variant, so they render once)."""
    width = round(settings.RENDER_WIDTH * scale / 2) * 2
    height = round(settings.RENDER_HEIGHT * scale / 2) * 2
    segments = [
        Segment(
            merge(sentence, recipient.values, say=recipient.say),
            personal=bool(parse_template(sentence)),  # the recipient's own: never cached
        )
        for sentence in sentences(campaign.template_text)
    ]
    shown = merge(campaign.on_screen_text, recipient.values) if campaign.on_screen_text else ""
    return Timeline(
        scenes=[Scene(segments=segments, text=OnScreenText(lower_third=shown))],
        format=OutputFormat(width, height, settings.RENDER_FPS),
        language="en",
    )


# Variants yield to videos people wait for: a single render (priority 0) in any workspace is
# claimed before the next variant of a campaign of 10,000 (rendering.scheduler's fair claim).
VARIANT_PRIORITY = -1


def _submit_variant(campaign: Campaign, recipient: Recipient, *, user, scale=1.0, part_of=None):
    timeline = variant_timeline(campaign, recipient, scale=scale)
    return rendering_services.submit_timeline(
        workspace=campaign.workspace,
        user=user,
        avatar=campaign.avatar,
        script=campaign.script,
        purpose=campaign.purpose,
        timeline=timeline,
        script_text=merge(campaign.template_text, recipient.values, say=recipient.say),
        lexicon=_lexicon(campaign),
        template={
            "text": campaign.template_text,
            "values": dict(recipient.values),
            "say": dict(recipient.say),
            "kinds": _spoken_kinds(campaign),
        },
        part_of=part_of or campaign.part_of,
        frame_mark_id=campaign.frame_mark_id,
        priority=0 if part_of else VARIANT_PRIORITY,  # samples are waited for
    )


def render_samples(campaign: Campaign, recipients: list[Recipient], *, user) -> list[RenderJob]:
    """Low-resolution videos of up to three rows, before anything is spent on the rest."""
    if not 1 <= len(recipients) <= 3:
        raise CampaignError("Choose one to three rows for sample videos.")
    jobs = []
    for recipient in recipients:
        try:
            jobs.append(
                _submit_variant(
                    campaign, recipient, user=user, scale=0.5, part_of=f"{campaign.part_of}:sample"
                )
            )
        except rendering_services.RenderRefused as error:
            raise CampaignError(f"Line {recipient.line}: {error}") from error
    return jobs


def campaign_decision(campaign: Campaign):
    """The consent policy on the template filled with an example value of each field's kind:
    what every variant shares (the consent in force, the purpose, the subject's approval)."""
    examples = {name: FIELD_KINDS[kind].example for name, kind in campaign.kinds.items()}
    return campaign.avatar.render_decision(
        purpose=campaign.purpose,
        at=timezone.now(),
        script_text=merge(campaign.template_text, examples),
        lexicon=_lexicon(campaign),
        template=TemplateUse(campaign.template_text, examples, _spoken_kinds(campaign)),
    )


def launch(campaign: Campaign, *, user) -> dict[str, int]:
    """Launch every row not yet launched: one render each, each asked of the consent policy
    like any render (a row it refuses is kept with the reason, the others go on). A campaign
    the policy refuses as a whole (its consent revoked, say) launches nothing. Up to
    CAMPAIGN_INLINE_LAUNCH_ROWS rows are submitted at once; more by a background task (a
    submit is some 20 ms of policy: 10,000 rows are minutes), the page counting them."""
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if not campaign.is_draft:
            raise CampaignError("This campaign was already launched.")
        rows = campaign.recipients.filter(job__isnull=True, refused_reason="").count()
        if not rows:
            raise CampaignError("Import the recipients first.")
        decision = campaign_decision(campaign)
        if not decision:
            raise CampaignError(decision.reason)
        _reserve_credits(campaign, rows)
        campaign.status, campaign.launched_at = Campaign.Status.LAUNCHED, timezone.now()
        campaign.save(update_fields=["status", "launched_at"])
        if rows > settings.CAMPAIGN_INLINE_LAUNCH_ROWS:
            user_id = getattr(user, "pk", None)
            transaction.on_commit(
                lambda: campaign_launch_due.send(
                    sender=Campaign, campaign_id=campaign.pk, user_id=user_id
                )
            )
            return {"submitted": 0, "refused": 0, "launching": rows}
    return submit_variants(campaign, user=user)


def _reserve_credits(campaign: Campaign, rows: int) -> None:
    """Where billing is on, hold the credits of every variant to launch at once, or refuse the
    launch naming the shortfall (billing.errors.QuotaExceeded); each variant's submit then takes
    its share, and what is left comes back once all are submitted (_release_credits)."""
    if not billing.billing_enabled():
        return
    pending = campaign.recipients.filter(job__isnull=True, refused_reason="").order_by("line")
    billing.reserve_block(
        campaign.workspace,
        hold=campaign.part_of,
        costs_ms=[
            billing.estimated_ms(variant_timeline(campaign, recipient))
            for recipient in pending.iterator(chunk_size=500)
        ],
        what=f"This campaign's {rows} video{'s' if rows != 1 else ''}",
    )


def _release_credits(campaign: Campaign, reason: str) -> None:
    if billing.billing_enabled():
        billing.release_hold(
            campaign.workspace_id, campaign.part_of, reason=reason, part_of=campaign.part_of
        )


def submit_variants(campaign: Campaign, *, user) -> dict[str, int]:
    """Submit a render for every launched row without one (safe to run again: a row is
    submitted once). Stops when the campaign is cancelled meanwhile."""
    submitted = refused = 0
    pending = campaign.recipients.filter(job__isnull=True, refused_reason="").order_by("line")
    for index, recipient in enumerate(pending.iterator(chunk_size=500)):
        if index % 100 == 0:
            campaign.refresh_from_db(fields=["status"])
            if campaign.status != Campaign.Status.LAUNCHED:
                break
        # One transaction per variant: a refusal of one row never undoes the others.
        try:
            with transaction.atomic():
                locked = Recipient.objects.select_for_update().get(pk=recipient.pk)
                if locked.job_id is not None:
                    continue  # another launch task got there first
                locked.job = _submit_variant(campaign, locked, user=user)
                locked.save(update_fields=["job"])
            submitted += 1
        except rendering_services.RenderRefused as error:
            Recipient.objects.filter(pk=recipient.pk).update(refused_reason=str(error))
            refused += 1
    else:
        _release_credits(campaign, "Every video of the campaign is submitted: the rest comes back.")
    return {"submitted": submitted, "refused": refused}


def forget_spoken_values(campaign: Campaign) -> None:
    """Once the transaction commits, delete the campaign's personal segments from the segment
    cache: its recipients' values, spoken and animated once for every variant that shares them
    (rendering.services.build_spec). Done when its variants are all rendered, when it is
    cancelled and when it is erased; the avatar's erasure deletes them too."""
    namespace = personal_namespace(campaign.avatar_id, campaign.part_of)
    # robust: a storage failure is logged and does not undo what was committed; the erasure
    # at the end of the retention period deletes them again.
    transaction.on_commit(lambda: site_segment_cache().delete_namespace(namespace), robust=True)


@transaction.atomic
def cancel(campaign: Campaign, *, reason: str = "The campaign was cancelled.") -> int:
    """Cancel every variant not yet rendered; those made stay."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    forget_spoken_values(campaign)
    _release_credits(campaign, "The campaign was cancelled: its unsubmitted videos cost nothing.")
    cancelled = 0
    for job in campaign.renders().filter(
        status__in=[RenderJob.Status.QUEUED, RenderJob.Status.RUNNING]
    ):
        cancelled += bool(job.cancel(reason))
    if campaign.status in (Campaign.Status.DRAFT, Campaign.Status.LAUNCHED):
        campaign.status = Campaign.Status.CANCELLED
        campaign.save(update_fields=["status"])
    return cancelled


def retry_failed(campaign: Campaign) -> int:
    """Render the failed variants again (consent asked again, as at launch)."""
    retried = 0
    for job in RenderJob.objects.filter(part_of=campaign.part_of, status=RenderJob.Status.FAILED):
        try:
            rendering_services.retry_render(job)
            retried += 1
        except rendering_services.RenderRefused:
            continue
    return retried


def spoken_values(campaign: Campaign, *, limit: int = 300) -> list[dict]:
    """Every distinct value of every field the voice says, with how it is said (the row's
    respelling, else as written through the lexicon), most common first."""
    spoken = list(_spoken_kinds(campaign))
    counts: dict[tuple[str, str, str], int] = {}
    for values, say in campaign.recipients.values_list("values", "say"):
        for name in spoken:
            value = " ".join(str(values.get(name) or "").split())
            if value:
                key = (name, value, " ".join(str(say.get(name) or "").split()))
                counts[key] = counts.get(key, 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [
        {"field": name, "value": value, "say": say, "rows": rows}
        for (name, value, say), rows in ordered[:limit]
    ]


def say_value(campaign: Campaign, *, field: str, value: str, say: str = "") -> bytes:
    """A value of the list alone in the subject's voice (WAV): only a value a recipient row
    holds, of a field the voice says, and only while the campaign as a whole may render."""
    kind = _spoken_kinds(campaign).get(field)
    known = campaign.recipients.filter(**{f"values__{field}": value}).exists() if kind else False
    if not known:
        raise CampaignError("Only a value of the list, in a field the voice says, can be heard.")
    if say and not campaign.recipients.filter(**{f"say__{field}": say}).exists():
        raise CampaignError("Only a respelling of the list can be heard.")
    problem = check_value(kind, value)
    if problem:
        raise CampaignError(f"The value {problem}.")
    topic = forbidden_topic_in(value, campaign.avatar.grant.forbidden_topics, spoken=say)
    decision = campaign_decision(campaign)
    if decision and topic:
        decision = RenderDecision(False, f"“{topic}” is a topic the subject forbade.")
    text = f"[say {say}]{value}[/say]" if say else value
    try:
        return spoken_preview(
            campaign.avatar,
            text=text,
            lexicon=_lexicon(campaign),
            decision=decision,
            mark_id=int(campaign.frame_mark_id, 16),
            why=f"a name of campaign {campaign.pk}",
        )
    except rendering_services.RenderRefused as error:
        raise CampaignError(str(error)) from error
