from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm

from accounts.models import Role


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=True)
    workspace_name = forms.CharField(
        max_length=100, help_text="Your team or company; you can invite others later."
    )

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    # A taken username gets the same words as any unusable one, and a taken email is no error at
    # all: signup must not tell a stranger which accounts exist (issue 19).
    error_messages = {
        **UserCreationForm.error_messages,
        "unique": "This username can't be used. Choose another one.",
    }

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean_username(self):
        username = self.cleaned_data.get("username")
        if username and get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(self.error_messages["unique"], code="unique")
        return username


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=100)


class InviteMemberForm(forms.Form):
    """Whom to invite; never looks the account up, so its answer cannot tell whether one exists."""

    username_or_email = forms.CharField(max_length=254, label="Username or email")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR)


class TwoFactorCodeForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=32,
        help_text="The 6-digit code your authenticator app shows, or one of your backup codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )
