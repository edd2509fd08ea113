from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"
    AUDITOR = "auditor", "Auditor"


# What each role may do. Auditors read consent and its evidence but make nothing.
EDIT_ROLES = frozenset({Role.OWNER, Role.EDITOR})
MANAGE_ROLES = frozenset({Role.OWNER})


class Workspace(models.Model):
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name

    def add_member(self, user, role: Role) -> "Membership":
        membership, _ = Membership.objects.update_or_create(
            workspace=self, user=user, defaults={"role": role}
        )
        return membership


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "workspace"], name="one_membership_per_workspace"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.workspace} as {self.role}"

    @property
    def can_edit(self) -> bool:
        return self.role in EDIT_ROLES

    @property
    def can_manage(self) -> bool:
        return self.role in MANAGE_ROLES


class WorkspaceScoped(models.Model):
    """Base for every object that belongs to a workspace; views look objects up through it."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True


class InvitationNotOpen(Exception):
    """An invitation that was already answered, revoked or has expired."""

    def __init__(self, invitation: "Invitation"):
        super().__init__(f"This invitation is {invitation.state_label.lower()}; nothing changed.")
        self.invitation = invitation


class Invitation(models.Model):
    """An owner's offer of a role in a workspace; a membership exists only once it is accepted.

    The row is the record of the invitation's life: who sent it and when, and who answered
    (accepted or declined) or revoked it and when. ``recipient`` is the username or email the
    owner typed: the invitation reaches whichever account has it, now or after a later signup,
    and the owner learns nothing about whether such an account exists."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        REVOKED = "revoked", "Revoked"

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    recipient = models.CharField(max_length=254)
    role = models.CharField(max_length=16, choices=Role.choices)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["recipient", "status"])]

    def __str__(self) -> str:
        return f"{self.recipient} to {self.workspace} as {self.role} ({self.status})"

    @staticmethod
    def default_expiry():
        return timezone.now() + timedelta(days=settings.INVITATION_DAYS)

    @classmethod
    def addressed_to(cls, user):
        """Every invitation to this user's username or email, whatever its state."""
        addressed = Q(recipient=user.username)
        if user.email:
            addressed |= Q(recipient__iexact=user.email)
        return cls.objects.filter(addressed).select_related("workspace", "invited_by")

    @classmethod
    def open_for(cls, user):
        """Pending, unexpired invitations addressed to this user."""
        return cls.addressed_to(user).filter(
            status=cls.Status.PENDING, expires_at__gt=timezone.now()
        )

    @property
    def is_expired(self) -> bool:
        return self.status == self.Status.PENDING and self.expires_at <= timezone.now()

    @property
    def state_label(self) -> str:
        return "Expired" if self.is_expired else self.get_status_display()

    def _close(self, status: str, *, by) -> None:
        if self.status != self.Status.PENDING or self.is_expired:
            raise InvitationNotOpen(self)
        self.status, self.answered_by, self.answered_at = status, by, timezone.now()
        self.save(update_fields=["status", "answered_by", "answered_at"])

    def accept(self, user) -> Membership:
        self._close(self.Status.ACCEPTED, by=user)
        existing = Membership.objects.filter(workspace=self.workspace, user=user).first()
        return existing or self.workspace.add_member(user, self.role)

    def decline(self, user) -> None:
        self._close(self.Status.DECLINED, by=user)

    def revoke(self, owner) -> None:
        self._close(self.Status.REVOKED, by=owner)
