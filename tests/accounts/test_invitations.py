"""Membership by invitation: an owner invites, the invited user accepts or declines."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, Membership, Role
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def invitee():
    """A second browser, beside the owner's member_client."""
    return Client()


def invite(owner_client, recipient, role=Role.EDITOR):
    return owner_client.post(
        reverse("accounts:members"), {"username_or_email": recipient, "role": role}, follow=True
    )


def invitation_to(workspace, recipient):
    return Invitation.objects.get(workspace=workspace, recipient=recipient)


def test_a_member_invited_by_an_owner_appears_only_after_accepting(member_client, member, invitee):
    other = UserFactory()
    invite(member_client, other.username, Role.AUDITOR)
    assert not Membership.objects.filter(user=other, workspace=member.workspace).exists()
    invitee.force_login(other)
    page = invitee.get(reverse("accounts:invitations")).content.decode()
    assert member.workspace.name in page and "Auditor" in page
    invitation = invitation_to(member.workspace, other.username)
    response = invitee.post(reverse("accounts:invitation_accept", args=[invitation.pk]))
    assert response.status_code == 302
    membership = Membership.objects.get(user=other, workspace=member.workspace)
    assert membership.role == Role.AUDITOR
    invitation.refresh_from_db()
    assert (invitation.status, invitation.answered_by) == ("accepted", other)
    assert invitation.answered_at is not None and invitation.invited_by == member.user


def test_an_invitation_by_email_reaches_the_account_with_that_email(member_client, member, invitee):
    other = UserFactory(email="ada@example.com")
    invite(member_client, "Ada@Example.com")
    invitee.force_login(other)
    invitation = invitation_to(member.workspace, "ada@example.com")
    invitee.post(reverse("accounts:invitation_accept", args=[invitation.pk]))
    assert Membership.objects.filter(user=other, workspace=member.workspace).exists()


def test_inviting_answers_the_same_whether_or_not_the_account_exists(member_client):
    UserFactory(username="exists", email="exists@example.com")
    answers = []
    for recipient in ("exists", "nobody", "exists@example.com", "nobody@example.com"):
        response = invite(member_client, recipient)
        messages = [str(m) for m in response.context["messages"]]
        answers.append((response.status_code, response.redirect_chain, messages))
    assert all(answer == answers[0] for answer in answers)
    assert answers[0][0] == 200 and "Invitation sent" in answers[0][2][0]


def test_a_declined_invitation_gives_no_membership(member_client, member, invitee):
    other = UserFactory()
    invite(member_client, other.username)
    invitation = invitation_to(member.workspace, other.username)
    invitee.force_login(other)
    invitee.post(reverse("accounts:invitation_decline", args=[invitation.pk]))
    invitation.refresh_from_db()
    assert invitation.status == "declined"
    response = invitee.post(
        reverse("accounts:invitation_accept", args=[invitation.pk]), follow=True
    )
    assert "nothing changed" in response.content.decode()
    assert not Membership.objects.filter(user=other, workspace=member.workspace).exists()


def test_an_expired_invitation_gives_no_membership(member_client, member, invitee, settings):
    other = UserFactory()
    invite(member_client, other.username)
    invitation = invitation_to(member.workspace, other.username)
    assert invitation.expires_at > timezone.now() + timedelta(days=settings.INVITATION_DAYS - 1)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    invitee.force_login(other)
    page = invitee.get(reverse("accounts:invitations")).content.decode()
    assert "No open invitations" in page, page
    response = invitee.post(
        reverse("accounts:invitation_accept", args=[invitation.pk]), follow=True
    )
    assert "nothing changed" in response.content.decode()
    assert not Membership.objects.filter(user=other, workspace=member.workspace).exists()
    assert "Expired" in member_client.get(reverse("accounts:members")).content.decode()


def test_a_revoked_invitation_cannot_be_accepted(member_client, member, invitee):
    other = UserFactory()
    invite(member_client, other.username)
    invitation = invitation_to(member.workspace, other.username)
    member_client.post(reverse("accounts:invitation_revoke", args=[invitation.pk]))
    invitation.refresh_from_db()
    assert (invitation.status, invitation.answered_by) == ("revoked", member.user)
    invitee.force_login(other)
    response = invitee.post(
        reverse("accounts:invitation_accept", args=[invitation.pk]), follow=True
    )
    assert "nothing changed" in response.content.decode()
    assert not Membership.objects.filter(user=other, workspace=member.workspace).exists()


def test_nobody_else_can_accept_an_invitation(member_client, member, invitee):
    invite(member_client, UserFactory().username)
    invitation = Invitation.objects.get(workspace=member.workspace)
    invitee.force_login(UserFactory())
    response = invitee.post(reverse("accounts:invitation_accept", args=[invitation.pk]))
    assert response.status_code == 404
    assert member.workspace.memberships.count() == 1


def test_only_the_owner_of_its_workspace_revokes_an_invitation(member_client, member, invitee):
    invite(member_client, "someone")
    invitation = Invitation.objects.get(workspace=member.workspace)
    stranger = MembershipFactory()
    invitee.force_login(stranger.user)
    response = invitee.post(reverse("accounts:invitation_revoke", args=[invitation.pk]))
    assert response.status_code == 404
    editor = MembershipFactory(workspace=member.workspace, role=Role.EDITOR)
    invitee.force_login(editor.user)
    response = invitee.post(reverse("accounts:invitation_revoke", args=[invitation.pk]))
    assert response.status_code == 403
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_a_later_signup_with_the_invited_email_sees_the_invitation(member_client, member, invitee):
    invite(member_client, "later@example.com")
    user = UserFactory(email="later@example.com")
    invitee.force_login(user)
    assert member.workspace.name in invitee.get(reverse("accounts:invitations")).content.decode()
