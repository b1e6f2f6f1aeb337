"""Writes on accounts, and the rule of when an account may be used."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from moncompte.accounts.models import Account, Contact
from moncompte.accounts.reauth import reauthenticate
from moncompte.accounts.sessions import sessions_end_all
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, ContactChannel
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.identity.models import Person
from moncompte.notifications.services import message_channel_for, message_send
from moncompte.verification.contacts import MASK, mask_destination


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

    The old contact is replaced only now, once the new one is validated (never before). The old
    value, if it was validated, is told where the account's messages go now (``contact_replaced``):
    an account taken over this way would otherwise go unnoticed by its holder. From now on the
    account is usable (``account_usable``).
    """
    kind = ContactChannel(kind)
    with transaction.atomic():
        now = timezone.now()
        contact, _ = Contact.objects.update_or_create(
            account=account, kind=kind, value=value, defaults={"verified_at": now}
        )
        replaced = list(Contact.objects.filter(account=account, kind=kind).exclude(pk=contact.pk))
        Contact.objects.filter(pk__in=[old.pk for old in replaced]).delete()
        _mark_usable(account, now)
        notified = 0
        for old in replaced:
            if old.verified_at is None:
                continue  # never proved: it may be anybody's address
            _notify(
                old,
                template="contact_replaced",
                context={"changed_at": now, "new_destination": _masked_for(old, contact.kind, contact.value)},
            )
            notified += 1
        detail = {"kind": str(kind), "replaced": len(replaced)}
        journal_record(
            action=JournalAction.CONTACT_VALIDATED, actor=actor, subject_person=account.person, detail=detail
        )
        if replaced:
            # The kind only: the journal keeps its details in clear and for long, never a contact.
            journal_record(
                action=JournalAction.CONTACT_REPLACED,
                actor=actor,
                subject_person=account.person,
                detail={"kind": str(kind), "notified": notified},
            )
    return contact


def verified_contacts(account: Account) -> list[Contact]:
    return list(account.contacts.filter(verified_at__isnull=False))


def notify_people(people, *, template: str, context: dict) -> int:
    """Queue the message to every validated contact of each of ``people`` who has an account
    (None entries skipped); how many messages were queued. The one way a notice reaches the
    people a change concerns (delegation, separation, procedures, the Caf's requests)."""
    told = 0
    accounts = Account.objects.filter(person__in=[p.pk for p in people if p is not None]).order_by("pk")
    for account in accounts:
        for contact in verified_contacts(account):
            message_send(
                channel=message_channel_for(contact.kind),
                recipient=contact.value,
                template=template,
                context=context,
                account=account,
            )
            told += 1
    return told


# The contacts page: reading, removing ------------------------------------------------------

# The help page's "contact us" section (web:help#nous-contacter), for the notices' readers. The
# domain builds no channel URL: the path is written here, and a test checks it against the web's.
HELP_CONTACT_PATH = "/aide/#nous-contacter"
# How a notice sent by SMS hides a contact: "•" is not in the GSM 7-bit alphabet of one SMS.
SMS_MASK = "*"


class LastContactRequired(DomainError):
    code = "last_contact"
    message = "Votre dernier moyen de contact validé ne peut pas être supprimé."


def _last_contact_message(contact: Contact) -> str:
    if contact.kind == ContactChannel.EMAIL:
        what = "cette adresse électronique"
        replace = (
            "Pour la remplacer, choisissez « Changer d'adresse électronique » et validez la nouvelle : "
            "l'ancienne est supprimée dès que la nouvelle est validée. Vous pouvez aussi ajouter d'abord "
            "un numéro de téléphone mobile, puis supprimer cette adresse."
        )
    else:
        what = "ce numéro de téléphone mobile"
        replace = (
            "Pour le remplacer, choisissez « Changer de numéro de mobile » et validez le nouveau : "
            "l'ancien est supprimé dès que le nouveau est validé. Vous pouvez aussi ajouter d'abord "
            "une adresse électronique, puis supprimer ce numéro."
        )
    return (
        f"Vous ne pouvez pas supprimer {what} : c'est le seul moyen de contact validé de votre compte. "
        "Sans lui, votre compte deviendrait inutilisable : vous ne pourriez plus recevoir de code, ni "
        "retrouver votre compte si vous oubliez votre mot de passe. Un compte garde toujours au moins un "
        f"moyen de contact validé. {replace}"
    )


