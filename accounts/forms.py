from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from accounts.models import Membership, Role


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=True)
    workspace_name = forms.CharField(
        max_length=100, help_text="Your team or company; you can invite others later."
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                "An account with this email already exists. Log in instead."
            )
        return email


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=100)


class AddMemberForm(forms.Form):
    username_or_email = forms.CharField(max_length=254, label="Username or email")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR)

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace

    def clean_username_or_email(self):
        value = self.cleaned_data["username_or_email"].strip()
        users = get_user_model().objects
        user = users.filter(username=value).first() or users.filter(email__iexact=value).first()
        if user is None:
            raise forms.ValidationError(
                "No account has that username or email. Ask them to sign up first."
            )
        if Membership.objects.filter(workspace=self.workspace, user=user).exists():
            raise forms.ValidationError(f"{user.username} is already a member.")
        return user
