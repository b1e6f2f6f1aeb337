"""moncompte.accounts.reauth: the one re-authentication, throttled per account and journaled."""

import pytest
from django.conf import settings

from moncompte.accounts import throttling
from moncompte.accounts.models import Account
from moncompte.accounts.reauth import WrongPassword, reauthenticate
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import DomainError, Throttled
from moncompte.identity.protection import identifier_digest
from tests.conftest import person_of
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def holder(db) -> tuple[str, str]:
    """An account's identifier (as typed) and password."""
    account = AccountFactory()
    return account.person.raw_identifier, account.raw_password


@pytest.fixture
def other(db) -> tuple[str, str]:
    """Another account, with another password."""
    account = AccountFactory(password="Autre compte 2024 ici")
    return account.person.raw_identifier, account.raw_password


def _actor(raw: str, address: str = "198.51.100.7", session_key: str = "k" * 32) -> Actor:
    account = Account.objects.select_related("person").get(person=person_of(raw))
    return Actor(channel=Channel.WEB, account=account, client_address=address, session_key=session_key)


def _fail(actor: Actor):
    with pytest.raises((WrongPassword, Throttled)) as caught:
        reauthenticate(actor=actor, password="pas le bon mot de passe")
    return caught.value


def test_the_right_password_passes_and_records_nothing(holder, other):
    actor = _actor(*holder[:1])
    before = JournalEntry.objects.count()
    assert reauthenticate(actor=actor, password=holder[1]) is None
    assert JournalEntry.objects.count() == before


def test_a_wrong_password_is_a_domain_error_on_the_password_field_and_journaled(holder, other):
    actor = _actor(holder[0])
    error = _fail(actor)
    assert isinstance(error, WrongPassword) and isinstance(error, DomainError)
    assert (error.code, error.field, error.message) == ("wrong_password", "password", "Mot de passe incorrect.")
    entry = JournalEntry.objects.order_by("-id").first()
    assert entry.action == "reauth.failure"
    assert entry.actor_person == actor.person and entry.subject_person == actor.person
    assert entry.client_address == "198.51.100.7" and entry.session_ref


def test_throttled_per_account_whatever_the_address_and_the_right_password_waits_too(holder, other):
    free = settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER
    # Every try from another address (and session): the account's counter still adds up.
    for n in range(free + 1):
        assert isinstance(_fail(_actor(holder[0], address=f"203.0.113.{n + 1}", session_key=f"s{n}")), WrongPassword)
    error = _fail(_actor(holder[0], address="192.0.2.200"))
    assert isinstance(error, Throttled) and error.field == "password" and error.wait_seconds >= 1
    assert error.message.startswith("Trop de tentatives. Réessayez dans ")
    # Throttled: the password is not even checked, the right one is refused as well.
    with pytest.raises(Throttled):
        reauthenticate(actor=_actor(holder[0]), password=holder[1])
    throttled = JournalEntry.objects.filter(action="reauth.throttled")
    assert throttled.count() == 2 and throttled.first().detail["wait_seconds"] >= 1
    assert JournalEntry.objects.filter(action="reauth.failure").count() == free + 1
    # Another account is not concerned.
    assert reauthenticate(actor=_actor(other[0]), password=other[1]) is None


def test_a_success_clears_its_own_counter_only(holder, other):
    actor = _actor(holder[0])
    digest = identifier_digest(actor.person.identifier.value)
    for _ in range(3):
        throttling.signin_failed(identifier_digest=digest, address="198.51.100.7")
    _fail(actor)
    _fail(_actor(other[0]))
    reauthenticate(actor=actor, password=holder[1])
    # The sign-in counters (identifier and address) and other accounts' counters stay.
    signin_scopes = throttling._scopes(identifier_digest=digest, address="198.51.100.7", device_token=None)
    _, values = throttling._scopes_state(signin_scopes)
    assert values[signin_scopes[0].key + ":n"] == 3 and values[signin_scopes[1].key + ":n"] == 3
    assert throttling._scopes_state([throttling.reauth_scope(_actor(other[0]).account.pk)])[1]
    assert not throttling._scopes_state([throttling.reauth_scope(actor.account.pk)])[1]


def test_a_visitor_cannot_reauthenticate(db):
    with pytest.raises(ValueError):
        reauthenticate(actor=Actor.visitor(channel=Channel.WEB), password="x")
