"""Signals other apps listen to; consent never imports them."""

from django.dispatch import Signal

# Sent inside the revoking transaction with `grant`: rendering cancels pending jobs, avatars
# disable themselves.
grant_revoked = Signal()
