"""The phone's hard caps (PhoneAttempt, 24 hours): per file (old code) or NIR (phone code), and
per calling line whatever the file. A refused try does not look at the code and counts for
nothing; an unknown numéro or NIR is counted, capped and answered exactly like a known one,
with the same statements and keyed hashes."""

import datetime
import hmac
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from moncompte.accounts.models import LegacyCodeAttempt
from moncompte.telephony.models import PhoneAttempt
from moncompte.telephony.services import (
    PhoneAuthenticationError,
    calling_line_key,
    phone_authenticate_code,
    phone_authenticate_legacy,
    phone_code_issue,
)
from tests.factories import AccountFactory, PersonFactory, make_household
from tests.telephony.helpers import LEGACY_CODE, UNKNOWN_NUMERO, other_code, phone_actor, web_actor

pytestmark = pytest.mark.django_db
START = datetime.datetime(2022, 2, 1, 9, 0, tzinfo=datetime.UTC)  # before the old code's end date
PER_FILE, PER_LINE = 5, 10


@pytest.fixture(autouse=True)
def _caps(settings):
    settings.MONCOMPTE_PHONE_MAX_FAILURES_PER_FILE = PER_FILE
    settings.MONCOMPTE_PHONE_MAX_FAILURES_PER_LINE = PER_LINE


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def family(clock):
    return make_household(accounts=False, legacy_code=LEGACY_CODE)


def _legacy(family, *, numero=None, code=LEGACY_CODE, line="+33612000001"):
    return phone_authenticate_legacy(
        actor=phone_actor(),
        caf_code=family.caf.code,
        numero=numero or family.dossier.numero,
        code=code,
        calling_line=line,
    )


def _legacy_refusal(family, **kwargs) -> PhoneAuthenticationError:
    with pytest.raises(PhoneAuthenticationError) as error:
        _legacy(family, **kwargs)
    return error.value


def _line(n: int) -> str:
    return f"+336120{n:05d}"


def test_over_the_file_cap_the_file_is_refused_until_the_oldest_failure_leaves(family, clock):
    for n in range(PER_FILE):
        assert _legacy_refusal(family, code="00000000", line=_line(n)).code == "wrong_credentials"
        clock.shift(datetime.timedelta(minutes=10))
    # From a new line, with the right code: refused without looking at it.
    refusal = _legacy_refusal(family, line=_line(99))
    assert refusal.code == "capped" and refusal.status == 429
    assert refusal.wait_seconds == 24 * 3600 - PER_FILE * 600
    assert "Réessayez dans 23 heures 10 minutes" in refusal.message
    assert PhoneAttempt.objects.filter(outcome="refused").count() == 1
    # The try refused was not a wrong code: the web's count of the file did not grow either.
    assert LegacyCodeAttempt.objects.filter(outcome="wrong").count() == PER_FILE
    # Hammering, even with wrong codes, changes nothing and counts nothing, on the phone or the
    # web; once the oldest failure is 24 hours old, the right code opens.
    for n in range(3):
        assert _legacy_refusal(family, code="00000000", line=_line(50 + n)).code == "capped"
    assert PhoneAttempt.objects.filter(outcome="wrong").count() == PER_FILE
    assert LegacyCodeAttempt.objects.filter(outcome="wrong").count() == PER_FILE
    clock.shift(datetime.timedelta(seconds=refusal.wait_seconds))
    assert _legacy(family, line=_line(99)).person == family.responsible.person


def test_over_the_line_cap_the_line_is_refused_for_every_file(family, clock):
    line = "06 12 00 00 01"  # national writing: the same line as +33612000001
    for n in range(PER_LINE):
        numero = f"{1000000 + n:07d}"  # other files, unknown ones: counted all the same
        assert _legacy_refusal(family, numero=numero, code="00000000", line=line).code == "wrong_credentials"
    refusal = _legacy_refusal(family, line="+33612000001")
    assert refusal.code == "capped" and "depuis cette ligne" in refusal.message
    assert refusal.wait_seconds == 24 * 3600
    # Another line is not concerned; the file had no failure.
    assert _legacy(family, line="+33612000002").person == family.responsible.person


def test_the_line_cap_counts_both_methods(family, clock):
    account = AccountFactory()
    for _ in range(PER_LINE):
        with pytest.raises(PhoneAuthenticationError):
            phone_authenticate_code(
                actor=phone_actor(),
                identifier=PersonFactory.build().raw_identifier,
                code="000000",
                calling_line="+33612000009",
            )
    _, code = phone_code_issue(actor=web_actor(account), by_sms=False)
    with pytest.raises(PhoneAuthenticationError) as error:
        phone_authenticate_code(
            actor=phone_actor(), identifier=account.person.raw_identifier, code=code, calling_line="+33612000009"
        )
    assert error.value.code == "capped"
    assert _legacy_refusal(family, line="+33612000009").code == "capped"


