"""Signals higher apps (provenance) listen to; rendering never imports them."""

from django.dispatch import Signal

# Sent by the worker before each render with job=RenderJob; a receiver returns a dict of
# RenderSpec fields to set (e.g. the provenance id the watermarks carry), or None.
render_spec_requested = Signal()

# Sent inside the publishing transaction with video=Video and result=RenderResult.
video_published = Signal()
