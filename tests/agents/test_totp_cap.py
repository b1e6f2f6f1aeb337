"""The TOTP waits after wrong codes are bounded: a password holder cannot lock an agent's second
factor for days (moncompte.agents.models.AgentTOTPDevice.MAX_COUNTED_FAILURES)."""

import datetime

from django.utils import timezone

from moncompte.agents.models import AgentTOTPDevice
from tests.factories import AgentFactory


def test_the_wait_after_many_wrong_codes_stays_bounded(db):
    device = AgentTOTPDevice.objects.get(agent=AgentFactory())
    for _ in range(40):
        device.throttle_increment()
    device.refresh_from_db()
    assert device.throttling_failure_count == AgentTOTPDevice.MAX_COUNTED_FAILURES
    allowed, detail = device.verify_is_allowed()
    assert not allowed
    assert detail["locked_until"] - timezone.now() <= datetime.timedelta(seconds=2048)
