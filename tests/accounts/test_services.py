import datetime

import pytest

from moncompte.accounts.models import Account
from moncompte.accounts.services import AccountNotAllowed, account_allowed, account_create, age_on
from moncompte.core.actors import Actor
from tests.conftest import person_of
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_a_child_of_13_cannot_hold_an_account():
    tom = PersonFactory(age=13)
    with pytest.raises(AccountNotAllowed) as error:
        account_create(actor=Actor.system(), person=tom, password="Garcon2013bleu")
    assert "16 ans" in error.value.message
    assert not Account.objects.filter(person=tom).exists()


def test_the_age_rule_follows_the_birthday(settings):
    tom = PersonFactory(birth_date=datetime.date(2013, 7, 8))
    assert not account_allowed(tom, datetime.date(2029, 7, 7))
    assert account_allowed(tom, datetime.date(2029, 7, 8))
    settings.MONCOMPTE_ACCOUNT_MIN_AGE = 13
    assert account_allowed(tom, datetime.date(2026, 7, 8))


def test_age_on_leap_day():
    assert age_on(datetime.date(2008, 2, 29), datetime.date(2024, 2, 28)) == 15
    assert age_on(datetime.date(2008, 2, 29), datetime.date(2024, 2, 29)) == 16


def test_an_account_is_usable_once_active_with_a_validated_contact():
    from moncompte.accounts.services import account_usable, contact_validated
    from moncompte.core.actors import ContactChannel
    from moncompte.core.errors import DomainError

    assert issubclass(AccountNotAllowed, DomainError)
    julien = PersonFactory()
    account = account_create(actor=Actor.system(), person=julien, password="Charonne et 30 tilleuls")
    assert not account_usable(account) and not account_usable(None)
    contact_validated(actor=Actor.system(), account=account, kind=ContactChannel.EMAIL, value="julien@example.fr")
    assert account_usable(account)
    assert account_usable(Account.objects.get(pk=account.pk))  # stored, not only on this object
    first = Account.objects.get(pk=account.pk).contact_validated_at
    contact_validated(actor=Actor.system(), account=account, kind=ContactChannel.PHONE, value="+33611223355")
    assert Account.objects.get(pk=account.pk).contact_validated_at == first
    Account.objects.filter(pk=account.pk).update(is_active=False)
    assert not account_usable(Account.objects.get(pk=account.pk))


def test_demo_accounts_with_contacts_are_usable(demo):
    """About the demo itself (make run): its accounts open without a contact step."""
    from moncompte.accounts.services import account_usable

    claire = Account.objects.get(person=person_of("2 85 05 75 115 042 95"))
    assert account_usable(claire)
