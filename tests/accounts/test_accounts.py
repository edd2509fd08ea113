import pytest
from django.urls import reverse

from accounts.models import Membership, Role
from consent.models import Subject
from tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_signup_creates_the_user_their_workspace_and_owner_membership(client):
    response = client.post(
        reverse("accounts:signup"),
        {
            "username": "maria",
            "email": "Maria@Example.com",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "workspace_name": "Acme Training",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user__username="maria")
    assert membership.workspace.name == "Acme Training"
    assert membership.role == Role.OWNER
    assert membership.user.email == "maria@example.com"
    assert client.get(reverse("home")).status_code == 200


def signup_data(username, email):
    return {
        "username": username,
        "email": email,
        "password1": PASSWORD,
        "password2": PASSWORD,
        "workspace_name": "X",
    }


def test_signup_with_a_taken_email_answers_exactly_like_with_a_new_one(client):
    UserFactory(email="taken@example.com")
    taken = client.post(reverse("accounts:signup"), signup_data("new", "Taken@example.com"))
    client.logout()
    fresh = client.post(reverse("accounts:signup"), signup_data("newer", "free@example.com"))
    assert (taken.status_code, taken.url) == (fresh.status_code, fresh.url) == (302, "/")
    assert Membership.objects.filter(user__username="new", role=Role.OWNER).exists()


def test_a_taken_username_is_refused_without_saying_that_an_account_has_it(client):
    UserFactory(username="maria")
    response = client.post(reverse("accounts:signup"), signup_data("Maria", "m@example.com"))
    assert response.status_code == 400
    page = response.content.decode()
    assert "This username can&#x27;t be used. Choose another one." in page
    assert "already exists" not in page and "A user with that username" not in page
    assert not Membership.objects.filter(user__email="m@example.com").exists()


def test_login_and_logout(client):
    user = UserFactory()
    response = client.post(
        reverse("accounts:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    # Logged in, with no workspace yet: sent to create one (not back to the login page).
    home = client.get(reverse("home"))
    assert (home.status_code, home.url) == (302, reverse("accounts:workspace_new"))
    membership = MembershipFactory(user=user)
    home = client.get(reverse("home"))
    assert home.status_code == 200 and membership.workspace.name in home.content.decode()
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("consent:subject_list")).status_code == 302  # back to login


def test_pages_require_login(client):
    response = client.get(reverse("avatars:avatar_list"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_a_viewer_can_look_but_cannot_create(client):
    viewer = MembershipFactory(role=Role.VIEWER)
    client.force_login(viewer.user)
    assert client.get(reverse("consent:subject_list")).status_code == 200
    response = client.post(
        reverse("consent:subject_new"), {"full_name": "A", "email": "a@example.com"}
    )
    assert response.status_code == 403
    assert not Subject.objects.exists()


def test_an_editor_cannot_invite_members(client):
    editor = MembershipFactory(role=Role.EDITOR)
    client.force_login(editor.user)
    client.post(
        reverse("accounts:members"),
        {"username_or_email": UserFactory().username, "role": Role.OWNER},
    )
    assert editor.workspace.memberships.count() == 1
    assert not editor.workspace.invitations.exists()


def test_switching_to_a_workspace_you_do_not_belong_to_is_404(member_client):
    foreign = MembershipFactory()
    response = member_client.post(reverse("accounts:workspace_switch", args=[foreign.workspace_id]))
    assert response.status_code == 404


def test_switching_to_a_workspace_id_too_large_for_the_database_is_404(member_client):
    response = member_client.post("/accounts/workspaces/12345678901234567890123/switch/")
    assert response.status_code == 404 and b"Not found" in response.content


def test_an_id_too_large_for_the_database_is_404_on_every_page_that_takes_one(member_client):
    too_large = "9" * 23
    for url in (f"/renders/{too_large}/", f"/consents/{too_large}/", f"/scripts/{too_large}/"):
        assert member_client.get(url).status_code == 404, url


def test_the_largest_row_id_still_reaches_its_view(member_client):
    largest = 2**63 - 1  # fits the column: the view answers (404: no such workspace of yours)
    url = reverse("accounts:workspace_switch", args=[largest])
    assert url == f"/accounts/workspaces/{largest}/switch/"
    assert member_client.post(url).status_code == 404


def test_a_user_in_two_workspaces_sees_only_the_current_ones_objects(client):
    first = MembershipFactory()
    second = MembershipFactory(user=first.user)
    Subject.objects.create(workspace=first.workspace, full_name="In First", email="a@example.com")
    Subject.objects.create(workspace=second.workspace, full_name="In Second", email="b@example.com")
    client.force_login(first.user)
    client.post(reverse("accounts:workspace_switch", args=[second.workspace_id]))
    page = client.get(reverse("consent:subject_list")).content.decode()
    assert "In Second" in page and "In First" not in page
