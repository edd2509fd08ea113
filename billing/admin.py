from django import forms
from django.contrib import admin

from accounts.models import Workspace
from billing import services
from billing.models import BillingAccount, CreditEntry, CreditPack, Plan, StripeEvent


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "price_label",
        "included_seconds",
        "concurrency",
        "longest_video_seconds",
        "priority",
        "active",
    )
    prepopulated_fields = {"slug": ("name",)}


@admin.register(CreditPack)
class CreditPackAdmin(admin.ModelAdmin):
    list_display = ("name", "price_label", "seconds", "active")


@admin.register(BillingAccount)
class BillingAccountAdmin(admin.ModelAdmin):
    list_display = ("workspace", "plan", "subscription_status", "current_period_end")
    # Stripe's events keep these; an edit here would be overwritten or disagree with Stripe.
    readonly_fields = [f.name for f in BillingAccount._meta.fields]

    def has_add_permission(self, request):
        return False


class AdjustmentForm(forms.ModelForm):
    """The one entry people add by hand: an adjustment of a workspace's balance, with why."""

    workspace = forms.ModelChoiceField(Workspace.objects.all())
    seconds = forms.DecimalField(
        max_digits=12, decimal_places=3, help_text="Plus adds credits, minus takes them away."
    )

    class Meta:
        model = CreditEntry
        fields = ["workspace", "seconds", "reason"]

    def clean(self):
        data = super().clean()
        if data.get("seconds") == 0:
            self.add_error("seconds", "An adjustment changes the balance: give a non-zero amount.")
        if not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why the balance is adjusted.")
        return data


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin):
    """The ledger, read only: a correction is a new adjustment entry (Add), never an edit."""

    list_display = ("at", "workspace", "kind", "change", "job_id", "actor", "reason")
    list_filter = ("kind",)
    search_fields = ("stripe_ref", "reason", "actor")

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = AdjustmentForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return (
            ["workspace", "seconds", "reason"] if obj is None else super().get_fields(request, obj)
        )

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else [f.name for f in CreditEntry._meta.fields]

    def save_model(self, request, obj, form, change):
        entry = services.adjust(
            form.cleaned_data["workspace"],
            milliseconds=round(form.cleaned_data["seconds"] * 1000),
            user=request.user,
            reason=form.cleaned_data["reason"],
        )
        for field in CreditEntry._meta.concrete_fields:  # the admin logs and links the entry
            setattr(obj, field.attname, getattr(entry, field.attname))

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ("event_id", "type", "created", "received_at")

    def has_change_permission(self, request, obj=None):
        return False
