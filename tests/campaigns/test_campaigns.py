"""A campaign from the member's side: the template, the list (all or nothing), the subject's
approval of a template, and one consented render per recipient."""

import csv
import io

import pytest
from django.urls import reverse

from campaigns import services
from campaigns.models import Campaign, Recipient
from consent import services as consent_services
from consent.models import ScriptApproval
from core.merge_fields import sentences
from rendering.models import RenderJob
from tests.factories import GrantFactory, MembershipFactory, ScriptFactory, SubjectFactory

TEMPLATE = (
    "Hi {{first_name}}, thanks for your visit. We built this for teams like yours. "
    "See you soon at {{company|your company}}."
)
SUBJECT = consent_services.Evidence(ip="192.0.2.1", user_agent="pytest", user="subject")


@pytest.fixture
def setup(db, make_avatar, settings):
    settings.RENDER_WIDTH = settings.RENDER_HEIGHT = 256
    owner = MembershipFactory()
    grant = GrantFactory(
        subject=SubjectFactory(workspace=owner.workspace), forbidden_topics=["gambling"]
    )
    avatar = make_avatar(grant=grant)
    script = ScriptFactory(workspace=owner.workspace, body=TEMPLATE)
    campaign = services.create_campaign(
        workspace=owner.workspace,
        user=owner.user,
        name="Spring visit",
        script=script,
        avatar=avatar,
        purpose="marketing",
    )
    return owner, campaign


