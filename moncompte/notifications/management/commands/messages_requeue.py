"""Enqueue again the messages still pending after a while (a worker that died mid-task).

Safe to run at any time, for example every 10 minutes from cron: the task sends a message at
most once, so a message enqueued twice is still sent once.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from moncompte.notifications.models import Message, MessageStatus
from moncompte.notifications.tasks import deliver_message


class Command(BaseCommand):
    help = "Enqueue again the messages still pending after --older-than seconds."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, default=3600, help="seconds since the last attempt (3600)")

    def handle(self, *, older_than: int, **options):
        now = timezone.now()
        limit = now - timedelta(seconds=older_than)
        stale = (
            Message.objects.filter(status=MessageStatus.PENDING)
            .filter(Q(last_attempt_at__lt=limit) | Q(last_attempt_at__isnull=True, created_at__lt=limit))
            .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        )
        count = 0
        for message_id in stale.values_list("pk", flat=True).iterator():
            with transaction.atomic():
                deliver_message.enqueue(message_id)
            count += 1
        self.stdout.write(f"{count} message(s) enqueued again")
