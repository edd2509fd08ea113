from django.dispatch import Signal

# Sent after commit with campaign_id and user_id when a launched campaign's rows are to be
# submitted in the background; campaigns.tasks enqueues the task.
campaign_launch_due = Signal()
