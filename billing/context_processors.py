from billing.services import billing_enabled


def billing(request) -> dict:
    """Whether the menu shows Billing (only where a Stripe key is set)."""
    return {"billing_enabled": billing_enabled()}
