"""Thin task shims: take ids, call services."""

from django.tasks import task

from consent import verification


@task(queue_name="default")
def verify_grant(grant_id: int) -> str:
    return verification.run_verification(grant_id)
