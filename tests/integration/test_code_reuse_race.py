"""A one-time code is used once, even by two checks at the same moment.

Deterministic: one check is held inside its transaction right after it read the live challenge,
then a second check of the same code runs.

- With the challenge's row lock (``challenge_current(lock=True)`` in ``challenge_check``), the
  second check must wait on that lock, then find the code used. Removing the lock fails this
  test on every run: the second check no longer waits.
- The conditional update that consumes the code is the second layer (it is what protects SQLite,
  which has no row locks): with the lock taken away, the held check, resumed after the other
  one consumed the code, must find it used. Replacing the conditional update by a plain save
  fails this test on every run.

PostgreSQL only, through the suite's skip-or-fail helper.
"""

import pytest

from moncompte.verification import services
from moncompte.verification.models import ContactChallenge
from moncompte.verification.services import CheckOutcome, challenge_check, challenge_issue, new_flow_ref
from tests.integration.test_first_connection_race import (  # noqa: F401  (postgres: fixture)
    Hold,
    InThread,
    postgres,
    wait_until_blocked,
)
from tests.verification.conftest import last_code

PHONE = "+33612345678"
PURPOSE = "contact_validation"


@pytest.fixture
def code_sent(postgres, settings):  # noqa: F811
    """A live challenge of a new flow, and its code as the person reads it in the SMS."""
    settings.MONCOMPTE_SMS_BACKEND = "moncompte.notifications.sms.OutboxSmsGateway"
    flow = new_flow_ref()
    challenge_issue(purpose=PURPOSE, channel="phone", destination=PHONE, flow_ref=flow)  # autocommit: sent
    return flow, last_code(PHONE)


def _check(flow: str, code: str):
    return lambda: challenge_check(flow_ref=flow, purpose=PURPOSE, code=code).outcome


def _run_held(hold: Hold, flow: str, code: str, *, second_must_wait: bool) -> tuple[InThread, InThread]:
    first = InThread(_check(flow, code), name=hold.holder)
    second = None
    try:
        assert hold.reached.wait(30), first.error
        second = InThread(_check(flow, code), name="second")
        if second_must_wait:
            wait_until_blocked(second)
        else:
            second.join()
    finally:
        hold.release.set()
        first.join()
        if second is not None:
            second.join()
    assert first.error is None and second.error is None, (first.error, second.error)
    return first, second


def test_a_second_check_waits_for_the_held_one_then_finds_the_code_used(code_sent, monkeypatch):
    flow, code = code_sent
    # Held once the live challenge is read, under its lock, before the code is compared.
    hold = Hold(services.challenge_current, holder="first", after=True)
    monkeypatch.setattr(services, "challenge_current", hold)

    first, second = _run_held(hold, flow, code, second_must_wait=True)

    assert (first.result, second.result) == (CheckOutcome.OK, CheckOutcome.USED)
    assert ContactChallenge.objects.get().consumed_at is not None


def test_without_the_lock_the_conditional_update_still_consumes_once(code_sent, monkeypatch):
    flow, code = code_sent
    original = services.challenge_current

    def unlocked(**kwargs):
        return original(**{**kwargs, "lock": False})

    # Both checks read the challenge unconsumed: only the conditional update can tell them apart.
    hold = Hold(unlocked, holder="first", after=True)
    monkeypatch.setattr(services, "challenge_current", hold)

    first, second = _run_held(hold, flow, code, second_must_wait=False)

    assert (second.result, first.result) == (CheckOutcome.OK, CheckOutcome.USED)