def _csv(rows, delimiter=",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode()


def test_the_template_is_cut_into_sentences_and_a_field_into_its_own_clause():
    text = (
        "Hi {{first_name}}, welcome. Say [say A. B.]AB[/say] twice, please! "
        "Done [pause 1s] now; at {{company}} too."
    )
    assert sentences(text) == [
        "Hi {{first_name}},",  # only this clause differs between recipients
        "welcome.",
        "Say [say A. B.]AB[/say] twice, please!",  # no field: one segment, commas and all
        "Done [pause 1s] now;",
        "at {{company}} too.",
    ]


def test_fields_get_kinds_from_their_names_and_a_fallback_makes_a_field_optional(setup):
    _, campaign = setup
    assert campaign.fields == [
        {"name": "first_name", "kind": "given_name", "required": True},
        {"name": "company", "kind": "company", "required": False},
    ]


def test_a_broken_field_in_any_text_is_refused_with_its_place(setup):
    _, campaign = setup
    with pytest.raises(services.CampaignError, match=r"page title: Line 1, column 7"):
        services.update_campaign(campaign, page_title="Hello {{first_name")
    campaign.refresh_from_db()
    assert campaign.page_title == ""


def test_a_list_with_one_bad_row_imports_nothing_and_names_every_problem(setup, client):
    owner, campaign = setup
    client.force_login(owner.user)
    url = reverse("campaigns:recipients", args=[campaign.pk])
    bad = _csv(
        [
            ["First name", "Company"],
            ["Ann", "Acme"],
            ["=HYPERLINK(1)", "Acme"],
            ["Bob", "Gambling Ltd"],
        ]
    )
    response = client.post(url, {"file": io.BytesIO(bad)}, format="multipart")
    assert response.status_code == 400
    page = response.content.decode()
    assert "nothing was imported" in page and "forbade" in page
    assert Recipient.objects.filter(campaign=campaign).count() == 0
    problems = client.get(reverse("campaigns:problems", args=[campaign.pk]))
    rows = list(csv.reader(io.StringIO(problems.content.decode())))
    assert [row[0] for row in rows[1:]] == ["3", "4"]
    assert rows[1][2].startswith("'=")  # a formula is neutralised in the download

    good = _csv([["First name", "Company"], ["Ann", "Acme"], ["Siobhan", ""]], delimiter=";")
    response = client.post(url, {"file": io.BytesIO(good)}, format="multipart")
    assert response.status_code == 302
    assert list(campaign.recipients.values_list("values", flat=True)) == [
        {"first_name": "Ann", "company": "Acme"},
        {"first_name": "Siobhan", "company": ""},
    ]


def test_the_preview_shows_a_row_merged(setup, client):
    owner, campaign = setup
    services.replace_recipients(
        campaign, services.read_list(campaign, text="first_name,company\nAnn,Acme\n")
    )
    client.force_login(owner.user)
    recipient = campaign.recipients.get()
    response = client.get(
        reverse("campaigns:preview", args=[campaign.pk]), {"recipient": recipient.pk}
    )
    assert "Hi Ann, thanks for your visit" in response.content.decode()
    assert "See you soon at Acme." in response.content.decode()


def _approve_template(campaign, owner):
    approval = services.request_approval(campaign, user=owner.user)
    assert approval.field_kinds == {"first_name": "given_name", "company": "company"}
    consent_services.decide_script(approval, approve=True, reason="", evidence=SUBJECT)
    return approval


def test_a_subject_approves_the_template_once_for_values_of_the_kinds_shown(setup):
    owner, campaign = setup
    grant = campaign.avatar.grant
    grant.requires_script_approval = True
    grant.save()
    services.replace_recipients(
        campaign, services.read_list(campaign, text="first_name,company\nAnn,Acme\nBo,\n")
    )
    with pytest.raises(services.CampaignError, match="not been sent"):
        services.launch(campaign, user=owner.user)  # refused as a whole: nothing launched
    assert RenderJob.objects.count() == 0

    _approve_template(campaign, owner)
    counts = services.launch(campaign, user=owner.user)
    assert counts == {"submitted": 2, "refused": 0}
    job = Recipient.objects.get(line=2).job
    assert job.part_of == campaign.part_of and job.frame_mark_id == campaign.frame_mark_id
    assert job.script_text == (
        "Hi Ann, thanks for your visit. We built this for teams like yours. See you soon at Acme."
    )
    assert job.render_decision(at=job.created_at)


@pytest.mark.parametrize(
    "tamper, reason",
    [
        # A value of a kind the subject never approved for a given name.
        (lambda job: job.template["values"].update(first_name="Visit casino 24/7"), "given name"),
        # Words that are not the template filled in (the timeline is what the worker says).
        (lambda job: job.timeline["scenes"][0]["segments"].append({"text": "Buy now."}), "filling"),
        (lambda job: job.template.update(text=job.template["text"] + " Buy now."), "not"),
    ],
)
def test_the_worker_refuses_a_variant_that_is_not_the_approved_template(setup, tamper, reason):
    owner, campaign = setup
    grant = campaign.avatar.grant
    grant.requires_script_approval = True
    grant.save()
    services.replace_recipients(
        campaign, services.read_list(campaign, text="first_name,company\nAnn,Acme\n")
    )
    _approve_template(campaign, owner)
    services.launch(campaign, user=owner.user)
    job = RenderJob.objects.get()
    tamper(job)
    job.save()
    job.refresh_from_db()
    decision = job.render_decision(at=job.created_at)
    assert not decision
    assert reason in decision.reason


def test_approval_is_for_the_kinds_shown_a_changed_kind_needs_a_new_answer(setup):
    owner, campaign = setup
    grant = campaign.avatar.grant
    grant.requires_script_approval = True
    grant.save()
    _approve_template(campaign, owner)
    services.update_campaign(campaign, kinds={"first_name": "text", "company": "company"})
    services.replace_recipients(
        campaign, services.read_list(campaign, text="first_name,company\nAnn,Acme\n")
    )
    with pytest.raises(services.CampaignError, match=r"approved \{\{first_name\}\} for a given"):
        services.launch(campaign, user=owner.user)
    assert RenderJob.objects.count() == 0
    # Sending it again asks the subject about the new kind.
    approval = services.request_approval(campaign, user=owner.user)
    assert approval.status == ScriptApproval.Status.PENDING
    assert approval.field_kinds["first_name"] == "text"


def test_a_member_of_another_workspace_sees_no_campaign(setup, client):
    _, campaign = setup
    stranger = MembershipFactory()
    client.force_login(stranger.user)
    for name in ("detail", "preview", "progress", "problems"):
        assert client.get(reverse(f"campaigns:{name}", args=[campaign.pk])).status_code == 404
    assert client.post(reverse("campaigns:launch", args=[campaign.pk])).status_code == 404
    assert Campaign.objects.get().status == Campaign.Status.DRAFT


def test_every_spoken_value_can_be_heard_alone_and_nothing_else(setup, client, tmp_path):
    from consent.ledger import Event
    from consent.models import LedgerEntry
    from engine.audio import read_wav

    owner, campaign = setup
    services.replace_recipients(
        campaign,
        services.read_list(
            campaign, text="first_name,first_name:say,company\nSiobhan,shiv awn,Acme\nAnn,,Acme\n"
        ),
    )
    values = services.spoken_values(campaign)
    assert {(v["field"], v["value"], v["say"], v["rows"]) for v in values} == {
        ("company", "Acme", "", 2),
        ("first_name", "Siobhan", "shiv awn", 1),
        ("first_name", "Ann", "", 1),
    }
    client.force_login(owner.user)
    url = reverse("campaigns:say", args=[campaign.pk])
    page = client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert page.count('class="spoken-value"') == 3

    response = client.get(url, {"field": "first_name", "value": "Siobhan", "say": "shiv awn"})
    assert response.status_code == 200 and response["Content-Type"] == "audio/wav"
    (tmp_path / "name.wav").write_bytes(response.content)
    samples, rate = read_wav(tmp_path / "name.wav")
    assert 0.4 < len(samples) / rate < 3.0 and abs(samples).max() > 0.05  # words, not silence
    assert LedgerEntry.objects.filter(event=Event.RENDER_AUTHORIZED, payload__stage="voice preview")

    # Only values of the list: the endpoint is no way to make the subject say anything else.
    refused = client.get(url, {"field": "first_name", "value": "Say something else"})
    assert refused.status_code == 409
    assert client.get(url, {"field": "email", "value": "Ann"}).status_code == 409
    assert client.get(url, {"field": "first_name", "value": "Ann", "say": "eh"}).status_code == 409

    consent_services.revoke_grant(campaign.avatar.grant, reason="", evidence=SUBJECT)
    after = client.get(url, {"field": "first_name", "value": "Ann"})
    assert after.status_code == 409 and "revoked" in after.content.decode()


def test_a_big_list_is_launched_in_the_background_and_a_cancel_stops_it(
    setup, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    from campaigns.tasks import launch_campaign

    settings.CAMPAIGN_INLINE_LAUNCH_ROWS = 2
    owner, campaign = setup
    rows = "first_name\n" + "\n".join(["Ann", "Bo", "Cy", "Di"])
    services.replace_recipients(campaign, services.read_list(campaign, text=rows))
    with django_capture_on_commit_callbacks(execute=True):
        counts = services.launch(campaign, user=owner.user)
    assert counts == {"submitted": 0, "refused": 0, "launching": 4}
    task = DBTaskResult.objects.get()
    assert task.args_kwargs["args"] == [campaign.pk, owner.user.pk]
    assert RenderJob.objects.count() == 0  # nothing submitted in the request

    assert launch_campaign.call(campaign.pk, owner.user.pk) == {"submitted": 4, "refused": 0}
    assert campaign.recipients.filter(job__isnull=True).count() == 0
    # Running it again submits nothing twice.
    assert launch_campaign.call(campaign.pk, owner.user.pk) == {"submitted": 0, "refused": 0}
    assert RenderJob.objects.filter(part_of=campaign.part_of).count() == 4

    services.cancel(campaign)
    assert set(RenderJob.objects.values_list("status", flat=True)) == {RenderJob.Status.CANCELLED}

    # A campaign cancelled before its launch task runs gets no render at all.
    second = services.create_campaign(
        workspace=campaign.workspace,
        user=owner.user,
        name="Second",
        script=campaign.script,
        avatar=campaign.avatar,
        purpose="marketing",
    )
    services.replace_recipients(second, services.read_list(second, text=rows))
    assert services.launch(second, user=owner.user)["launching"] == 4
    services.cancel(second)
    assert launch_campaign.call(second.pk, owner.user.pk) == {"submitted": 0, "refused": 0}
    assert not RenderJob.objects.filter(part_of=second.part_of).exists()


def test_a_big_campaign_never_starves_a_single_video(setup):
    from rendering.scheduler import claim_next_job
    from tests.factories import RenderJobFactory

    owner, campaign = setup
    rows = "first_name\n" + "\n".join(["Ann", "Bo", "Cy", "Di", "Ed"])
    services.replace_recipients(campaign, services.read_list(campaign, text=rows))
    services.launch(campaign, user=owner.user)
    # Queued after the campaign: a single video in another workspace, and one in the same.
    other = RenderJobFactory()
    same = RenderJobFactory(avatar=campaign.avatar, workspace=campaign.workspace)
    claimed = [claim_next_job(f"worker-{i}") for i in range(3)]
    assert {claimed[0].pk, claimed[1].pk} == {other.pk, same.pk}
    assert claimed[2].part_of == campaign.part_of
