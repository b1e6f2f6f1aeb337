"""A task backend for laptops and tests: runs each task right after the transaction commits.

django-tasks' ``ImmediateBackend`` runs a task inside ``enqueue()``, that is inside the caller's
transaction: an email would leave even if that transaction then rolls back. This backend runs the
task in ``transaction.on_commit`` instead: nothing runs for a rolled-back transaction, and a task
enqueued outside any transaction runs at once. It is the "enqueue on commit" behaviour that
early versions of django-tasks had. Production uses ``django_tasks_db.DatabaseBackend``, whose
task row is written in the caller's transaction (see docs/notifications.md).
"""

import functools

from django.db import transaction
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks.base import Task, TaskResult, TaskResultStatus
from django_tasks.utils import get_random_id


class ImmediateOnCommitBackend(ImmediateBackend):
    def enqueue(self, task: Task, args, kwargs) -> TaskResult:
        self.validate_task(task)
        task_result = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        # _execute_task records a failure on the result (and logs it) instead of raising.
        transaction.on_commit(functools.partial(self._execute_task, task_result), robust=True)
        return task_result
