"""Writes on persons."""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor
from moncompte.core.errors import DomainError
from moncompte.identity.identifiers import Identifier, IdentifierKind
from moncompte.identity.models import FormerIdentifier, IdentifierType, Person
from moncompte.identity.normalise import display_name, family_name
from moncompte.identity.protection import encrypt_identifier, identifier_digest


def person_create(
    *,
    identifier: Identifier,
    first_names: str,
    birth_name: str,
    birth_date: datetime.date,
    sex: str,
    usage_name: str = "",
    birth_place_code: str = "",
    birth_country_code: str = "99100",
    identifier_type: str | None = None,
) -> Person:
    """Record a person under their primary identifier, stored as a keyed hash and a ciphertext.

    Names are stored in the one written form of moncompte.identity.normalise."""
    if identifier_type is None:
        identifier_type = {
            IdentifierKind.NIR: IdentifierType.NIR,
            IdentifierKind.NNP: IdentifierType.NNP,
            IdentifierKind.PROVISIONAL: IdentifierType.PROVISIONAL,
        }[identifier.kind]
    with transaction.atomic():
        return Person.objects.create(
            identifier_type=identifier_type,
            identifier_digest=identifier_digest(identifier.value),
            identifier_encrypted=encrypt_identifier(identifier.value),
            first_names=display_name(first_names),
            birth_name=family_name(birth_name),
            usage_name=family_name(usage_name),
            birth_date=birth_date,
            sex=sex,
            birth_place_code=birth_place_code,
            birth_country_code=birth_country_code,
        )


class RekeyError(DomainError):
    code = "identifier_taken"
    field = "identifier"

    def __init__(self, message: str | None = None, *, code: str | None = None):
        super().__init__(message, code=code, field="identifier")


def person_rekey(
    *,
    actor: Actor,
    person: Person,
    new_identifier: Identifier,
    identifier_type: str = IdentifierType.NIR,
) -> Person:
    """Give a person their definitive identifier, keeping everything else (account, contacts,
    files, journal: all point at the person, not at the identifier). The old identifier is kept
    for MONCOMPTE_FORMER_IDENTIFIER_DAYS only to tell its holder the new one.

    ``actor``: the agent or the batch that re-keys."""
    digest = identifier_digest(new_identifier.value)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        if person.identifier_digest == digest:
            return person
        if (
            Person.objects.filter(identifier_digest=digest).exists()
            or FormerIdentifier.objects.filter(identifier_digest=digest).exists()
        ):
            raise RekeyError("Ce numéro est déjà attribué à une autre personne : vérifiez-le avant de le rattacher.")
        now = timezone.now()
        FormerIdentifier.objects.create(
            person=person,
            identifier_type=person.identifier_type,
            identifier_digest=person.identifier_digest,
            identifier_encrypted=person.identifier_encrypted,
            replaced_at=now,
            valid_until=now + timezone.timedelta(days=settings.MONCOMPTE_FORMER_IDENTIFIER_DAYS),
        )
        person.identifier_type = identifier_type
        person.identifier_digest = digest
        person.identifier_encrypted = encrypt_identifier(new_identifier.value)
        person.save(update_fields=["identifier_type", "identifier_digest", "identifier_encrypted"])
        journal_record(
            action=JournalAction.IDENTITY_REKEY, actor=actor, subject_person=person, detail={"to": identifier_type}
        )
    return person


def identifier_holder(identifier: Identifier) -> tuple[Person | None, bool]:
    """The person holding ``identifier`` (or who held it, during the transition period after a
    provisional identifier was replaced), and whether it is a former identifier.

    Both look-ups run every time, so the work does not tell which one found something (the
    password reset and the sign-in unlock answer the same for every identifier).
    """
    person = Person.objects.with_identifier(identifier.value).select_related("account").first()
    former = (
        FormerIdentifier.objects.with_identifier(identifier.value)
        .filter(valid_until__gt=timezone.now())
        .select_related("person__account")
        .first()
    )
    if person is not None:
        return person, False
    return (former.person, True) if former else (None, False)


def person_retire_into(*, actor: Actor, retired: Person, holder: Person) -> Person:
    """A person recorded by a sign-up under a provisional identifier turns out, at the identity
    check, to be ``holder`` (a person the Caf knew, of a file): ``retired`` is folded into them.

    The retired person's identifier becomes a former identifier of the holder (whoever types it
    is told the identifier to use, for MONCOMPTE_FORMER_IDENTIFIER_DAYS); their identity checks,
    former identifiers and rectification requests move to the holder; the retired row is deleted
    (the journal keeps its entries under its id, and this one names both). The caller moves the
    account first (Account.person protects the row) and holds the transaction.
    """
    with transaction.atomic():
        retired = Person.objects.select_for_update().get(pk=retired.pk)
        now = timezone.now()
        FormerIdentifier.objects.filter(person=retired).update(person=holder)
        FormerIdentifier.objects.create(
            person=holder,
            identifier_type=retired.identifier_type,
            identifier_digest=retired.identifier_digest,
            identifier_encrypted=retired.identifier_encrypted,
            replaced_at=now,
            valid_until=now + timezone.timedelta(days=settings.MONCOMPTE_FORMER_IDENTIFIER_DAYS),
        )
        retired.identity_checks.update(person=holder)
        retired.rectification_requests.update(person=holder)
        retired_id = retired.pk
        retired.delete()
        journal_record(
            action=JournalAction.IDENTITY_REKEY,
            actor=actor,
            subject_person=holder,
            detail={"retired_person": retired_id, "to": holder.identifier_type},
        )
    return holder