def _help_link() -> str:
    return settings.MONCOMPTE_PUBLIC_URL.rstrip("/") + HELP_CONTACT_PATH


def _masked_for(recipient: Contact, kind: str, value: str) -> str:
    """``value`` masked for a notice to ``recipient`` (an SMS keeps to the GSM alphabet)."""
    return mask_destination(kind, value, SMS_MASK if recipient.kind == ContactChannel.PHONE else MASK)


def _notify(recipient: Contact, *, template: str, context: dict) -> None:
    message_send(
        channel=message_channel_for(recipient.kind),
        recipient=recipient.value,
        template=template,
        context={**context, "kind": str(recipient.kind), "help_link": _help_link()},
        account=recipient.account,
    )


def _own_account(actor: Actor) -> Account:
    """The account whose contacts the actor may change: their own (CHANGE_OWN_CONTACTS), never
    one they act for."""
    if actor.account is None or actor.on_behalf_of is not None:
        raise NotAllowed()
    return actor.account


def _is_last_validated(contact: Contact, contacts: list[Contact]) -> bool:
    return contact.verified_at is not None and not any(
        other.verified_at is not None for other in contacts if other.pk != contact.pk
    )


@dataclass(frozen=True)
class ContactRow:
    """One of the person's contacts as the contacts page shows it."""

    contact: Contact
    removable: bool
    refusal: str  # why it cannot be removed ("" when it can)


def contacts_of(*, actor: Actor) -> list[ContactRow]:
    """The actor's own contacts (email first), each with whether it may be removed."""
    contacts = list(_own_account(actor).contacts.order_by("kind", "created_at", "pk"))
    rows = []
    for contact in contacts:
        last = _is_last_validated(contact, contacts)
        refusal = _last_contact_message(contact) if last else ""
        rows.append(ContactRow(contact=contact, removable=not last, refusal=refusal))
    return rows


def own_contact(*, actor: Actor, contact_id: int) -> ContactRow:
    """One of the actor's own contacts; NotAllowed (answered 404) for any other id."""
    for row in contacts_of(actor=actor):
        if row.contact.pk == contact_id:
            return row
    raise NotAllowed()


def contact_remove(*, actor: Actor, contact_id: int, password: str) -> Contact:
    """Remove one of the actor's own contacts, the password typed again; the removed contact, if
    it was validated, is told (``contact_removed``).

    Raises NotAllowed (not one of the actor's contacts: the channels answer 404, as for an id
    that does not exist), LastContactRequired (the last validated one: the account would be
    unreachable), WrongPassword or Throttled (the one re-authentication, counted per account).
    """
    row = own_contact(actor=actor, contact_id=contact_id)
    if not row.removable:
        raise LastContactRequired(row.refusal)
    reauthenticate(actor=actor, password=password, purpose="contact_remove")
    with transaction.atomic():
        # The account row locked: two removals at once cannot leave it without a validated contact.
        account = Account.objects.select_for_update().get(pk=_own_account(actor).pk)
        contacts = list(account.contacts.select_for_update().order_by("pk"))
        contact = next((c for c in contacts if c.pk == contact_id), None)
        if contact is None:
            raise NotAllowed()  # removed meanwhile
        if _is_last_validated(contact, contacts):
            raise LastContactRequired(_last_contact_message(contact))
        now = timezone.now()
        contact.delete()
        notified = 0
        if contact.verified_at is not None:
            _notify(contact, template="contact_removed", context={"removed_at": now})
            notified = 1
        journal_record(
            action=JournalAction.CONTACT_REMOVED,
            actor=actor,
            subject_person=account.person,
            detail={"kind": str(contact.kind), "validated": contact.verified_at is not None, "notified": notified},
        )
    return contact


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
