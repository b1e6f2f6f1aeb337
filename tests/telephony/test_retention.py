"""Retention of the phone's rows (``manage.py purge_expired``, moncompte.core.retention): phone
codes used, superseded or expired, the phone's tries, the phone authentications redeemed or
expired go after their period (frozen clocks); a live code, a reference still to redeem and the
tries the caps still count (24 hours, whatever the setting) stay."""

import datetime
import io

import pytest
import time_machine
from django.core.management import call_command

from moncompte.agents.sessions import agent_actor, agent_session_open
from moncompte.core import retention
from moncompte.core.actors import Channel
from moncompte.core.errors import Throttled
from moncompte.telephony.models import PhoneAttempt, PhoneAuthentication, PhoneCode
from moncompte.telephony.services import (
    PhoneAuthenticationError,
    phone_authenticate_code,
    phone_authenticate_legacy,
    phone_authentication_redeem,
    phone_code_issue,
)
from tests.factories import AccountFactory, AgentFactory, make_household
from tests.telephony.helpers import LEGACY_CODE, LINE, other_code, phone_actor, web_actor

pytestmark = pytest.mark.django_db
T0 = datetime.datetime(2022, 2, 1, 9, 0, tzinfo=datetime.UTC)  # before the old code's end date
MINUTE, HOUR, DAY = datetime.timedelta(minutes=1), datetime.timedelta(hours=1), datetime.timedelta(days=1)


def _purge(kind: str, *, dry_run: bool = False) -> int:
    """The kind's purge at the (frozen) clock, as the command runs it."""
    return retention.purge_expired(dry_run=dry_run)[kind]


def _by_code(account, code, line=LINE):
    return phone_authenticate_code(
        actor=phone_actor(), identifier=account.person.raw_identifier, code=code, calling_line=line
    )


def test_phone_codes_done_go_after_the_period_a_live_one_stays(settings):
    settings.MONCOMPTE_RETENTION_CODE_DAYS = 1
    account, other = AccountFactory(), AccountFactory()
    with time_machine.travel(T0, tick=False) as clock:
        _, used = phone_code_issue(actor=web_actor(account), by_sms=False)
        _by_code(account, used)
        phone_code_issue(actor=web_actor(account), by_sms=False)  # superseded by the next one
        clock.shift(10 * MINUTE)
        phone_code_issue(actor=web_actor(account), by_sms=False)  # left to expire (30 minutes)
        clock.shift(DAY - 20 * MINUTE)  # T0 + 1 day - 10 minutes
        # Within the period: used, superseded or expired, all three stay.
        assert _purge("phone_codes") == 0 and PhoneCode.objects.count() == 3
        clock.shift(21 * MINUTE)  # the first two were used and superseded more than a day ago
        assert _purge("phone_codes", dry_run=True) == 2 and PhoneCode.objects.count() == 3
        assert _purge("phone_codes") == 2
        assert PhoneCode.objects.filter(person=account.person).count() == 1
        clock.shift(HOUR)  # the third expired more than a day ago
        _, live = phone_code_issue(actor=web_actor(other), by_sms=False)
        assert _purge("phone_codes") == 1
        # The live code is never purged: it still identifies its person.
        assert list(PhoneCode.objects.values_list("person_id", flat=True)) == [other.person_id]
        assert _by_code(other, live).person == other.person


def test_the_phone_codes_of_the_last_hour_stay_they_count_for_the_hourly_limit(settings):
    settings.MONCOMPTE_RETENTION_CODE_DAYS = 0  # lower than allowed: the hour still holds
    settings.MONCOMPTE_PHONE_CODE_MAX_PER_HOUR = 2
    account = AccountFactory()
    with time_machine.travel(T0, tick=False) as clock:
        for _ in range(2):
            _, code = phone_code_issue(actor=web_actor(account), by_sms=False)
        _by_code(account, code)
        clock.shift(59 * MINUTE)
        assert _purge("phone_codes") == 0
        with pytest.raises(Throttled, match="trop de codes"):
            phone_code_issue(actor=web_actor(account), by_sms=False)
        clock.shift(2 * MINUTE)
        assert _purge("phone_codes") == 2


