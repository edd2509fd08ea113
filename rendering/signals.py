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

# Sent inside the transaction that queues a job (a submit, or a person's retry of a failed one),
# with job=RenderJob (saved). A receiver may refuse the job by raising RenderRefused: the whole
# submit rolls back. Billing reserves the job's credits here.
render_queued = Signal()

# Sent by the worker right before it renders a claimed job, with job=RenderJob (after the consent
# check). A receiver returns a reason (str) the job may not start, or None; a reason cancels it.
render_starting = Signal()

# Sent with job=RenderJob when a queued or running job was cancelled (by a person, a revoked
# consent, a cancelled campaign, or a refusal at start).
render_cancelled = Signal()

# Sent after commit with job_id and run_after (a datetime, or None for now) when a job needs a
# worker's turn: submitted, retried, or requeued after a failed attempt. rendering.tasks enqueues.
render_due = Signal()
