"""Refusals of billing: a render the credits or the plan do not cover, a purchase that cannot go
on. The render refusals are RenderRefused, so every page and the API that already answer a
refused render answer these too; the API gives each its own problem (api/errors.py)."""

from core.errors import UserError
from rendering.services import RenderRefused


def seconds_text(milliseconds: int) -> str:
    """Credits for people: whole seconds below two minutes, then minutes and seconds."""
    seconds = milliseconds / 1000
    if abs(seconds) < 120:
        return f"{seconds:.0f} s" if seconds == int(seconds) else f"{seconds:.1f} s"
    minutes, rest = divmod(round(abs(seconds)), 60)
    sign = "-" if seconds < 0 else ""
    return f"{sign}{minutes} min {rest} s" if rest else f"{sign}{minutes} min"


class QuotaExceeded(RenderRefused):
    """Not enough credits: says the cost, the balance and the shortfall."""

    code = "quota_exceeded"

    def __init__(self, *, cost_ms: int, balance_ms: int, what: str = "This render"):
        self.cost_ms, self.balance_ms = cost_ms, balance_ms
        self.shortfall_ms = max(cost_ms - balance_ms, 0)
        super().__init__(
            f"{what}: about {seconds_text(cost_ms)} of video credits are needed and the workspace "
            f"has {seconds_text(max(balance_ms, 0))} left ({seconds_text(self.shortfall_ms)} "
            "short). Buy a credit pack or choose a larger plan on the billing page."
        )


class PlanLimitExceeded(RenderRefused):
    """The plan does not allow this render (too long, or too many renders at once)."""

    code = "plan_limit"


class ConcurrencyLimitExceeded(PlanLimitExceeded):
    code = "concurrency_limit"


class VideoTooLong(PlanLimitExceeded):
    code = "video_too_long"


class BillingError(UserError):
    """A billing action refused (no such plan, Stripe unreachable, ...)."""

    code = "billing_error"
