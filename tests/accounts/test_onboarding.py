"""The first-connection screens, once per version (moncompte.accounts.onboarding)."""

import pytest

from moncompte.accounts.models import Account
from moncompte.accounts.onboarding import onboarding_due, onboarding_record_seen
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _seen(account: Account) -> int:
    return Account.objects.values_list("onboarding_version_seen", flat=True).get(pk=account.pk)


def test_a_new_account_has_seen_nothing_and_the_factories_have_seen_the_current_version(settings):
    assert Account._meta.get_field("onboarding_version_seen").default == 0
    assert settings.MONCOMPTE_ONBOARDING_VERSION == 1
    assert not onboarding_due(AccountFactory())
    assert onboarding_due(AccountFactory(onboarding_version_seen=0))


def test_the_current_version_is_recorded_once():
    account = AccountFactory(onboarding_version_seen=0)

    assert onboarding_record_seen(account=account) is True
    assert _seen(account) == 1 and account.onboarding_version_seen == 1
    assert not onboarding_due(account)
    assert onboarding_record_seen(account=account) is False
    assert onboarding_record_seen(account=Account.objects.get(pk=account.pk)) is False
    assert _seen(account) == 1


def test_of_two_sign_ins_at_once_only_one_shows_the_screens():
    """Two tabs read the account before either records: the UPDATE is conditional."""
    account = AccountFactory(onboarding_version_seen=0)
    first_tab, second_tab = Account.objects.get(pk=account.pk), Account.objects.get(pk=account.pk)

    assert onboarding_record_seen(account=first_tab) is True
    assert onboarding_record_seen(account=second_tab) is False
    assert _seen(account) == 1


def test_a_new_version_is_shown_once_more(settings):
    account = AccountFactory()
    assert onboarding_record_seen(account=account) is False

    settings.MONCOMPTE_ONBOARDING_VERSION = 2
    assert onboarding_due(account)
    assert onboarding_record_seen(account=account) is True
    assert _seen(account) == 2
    assert onboarding_record_seen(account=Account.objects.get(pk=account.pk)) is False


def test_the_seen_version_never_goes_back(settings):
    account = AccountFactory(onboarding_version_seen=3)
    settings.MONCOMPTE_ONBOARDING_VERSION = 2

    assert not onboarding_due(account)
    # Even from a stale copy that read an older version: the database's value is kept.
    stale = Account.objects.get(pk=account.pk)
    stale.onboarding_version_seen = 0
    assert onboarding_record_seen(account=stale) is False
    assert _seen(account) == 3


def test_version_0_shows_the_screens_to_nobody(settings):
    settings.MONCOMPTE_ONBOARDING_VERSION = 0
    account = AccountFactory(onboarding_version_seen=0)

    assert not onboarding_due(account)
    assert onboarding_record_seen(account=account) is False
    assert _seen(account) == 0
