"""Two removals at once cannot leave an account without a validated contact.

Deterministic, on PostgreSQL: one transaction removes the phone and is held, the account row
locked, before it commits; meanwhile the person removes the email from another tab. The email's
removal passed its first check (two validated contacts were visible) and the password; it must
then wait on the account's lock and, once the phone's removal committed, refuse: the email is
the last validated contact. Without the check under the lock (``contact_remove``), both
removals succeed and the account is unreachable.
"""

import threading

from django.db import transaction

from moncompte.accounts.models import Account, Contact
from moncompte.accounts.services import LastContactRequired, contact_remove
from moncompte.core.actors import Actor, Channel
from tests.factories import AccountFactory, ContactFactory
from tests.integration.test_first_connection_race import (  # noqa: F401  (postgres: fixture)
    HOLD_SECONDS,
    InThread,
    postgres,
    wait_until_blocked,
)


def test_the_last_validated_contact_survives_two_removals_at_once(postgres):  # noqa: F811
    account = AccountFactory()
    email = account.contacts.get(kind="email")
    phone = ContactFactory(account=account, phone=True)
    actor = Actor(channel=Channel.WEB, account=account, session_key="onglet-2")
    locked, release = threading.Event(), threading.Event()

    def remove_the_phone_and_hold():
        with transaction.atomic():
            Account.objects.select_for_update().get(pk=account.pk)
            Contact.objects.filter(pk=phone.pk).delete()
            locked.set()
            release.wait(HOLD_SECONDS)

    first = InThread(remove_the_phone_and_hold, name="phone")
    second = None
    try:
        assert locked.wait(HOLD_SECONDS), first.error
        second = InThread(
            lambda: contact_remove(actor=actor, contact_id=email.pk, password=account.raw_password), name="email"
        )
        wait_until_blocked(second)
    finally:
        release.set()
        first.join()
        if second is not None:
            second.join()
    assert first.error is None, first.error
    assert isinstance(second.error, LastContactRequired), (second.error, second.result)
    assert list(Contact.objects.filter(account=account, verified_at__isnull=False)) == [email]