def test_the_phones_tries_stay_while_the_caps_count_them(settings):
    settings.MONCOMPTE_RETENTION_PHONE_ATTEMPT_DAYS = 0  # lower than allowed: the 24 hours still hold
    settings.MONCOMPTE_PHONE_MAX_FAILURES_PER_FILE = 3
    family = make_household(accounts=False, legacy_code=LEGACY_CODE)

    def legacy(code, line):
        return phone_authenticate_legacy(
            actor=phone_actor(), caf_code=family.caf.code, numero=family.dossier.numero, code=code, calling_line=line
        )

    with time_machine.travel(T0, tick=False) as clock:
        for n in range(3):
            with pytest.raises(PhoneAuthenticationError):
                legacy(other_code(LEGACY_CODE), f"+3361200000{n}")
        clock.shift(DAY - MINUTE)
        assert _purge("phone_attempts") == 0
        with pytest.raises(PhoneAuthenticationError) as error:
            legacy(LEGACY_CODE, "+33612000009")
        assert error.value.code == "capped"  # the purge left the cap whole
        clock.shift(2 * MINUTE)
        assert _purge("phone_attempts") == 3  # the refused try is younger
        assert list(PhoneAttempt.objects.values_list("outcome", flat=True)) == ["refused"]
        assert legacy(LEGACY_CODE, "+33612000009").person == family.responsible.person


def test_the_phones_tries_go_after_their_period(settings):
    settings.MONCOMPTE_RETENTION_PHONE_ATTEMPT_DAYS = 7
    account = AccountFactory()
    with time_machine.travel(T0, tick=False) as clock:
        with pytest.raises(PhoneAuthenticationError):
            _by_code(account, "000000")
        clock.shift(7 * DAY - MINUTE)
        assert _purge("phone_attempts") == 0
        clock.shift(2 * MINUTE)
        assert _purge("phone_attempts") == 1 and not PhoneAttempt.objects.exists()


def test_phone_authentications_redeemed_or_expired_go_one_to_redeem_stays(settings):
    settings.MONCOMPTE_RETENTION_PHONE_AUTHENTICATION_DAYS = 30
    settings.MONCOMPTE_PHONE_AUTHENTICATION_MINUTES = 30
    family = make_household(accounts=False, legacy_code=LEGACY_CODE)
    session, _ = agent_session_open(agent=AgentFactory(caf=family.caf), client_address="10.0.0.5")

    def authenticate():
        return phone_authenticate_legacy(
            actor=phone_actor(),
            caf_code=family.caf.code,
            numero=family.dossier.numero,
            code=LEGACY_CODE,
            calling_line=LINE,
        )

    with time_machine.travel(T0, tick=False) as clock:
        redeemed, expired = authenticate(), authenticate()
        actor = agent_actor(session, channel=Channel.PHONE, client_address="10.0.0.5")
        phone_authentication_redeem(actor=actor, reference=redeemed.reference)
        clock.shift(30 * DAY)
        assert _purge("phone_authentications") == 0  # redeemed or expired 30 days ago, not more
        clock.shift(2 * MINUTE)
        assert _purge("phone_authentications") == 1  # the redeemed one; the other expired at T0 + 30 min
        assert list(PhoneAuthentication.objects.values_list("pk", flat=True)) == [expired.pk]
        to_redeem = authenticate()
        clock.shift(30 * MINUTE)
        assert _purge("phone_authentications") == 1
        # Still to redeem (it expires at this very instant): the agent can take it.
        assert list(PhoneAuthentication.objects.values_list("pk", flat=True)) == [to_redeem.pk]
        clock.shift(-MINUTE)
        assert phone_authentication_redeem(actor=actor, reference=to_redeem.reference).pk == to_redeem.pk


def test_the_command_names_the_phones_kinds():
    out = io.StringIO()
    call_command("purge_expired", "--dry-run", stdout=out)
    lines = out.getvalue().splitlines()
    for kind in ("phone_codes", "phone_attempts", "phone_authentications"):
        assert f"{kind}: would delete 0" in lines
