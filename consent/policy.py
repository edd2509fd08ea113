"""The one place that decides whether a likeness may be rendered.

Called when a render is submitted and again by the worker right before it renders, so a consent
that is revoked or expires in between stops the render.
"""

from dataclasses import dataclass
from datetime import datetime

from consent.models import ConsentGrant, Purpose


@dataclass(frozen=True)
class RenderDecision:
    allowed: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.allowed


ALLOWED = RenderDecision(True)


def authorize_render(
    grant: ConsentGrant, *, avatar_enabled: bool, purpose: str, at: datetime
) -> RenderDecision:
    def refuse(reason: str) -> RenderDecision:
        return RenderDecision(False, reason)

    if grant.status == ConsentGrant.Status.REVOKED:
        return refuse(f"The subject revoked this consent on {grant.revoked_at:%Y-%m-%d}.")
    if grant.status != ConsentGrant.Status.ACTIVE or grant.signed_at is None:
        return refuse("The consent has not been signed yet.")
    if not avatar_enabled:
        return refuse("This avatar is disabled.")
    if at < grant.valid_from:
        return refuse(f"The consent is not valid until {grant.valid_from:%Y-%m-%d %H:%M} UTC.")
    if at >= grant.valid_until:
        return refuse(f"The consent expired on {grant.valid_until:%Y-%m-%d %H:%M} UTC.")
    if purpose not in grant.purposes:
        covered = ", ".join(grant.purpose_labels()) or "nothing"
        label = Purpose(purpose).label if purpose in Purpose.values else purpose
        return refuse(f"The consent does not cover {label.lower()} use (it covers: {covered}).")
    return ALLOWED
