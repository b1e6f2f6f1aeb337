"""Writes on accounts."""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from moncompte.accounts.models import Account, Contact
from moncompte.audit.services import journal_record
from moncompte.identity.models import Person


class AccountNotAllowed(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def account_allowed(person: Person, today: datetime.date | None = None) -> bool:
    """Only people over 15 hold an account (MONCOMPTE_ACCOUNT_MIN_AGE, 16 by default)."""
    return age_on(person.birth_date, today or datetime.date.today()) >= settings.MONCOMPTE_ACCOUNT_MIN_AGE


def account_create(*, person: Person, password: str) -> Account:
    """Open the account of a person (one at most: Account.person is unique)."""
    if not account_allowed(person):
        raise AccountNotAllowed(
            f"Un compte personnel peut être créé à partir de {settings.MONCOMPTE_ACCOUNT_MIN_AGE} ans."
        )
    with transaction.atomic():
        account = Account(person=person, password_changed_at=timezone.now())
        account.set_password(password)
        account.save()
        journal_record(action="account.create", actor_person=person, subject_person=person)
    return account


def contact_add_verified(*, account: Account, kind: str, value: str) -> Contact:
    """Record a contact already verified elsewhere (legacy import, demo data)."""
    return Contact.objects.create(account=account, kind=kind, value=value, verified_at=timezone.now())


def contact_validated(*, account: Account, kind: str, value: str) -> Contact:
    """Record a contact the person just proved they hold; it replaces their earlier one of that kind.

    The old contact is replaced only now, once the new one is validated (never before).
    """
    with transaction.atomic():
        now = timezone.now()
        contact, _ = Contact.objects.update_or_create(
            account=account, kind=kind, value=value, defaults={"verified_at": now}
        )
        replaced = Contact.objects.filter(account=account, kind=kind).exclude(pk=contact.pk)
        replaced_count = replaced.count()
        replaced.delete()
        journal_record(
            action="contact.validated",
            actor_person=account.person,
            subject_person=account.person,
            detail={"kind": kind, "replaced": replaced_count},
        )
    return contact


def verified_contacts(account: Account) -> list[Contact]:
    return list(account.contacts.filter(verified_at__isnull=False))
