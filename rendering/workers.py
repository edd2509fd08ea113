"""Running queued tasks inside the current process, for commands and tests that cannot rely on a
separate `db_worker` being up. Uses django-tasks-db's own claim and run, so the task row ends in the
same state a real worker would leave."""

from django.db import connections
from django.tasks import task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction

IN_PROCESS_WORKER_ID = "in-process"


def uses_database_backend(alias: str = "default") -> bool:
    return isinstance(task_backends[alias], DatabaseBackend)


def _worker(alias: str) -> Worker:
    return Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name=alias,
        startup_delay=False,
        max_tasks=None,
        worker_id=IN_PROCESS_WORKER_ID,
        excluded_queue_names=[],
    )


def run_task_in_process(task_id: str, alias: str = "default") -> bool:
    """Claim and run one queued task here; False if it is gone or another worker claimed it."""
    worker = _worker(alias)
    with exclusive_transaction(DBTaskResult.objects.db):
        row = DBTaskResult.objects.ready().filter(id=task_id, backend_name=alias).get_locked()
        if row is None:
            return False
        row.claim(worker.worker_id)
    worker.run_task(row)
    return True


def drain_queue(alias: str = "default") -> None:
    """Run every ready task, then return (the worker's batch mode)."""
    _worker(alias).run()


def run_task_in_thread(task_id: str, alias: str = "default") -> None:
    """Thread target: run one task, then close this thread's database connections."""
    try:
        run_task_in_process(task_id, alias)
    finally:
        connections.close_all()
