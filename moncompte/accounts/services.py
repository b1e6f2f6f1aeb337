"""Writes on accounts."""

from django.db import transaction
from django.utils import timezone

from moncompte.accounts.models import Account, Contact
from moncompte.audit.services import journal_record
from moncompte.identity.models import Person


def account_create(*, person: Person, password: str) -> Account:
    """Open the account of a person (one at most: Account.person is unique)."""
    with transaction.atomic():
        account = Account(person=person, password_changed_at=timezone.now())
        account.set_password(password)
        account.save()
        journal_record(action="account.create", actor_person=person, subject_person=person)
    return account


def contact_add_verified(*, account: Account, kind: str, value: str) -> Contact:
    """Record a contact already verified elsewhere (legacy import, demo data)."""
    return Contact.objects.create(account=account, kind=kind, value=value, verified_at=timezone.now())
