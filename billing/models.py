"""Plans, credit packs, each workspace's billing account and its credit ledger.

Credits are seconds of finished video, stored as integer milliseconds so that a render is charged
its exact length (per second, never rounded up to minutes) and sums never drift. The ledger is
append-only: the available balance is the sum of ``CreditEntry.milliseconds`` and what a hold
(a render's or a campaign's reservation) still holds is the sum of ``held_milliseconds`` of the
entries naming it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import Workspace


class Plan(models.Model):
    """A subscription sold through Stripe: included seconds per period and the plan's limits.
    Edited in the admin; ``stripe_price_id`` is the recurring Price in the Stripe dashboard."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=60)
    stripe_price_id = models.CharField(max_length=100, unique=True)
    price_label = models.CharField(max_length=40, help_text="As shown to buyers, e.g. $29/month.")
    included_seconds = models.PositiveIntegerField(help_text="Seconds of video each period.")
    concurrency = models.PositiveSmallIntegerField(
        default=1, help_text="Renders in progress at once (a campaign or lesson counts as one)."
    )
    longest_video_seconds = models.PositiveIntegerField(default=300)
    # Added to every render's priority: the fair claim (rendering.scheduler) serves higher first.
    priority = models.SmallIntegerField(default=0)
    active = models.BooleanField(default=True, help_text="Offered on the plans page.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "included_seconds"]

    def __str__(self) -> str:
        return self.name


class CreditPack(models.Model):
    """A one-off purchase of seconds (a Stripe one-time Price); they never expire."""

    name = models.CharField(max_length=60)
    stripe_price_id = models.CharField(max_length=100, unique=True)
    price_label = models.CharField(max_length=40)
    seconds = models.PositiveIntegerField()
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["seconds"]

    def __str__(self) -> str:
        return f"{self.name} ({self.seconds} s)"


class PlanLimits:
    """What a workspace without a plan may do (it can still buy packs): the settings' defaults."""

    name = "No plan"
    priority = 0

    @property
    def concurrency(self) -> int:
        return settings.BILLING_DEFAULT_CONCURRENCY

    @property
    def longest_video_seconds(self) -> int:
        return settings.BILLING_DEFAULT_LONGEST_VIDEO_SECONDS


class BillingAccount(models.Model):
    """A workspace's place in Stripe, and the row every credit movement of the workspace locks
    (select_for_update) so that two renders never spend the same last seconds."""

    workspace = models.OneToOneField(
        Workspace, on_delete=models.PROTECT, related_name="billing_account"
    )
    stripe_customer_id = models.CharField(max_length=100, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True, db_index=True)
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT)
    # Stripe's subscription status (active, past_due, canceled, ...), "" before any.
    subscription_status = models.CharField(max_length=24, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    # The `created` time of the newest Stripe event applied to the subscription's state: an older
    # event delivered late (Stripe does not promise order) never overwrites a newer state.
    subscription_state_at = models.DateTimeField(null=True, blank=True)
    payment_failed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Billing of {self.workspace}"

    @property
    def limits(self) -> Plan | PlanLimits:
        if self.plan is not None and self.subscription_status in ("active", "trialing"):
            return self.plan
        return PlanLimits()

    def balance_ms(self) -> int:
        return CreditEntry.balance_of(self.workspace_id)


class LedgerImmutable(Exception):
    """Credit entries are appended, never changed or removed; a correction is a new entry."""


class CreditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LedgerImmutable("Credit entries cannot be updated.")

    def delete(self):
        raise LedgerImmutable("Credit entries cannot be deleted.")


class CreditEntry(models.Model):
    """One movement of a workspace's credits. Append with billing.services, never edit."""

    class Kind(models.TextChoices):
        GRANT = "grant", "Plan grant"
        PURCHASE = "purchase", "Credit pack"
        RESERVATION = "reservation", "Reserved"
        SETTLEMENT = "settlement", "Charged"
        RELEASE = "release", "Released"
        REFUND = "refund", "Refund"
        ADJUSTMENT = "adjustment", "Adjustment"
        # What a plan's period left unused, taken away when the next period (or the end of the
        # plan) comes: included seconds are per period. Packs never expire.
        EXPIRY = "expiry", "Period ended"

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Change to the available balance (milliseconds of video; negative spends).
    milliseconds = models.BigIntegerField()
    # Change to what the hold named by `hold` keeps aside ("job:12", "campaign:3"; "" for none).
    hold = models.CharField(max_length=64, blank=True, db_index=True)
    held_milliseconds = models.BigIntegerField(default=0)
    # Milliseconds of finished video this entry paid for (settlements; minus for a refund).
    used_milliseconds = models.BigIntegerField(default=0)
    # Plain ids and copies, not foreign keys: the ledger outlives what it records and a deleted
    # user or render never changes a row (Django's SET_NULL would update it).
    job_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    part_of = models.CharField(max_length=64, blank=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor = models.CharField(max_length=150, blank=True)
    reason = models.TextField(blank=True)
    # The Stripe object that paid for it (checkout session, invoice), and the event that said so.
    stripe_ref = models.CharField(max_length=100, blank=True)
    stripe_event_id = models.CharField(max_length=100, blank=True)

    objects = CreditQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name_plural = "credit entries"
        constraints = [
            # A payment is credited once, whichever of the webhook and the success page is first.
            models.UniqueConstraint(
                fields=["kind", "stripe_ref"],
                condition=~Q(stripe_ref=""),
                name="billing_credit_once_per_payment",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["adjustment", "refund"]) | ~Q(reason=""),
                name="billing_correction_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.milliseconds / 1000:+.3f} s"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise LedgerImmutable("Credit entries cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerImmutable("Credit entries cannot be deleted.")

    @property
    def change(self) -> str:
        """The change to the balance for people: "+60 s", "-3.429 s", "" for none."""
        if not self.milliseconds:
            return ""
        return f"{self.milliseconds / 1000:+.3f}".rstrip("0").rstrip(".") + " s"

    @property
    def used_seconds(self) -> float:
        return self.used_milliseconds / 1000

    @classmethod
    def balance_of(cls, workspace_id: int) -> int:
        """Available milliseconds: the sum of every entry of the workspace."""
        total = cls.objects.filter(workspace_id=workspace_id).aggregate(s=Sum("milliseconds"))
        return total["s"] or 0

    @classmethod
    def held_by(cls, hold: str) -> int:
        """Milliseconds a hold still keeps aside (0 once settled or released)."""
        total = cls.objects.filter(hold=hold).aggregate(s=Sum("held_milliseconds"))
        return total["s"] or 0


class StripeEvent(models.Model):
    """A Stripe event this site has applied: a second delivery of the same id does nothing."""

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=80)
    created = models.DateTimeField()  # Stripe's time for the event
    received_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