@pytest.mark.parametrize("hidden", ["masqué", "", "MASQUÉ", "  anonymous ", "hidden", "Anonymous"])
def test_every_hidden_line_is_one_line(hidden):
    assert calling_line_key(hidden) == calling_line_key("masqué") != calling_line_key("+33612345678")
    assert calling_line_key("0612345678") == calling_line_key("+33 6 12 34 56 78")


def test_an_unknown_numero_is_counted_and_capped_like_a_file(family, clock):
    answers = {}
    for label, numero in (("known", family.dossier.numero), ("unknown", UNKNOWN_NUMERO)):
        wrongs = [_legacy_refusal(family, numero=numero, code="00000000", line=_line(n)) for n in range(PER_FILE)]
        capped = _legacy_refusal(family, numero=numero, code=LEGACY_CODE, line=_line(90))
        answers[label] = [(e.code, e.message, e.status, e.wait_seconds) for e in [*wrongs, capped]]
    assert answers["known"] == answers["unknown"]
    assert answers["known"][-1][0] == "capped" and answers["known"][0][0] == "wrong_credentials"


def test_over_the_nir_cap_the_person_is_refused(clock):
    account = AccountFactory()
    _, code = phone_code_issue(actor=web_actor(account), by_sms=False)
    for n in range(PER_FILE):
        with pytest.raises(PhoneAuthenticationError):
            phone_authenticate_code(
                actor=phone_actor(),
                identifier=account.person.raw_identifier,
                code=other_code(code),
                calling_line=_line(n),
            )
    with pytest.raises(PhoneAuthenticationError) as error:
        phone_authenticate_code(
            actor=phone_actor(), identifier=account.person.raw_identifier, code=code, calling_line=_line(80)
        )
    assert error.value.code == "capped" and "numéro de sécurité sociale" in error.value.message
    # Refused without consuming the code: it still works once the window has passed, if still live.
    clock.shift(datetime.timedelta(days=1))
    _, code = phone_code_issue(actor=web_actor(account), by_sms=False)
    authentication = phone_authenticate_code(
        actor=phone_actor(), identifier=account.person.raw_identifier, code=code, calling_line=_line(80)
    )
    assert authentication.person == account.person


# The same work --------------------------------------------------------------------------------

_LITERAL = re.compile(r"'(?:[^']|'')*'|-?\b\d+(?:\.\d+)?\b|\bNULL\b|\bTrue\b|\bFalse\b")
_SAVEPOINT = re.compile(r'"s\d+_x\d+"')


def _shape(sql: str) -> str:
    """The statement without its parameters (inlined in the captured SQL) nor its savepoint's name."""
    return " ".join(_LITERAL.sub("?", _SAVEPOINT.sub('"savepoint"', sql)).split())


def _work(monkeypatch, call) -> tuple[list[str], int, tuple]:
    hashes = []
    original = hmac.new

    def counting_new(*args, **kwargs):
        hashes.append(1)
        return original(*args, **kwargs)

    with monkeypatch.context() as patch, CaptureQueriesContext(connection) as queries:
        patch.setattr(hmac, "new", counting_new)
        with pytest.raises(PhoneAuthenticationError) as error:
            call()
    answer = (error.value.code, error.value.message, error.value.status)
    return [_shape(q["sql"]) for q in queries.captured_queries], len(hashes), answer


def test_the_same_work_for_an_unknown_numero_and_a_wrong_code(family, monkeypatch):
    known = _work(monkeypatch, lambda: _legacy(family, code="00000000", line=_line(1)))
    unknown = _work(monkeypatch, lambda: _legacy(family, numero=UNKNOWN_NUMERO, line=_line(2)))
    assert known == unknown
    assert known[1] >= 4  # the line, the target, the code (real or dummy), the journal


def test_the_same_work_for_an_unknown_nir_a_wrong_code_and_no_live_code(monkeypatch):
    with_code, without_code = AccountFactory(), AccountFactory()
    _, code = phone_code_issue(actor=web_actor(with_code), by_sms=False)
    works = [
        _work(
            monkeypatch,
            lambda identifier=identifier, n=n: phone_authenticate_code(
                actor=phone_actor(), identifier=identifier, code=other_code(code), calling_line=_line(n)
            ),
        )
        for n, identifier in enumerate(
            [with_code.person.raw_identifier, without_code.person.raw_identifier, PersonFactory.build().raw_identifier]
        )
    ]
    assert works[0] == works[1] == works[2]
