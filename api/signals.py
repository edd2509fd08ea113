"""Inside api: the queue (tasks.py) hears when a webhook delivery needs a worker's turn, so the
webhook workflow never imports the task that runs it (the rendering app's render_due pattern)."""

from django.dispatch import Signal

# Sent after commit with delivery_id and run_after (a datetime, or None for now).
delivery_due = Signal()
