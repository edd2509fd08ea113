"""The Celery app for TASK_BACKEND=celery.

Workers: `celery -A config.celery worker -Q gpu` on GPU machines, `-Q default` elsewhere.
Tasks stay plain django.tasks functions; django-tasks-celery registers them here.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("likeness")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Importing each app's tasks.py registers its django.tasks with this Celery app.
app.autodiscover_tasks()
