import re

import pytest

from moncompte.notifications.models import OutboxEntry


@pytest.fixture(autouse=True)
def _outbox(settings):
    # Codes land in the development outbox, where the tests read them as a person reads an SMS.
    settings.EMAIL_BACKEND = "moncompte.notifications.email.OutboxEmailBackend"
    settings.MONCOMPTE_SMS_BACKEND = "moncompte.notifications.sms.OutboxSmsGateway"


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """Runs the sending tasks enqueued inside the block, as the commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def last_code(recipient: str) -> str:
    entry = OutboxEntry.objects.filter(recipient=recipient).order_by("-id").first()
    assert entry is not None, f"no message to {recipient}"
    return re.search(r"\b(\d{6})\b", entry.get_body()).group(1)
