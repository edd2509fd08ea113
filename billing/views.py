"""Billing pages (usage, plans and packs, Checkout's return, the customer portal) and Stripe's
webhook. Every one answers 404 while billing is off."""

import json
import logging
from functools import wraps

import stripe
from django.conf import settings
from django.contrib import messages
from django.db.models import Sum
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.permissions import member_required
from billing import fulfilment, services, stripe_gateway, usage
from billing.errors import BillingError
from billing.models import BillingAccount, CreditEntry, CreditPack, Plan

log = logging.getLogger(__name__)


def billing_page(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not services.billing_enabled():
            raise Http404("Billing is not enabled on this site.")
        return view(request, *args, **kwargs)

    return wrapped


def _account(request) -> BillingAccount:
    account, _ = BillingAccount.objects.select_related("plan").get_or_create(
        workspace=request.workspace
    )
    return account


def _status(account: BillingAccount) -> dict:
    balance = account.balance_ms()
    return {
        "account": account,
        "balance_seconds": balance / 1000,
        "low_balance": balance < settings.BILLING_LOW_BALANCE_SECONDS * 1000,
        "low_threshold": settings.BILLING_LOW_BALANCE_SECONDS,
        "limits": account.limits,
    }


@billing_page
@member_required()
def overview(request):
    account = _account(request)
    workspace_id = request.workspace.pk
    invoices, invoices_error = [], ""
    if request.membership.can_manage:  # invoices name the payer: owners only
        try:
            invoices = stripe_gateway.invoices(account)
        except BillingError as error:
            invoices_error = str(error)
    # Closed holds sum to zero, so the workspace's total is what its open ones keep aside.
    held = (
        CreditEntry.objects.filter(workspace_id=workspace_id).aggregate(s=Sum("held_milliseconds"))[
            "s"
        ]
        or 0
    )
    return render(
        request,
        "billing/overview.html",
        {
            **_status(account),
            "held_seconds": held / 1000,
            "chart": usage.day_chart(usage.seconds_per_day(workspace_id)),
            "parts": usage.per_part(workspace_id),
            "entries": CreditEntry.objects.filter(workspace_id=workspace_id).order_by("-at", "-pk")[
                :50
            ],
            "invoices": invoices,
            "invoices_error": invoices_error,
        },
    )


@billing_page
@member_required()
def plans(request):
    return render(
        request,
        "billing/plans.html",
        {
            **_status(_account(request)),
            "plans": Plan.objects.filter(active=True),
            "packs": CreditPack.objects.filter(active=True),
        },
    )


@billing_page
@require_POST
@member_required(manage=True)
def checkout(request):
    account = _account(request)
    if slug := request.POST.get("plan"):
        item = Plan.objects.filter(active=True, slug=slug).first()
        if item and account.subscription_status in ("active", "trialing", "past_due"):
            messages.error(request, "Change or cancel the current plan in the customer portal.")
            return redirect("billing:plans")
    else:
        pack = request.POST.get("pack", "")
        item = CreditPack.objects.filter(active=True, pk=pack).first() if pack.isdigit() else None
    if item is None:
        messages.error(request, "Choose one of the plans or packs offered.")
        return redirect("billing:plans")
    try:
        url = stripe_gateway.checkout_url(
            request.workspace,
            item=item,
            email=request.user.email,
            success_url=request.build_absolute_uri(reverse("billing:checkout_success")),
            cancel_url=request.build_absolute_uri(reverse("billing:plans")),
        )
    except BillingError as error:
        messages.error(request, str(error))
        return redirect("billing:plans")
    return redirect(url)


@billing_page
@member_required()
def checkout_success(request):
    """Where Stripe sends the buyer back: fulfil now (the webhook may come later; either one
    credits the payment once), for this workspace's sessions only."""
    session_id = request.GET.get("session_id", "")
    if not session_id.startswith("cs_"):
        raise Http404("No such payment.")
    try:
        session = stripe_gateway.checkout_session(session_id)
    except BillingError as error:
        messages.error(request, str(error))
        return redirect("billing:overview")
    if str((session.get("metadata") or {}).get("workspace_id")) != str(request.workspace.pk):
        raise Http404("No such payment in this workspace.")
    fulfilment.fulfil_checkout(session)
    if session.get("mode") == "subscription":
        try:
            fulfilment.refresh_subscription(_account(request))
        except BillingError as error:
            log.warning("Reading the new subscription failed: %s", error)
        messages.success(request, "Thank you: the plan is active and its seconds are added.")
    elif session.get("payment_status") in fulfilment.PAID:
        messages.success(request, "Thank you: the pack's seconds are added.")
    else:
        messages.info(request, "The payment is on its way; the seconds come once it clears.")
    return redirect("billing:overview")


@billing_page
@require_POST
@member_required(manage=True)
def portal(request):
    try:
        url = stripe_gateway.portal_url(
            _account(request),
            return_url=request.build_absolute_uri(reverse("billing:overview")),
        )
    except BillingError as error:
        messages.error(request, str(error))
        return redirect("billing:overview")
    return redirect(url)


@csrf_exempt  # Stripe signs its requests instead
@billing_page
@require_POST
def webhook(request):
    """Stripe's events: 400 without a good signature (nothing changes), otherwise 200 once
    applied or already applied; an error while applying is a 500, and Stripe retries."""
    try:
        stripe_gateway.construct_event(request.body, request.headers.get("Stripe-Signature"))
    except stripe.SignatureVerificationError:
        return HttpResponseBadRequest("Bad signature.")
    except ValueError:
        return HttpResponseBadRequest("Not an event.")
    outcome = fulfilment.handle_event(json.loads(request.body))
    return HttpResponse(outcome, content_type="text/plain")
