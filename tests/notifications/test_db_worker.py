"""The production path: django-tasks-db writes the task in the caller's transaction and the real
``db_worker`` command runs it."""

import io
import signal
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from moncompte.notifications.models import Message, MessageStatus
from moncompte.notifications.services import message_send
from moncompte.notifications.tasks import deliver_message

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_worker() -> None:
    """``manage.py db_worker --batch``: run every ready task, then return."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    try:
        call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", "--interval=0", stdout=io.StringIO())
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def send_code(code="731902"):
    return message_send(
        channel="sms", recipient="+33612345678", template="contact_code", context={"code": code, "minutes": 10}
    )


@pytest.mark.django_db(transaction=True)
def test_rolled_back_never_sent_committed_sent_once(settings, sms_server):
    settings.TASKS = DATABASE_TASKS

    with pytest.raises(RuntimeError), transaction.atomic():
        message = send_code("111111")
        # The task row is written in the caller's transaction...
        assert DBTaskResult.objects.filter(args_kwargs__args=[message.pk]).count() == 1
        raise RuntimeError("the caller fails after asking for the message")
    # ...so it vanished with it.
    assert not DBTaskResult.objects.exists()
    assert not Message.objects.exists()

    committed = send_code("222222")
    deliver_message.enqueue(committed.pk)  # the same task enqueued twice (a retry, a duplicate)
    assert DBTaskResult.objects.count() == 2
    assert sms_server.requests == []  # nothing leaves before a worker runs

    run_worker()

    assert len(sms_server.requests) == 1
    assert "222222" in sms_server.requests[0]["json"]["text"]
    assert all("111111" not in request["json"]["text"] for request in sms_server.requests)
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    committed.refresh_from_db()
    assert committed.status == MessageStatus.SENT
    assert committed.attempts == 1
    assert bytes(committed.body_sealed) == b""

    run_worker()  # nothing left to do
    assert len(sms_server.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_a_failed_attempt_is_retried_later_with_the_same_idempotency_key(settings, sms_server):
    settings.TASKS = DATABASE_TASKS
    sms_server.status = 503
    message = send_code()

    run_worker()

    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 1)
    assert "HTTP 503" in message.last_error and "731902" not in message.last_error
    failed = DBTaskResult.objects.get(status="FAILED")
    assert "731902" not in failed.traceback
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.run_after > timezone.now() + timedelta(seconds=20)  # not before its delay

    sms_server.status = 202
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    run_worker()

    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 2)
    keys = {request["json"]["idempotency_key"] for request in sms_server.requests}
    assert keys == {str(message.idempotency_key)}
    assert len(sms_server.requests) == 2


@pytest.mark.django_db(transaction=True)
def test_stale_pending_messages_are_enqueued_again(settings, sms_server):
    settings.TASKS = DATABASE_TASKS
    message = send_code()
    DBTaskResult.objects.all().delete()  # the worker that held its task died
    out = io.StringIO()
    call_command("messages_requeue", "--older-than=3600", stdout=out)
    assert out.getvalue().strip() == "0 message(s) enqueued again"  # too recent to be stale

    Message.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(hours=2))
    call_command("messages_requeue", "--older-than=3600", stdout=out)
    assert "1 message(s) enqueued again" in out.getvalue()
    run_worker()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(sms_server.requests) == 1
