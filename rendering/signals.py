"""Signals higher apps (provenance) listen to; rendering never imports them. And one inside
rendering: the queue (tasks.py, connected in apps.py) hears when a job needs a worker's turn, so
the workflows that make a job due never import the task that runs them."""

from django.dispatch import Signal

# Sent by the worker before each render with job=RenderJob; a receiver returns a dict of
# RenderSpec fields to set (e.g. the provenance id the watermarks carry), or None.
render_spec_requested = Signal()

# Sent inside the publishing transaction with video=Video and result=RenderResult.
video_published = Signal()

# Sent with job=RenderJob when a render has failed for good (the worker gave up on it); higher
# apps (api: webhooks, email) act on commit.
render_failed = Signal()

# Sent after commit with job_id and run_after (a datetime, or None for now) when a job needs a
# worker's turn: submitted, retried, or requeued after a failed attempt. rendering.tasks enqueues.
render_due = Signal()
