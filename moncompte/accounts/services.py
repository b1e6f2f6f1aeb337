"""Writes on accounts, and the rule of when an account may be used."""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from moncompte.accounts.models import Account, Contact
from moncompte.accounts.sessions import sessions_end_all
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, ContactChannel
from moncompte.core.errors import DomainError
from moncompte.identity.models import Person


class AccountNotAllowed(DomainError):
    code = "account_not_allowed"
    message = "Un compte personnel ne peut pas être créé."


def age_on(birth_date: datetime.date, day: datetime.date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def account_allowed(person: Person, today: datetime.date | None = None) -> bool:
    """Only people over 15 hold an account (MONCOMPTE_ACCOUNT_MIN_AGE, 16 by default)."""
    return age_on(person.birth_date, today or datetime.date.today()) >= settings.MONCOMPTE_ACCOUNT_MIN_AGE


def account_usable(account: Account | None) -> bool:
    """An account may be used (beyond validating a contact) once active and one of its contacts
    is validated (PRODUCT.md section 1). Every channel asks this, from the loaded account: no query."""
    return account is not None and account.is_active and account.contact_validated_at is not None


def account_create(*, actor: Actor, person: Person, password: str) -> Account:
    """Open the account of a person (one at most: Account.person is unique)."""
    if not account_allowed(person):
        raise AccountNotAllowed(
            f"Un compte personnel peut être créé à partir de {settings.MONCOMPTE_ACCOUNT_MIN_AGE} ans."
        )
    with transaction.atomic():
        account = Account(person=person, password_changed_at=timezone.now())
        account.set_password(password)
        account.save()
        journal_record(action=JournalAction.ACCOUNT_CREATE, actor=actor, subject_person=person)
    return account


def _mark_usable(account: Account, now) -> None:
    if account.contact_validated_at is None:
        # Conditional: the first validation's time stays, whoever writes concurrently.
        Account.objects.filter(pk=account.pk, contact_validated_at__isnull=True).update(contact_validated_at=now)
        account.contact_validated_at = now


def contact_add_verified(*, account: Account, kind: ContactChannel, value: str) -> Contact:
    """Record a contact already verified elsewhere (legacy import, demo data)."""
    with transaction.atomic():
        now = timezone.now()
        contact = Contact.objects.create(account=account, kind=kind, value=value, verified_at=now)
        _mark_usable(account, now)
    return contact


def contact_validated(*, actor: Actor, account: Account, kind: ContactChannel, value: str) -> Contact:
    """Record a contact the person just proved they hold; it replaces their earlier one of that kind.

    The old contact is replaced only now, once the new one is validated (never before). From now
    on the account is usable (``account_usable``).
    """
    with transaction.atomic():
        now = timezone.now()
        contact, _ = Contact.objects.update_or_create(
            account=account, kind=kind, value=value, defaults={"verified_at": now}
        )
        replaced = Contact.objects.filter(account=account, kind=kind).exclude(pk=contact.pk)
        replaced_count = replaced.count()
        replaced.delete()
        _mark_usable(account, now)
        detail = {"kind": str(kind), "replaced": replaced_count}
        journal_record(
            action=JournalAction.CONTACT_VALIDATED, actor=actor, subject_person=account.person, detail=detail
        )
    return contact


def verified_contacts(account: Account) -> list[Contact]:
    return list(account.contacts.filter(verified_at__isnull=False))


def account_deactivate(*, actor: Actor, account: Account) -> int:
    """Deactivate an account: it can no longer sign in, and every one of its sessions ends now
    (the backend refuses any session of an inactive account as well). Returns sessions ended."""
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        locked.is_active = False
        locked.save(update_fields=["is_active"])
        account.is_active = False
        ended = sessions_end_all(actor=actor, account=locked, reason="account_deactivated", journal=False)
        journal_record(
            action=JournalAction.ACCOUNT_DEACTIVATED,
            actor=actor,
            subject_person=locked.person,
            detail={"sessions_ended": ended},
        )
    return ended
