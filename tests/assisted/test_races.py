"""Racing claims never give a person two accounts, nor a code two browsers (PostgreSQL only).

The method of tests/integration/test_first_connection_race.py: one call is held inside its
transaction at the critical point, right after it took its locks; the other must then wait on a
database lock, and once the first commits it must stop cleanly. SQLite serializes writers
whatever the code does, so these run on PostgreSQL (skipped on a laptop, failed in CI without it).
"""

from collections.abc import Callable

import pytest

from moncompte.accounts import assisted as assisted_module
from moncompte.accounts.assisted import (
    AssistedError,
    assisted_first_connection_claim,
    assisted_first_connection_complete,
    assisted_first_connection_start,
)
from moncompte.accounts.first_connection import FirstConnectionError, first_connection_complete
from moncompte.accounts.models import Account, AssistedFirstConnection, LegacyCredential
from tests.assisted.conftest import PASSWORD, open_service, visitor
from tests.factories import AgentFactory, make_household
from tests.integration.test_first_connection_race import HOLD_SECONDS, Hold, InThread, wait_until_blocked
from tests.support.services import requires_postgresql

pytestmark = [
    requires_postgresql("the race tests hold row locks; SQLite serializes writers whatever the code does"),
    pytest.mark.django_db(transaction=True),
]


def _race(first_call: Callable, second_call: Callable, hold: Hold) -> tuple[InThread, InThread]:
    first = InThread(first_call, name="first")
    second = None
    try:
        assert hold.reached.wait(HOLD_SECONDS), first.error
        second = InThread(second_call, name="second")
        wait_until_blocked(second)
    finally:
        hold.release.set()
        first.join()
        if second is not None:
            second.join()
    return first, second


def _started(household, person):
    agent = AgentFactory(caf=household.caf)
    service, actor = open_service(agent, household.dossier, person)
    return assisted_first_connection_start(actor=actor, service_id=service.pk)


def test_two_browsers_typing_one_code_claim_it_once(monkeypatch):
    household = make_household(accounts=False)
    assisted, code = _started(household, household.responsible.person)
    # Held once the flow's row is locked and read, before the code is compared.
    hold = Hold(assisted_module._matching, holder="first")
    monkeypatch.setattr(assisted_module, "_matching", hold)

    first, second = _race(
        lambda: assisted_first_connection_claim(actor=visitor("192.0.2.1"), handoff_code=code),
        lambda: assisted_first_connection_claim(actor=visitor("192.0.2.2"), handoff_code=code),
        hold,
    )

    assert first.error is None and first.result.pk == assisted.pk
    assert isinstance(second.error, AssistedError) and second.error.code == "used"


def test_the_assisted_one_and_the_web_first_connection_of_one_person_make_one_account(monkeypatch):
    household = make_household(accounts=False, legacy_code="40506070")
    person = household.responsible.person
    _, code = _started(household, person)
    claimed = assisted_first_connection_claim(actor=visitor(), handoff_code=code)
    # Held on its way into account_create: under the flow's, the credential's and the person's locks.
    hold = Hold(assisted_module.account_create, holder="first")
    monkeypatch.setattr(assisted_module, "account_create", hold)

    first, second = _race(
        lambda: assisted_first_connection_complete(actor=visitor(), assisted_id=claimed.pk, password=PASSWORD),
        lambda: first_connection_complete(
            actor=visitor("198.51.100.3"),
            dossier_id=household.dossier.pk,
            person_id=person.pk,
            password="Une autre phrase 2024 ok",
        ),
        hold,
    )

    assert first.error is None and isinstance(first.result, Account)
    assert isinstance(second.error, FirstConnectionError) and second.error.code == "already_migrated"
    assert list(Account.objects.filter(person=person)) == [first.result]
    assert first.result.check_password(PASSWORD)
    assert LegacyCredential.objects.get(dossier=household.dossier).retired_on_web_at is not None


def test_two_assisted_ones_of_one_person_make_one_account(monkeypatch):
    # No old code on this file: the person's row alone serializes them.
    household = make_household(accounts=False)
    person = household.child.person
    one, code = _started(household, person)
    claimed = assisted_first_connection_claim(actor=visitor(), handoff_code=code)
    # A second live flow of the same person, as two agents starting at the same moment leave.
    other = AssistedFirstConnection.objects.create(
        service=one.service,
        person=person,
        dossier=household.dossier,
        agent=one.agent,
        handoff_lookup="x" * 32,
        handoff_digest="y" * 64,
        expires_at=one.expires_at,
        claimed_at=claimed.claimed_at,
    )
    hold = Hold(assisted_module.account_create, holder="first")
    monkeypatch.setattr(assisted_module, "account_create", hold)

    first, second = _race(
        lambda: assisted_first_connection_complete(actor=visitor(), assisted_id=claimed.pk, password=PASSWORD),
        lambda: assisted_first_connection_complete(
            actor=visitor("198.51.100.4"), assisted_id=other.pk, password="Une autre phrase 2024 ok"
        ),
        hold,
    )

    assert first.error is None and isinstance(first.result, Account)
    assert isinstance(second.error, AssistedError) and second.error.code == "has_account"
    assert list(Account.objects.filter(person=person)) == [first.result]
