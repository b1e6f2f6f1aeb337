"""What the phone may tell about an identified person: never the data, only what may be said."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from moncompte.access.policy import disclosure_for, is_current_standing, standing_of
from moncompte.core.actors import Actor, ContactChannel
from moncompte.telephony import statements
from moncompte.verification.contacts import mask_phone


@dataclass(frozen=True)
class FileDisclosure:
    """One file of the person identified, and what the policy lets them be told of it
    (moncompte.access.policy.disclosure_for): never a member, an address or an amount."""

    caf_code: str
    caf_name: str
    numero: str
    standing_label: str
    file_information: bool
    own_information: bool
    hidden_reason: str


def phone_disclosure(person) -> list[FileDisclosure]:
    """Each file the person belongs or belonged to (current ones first), with the standing
    label and the disclosure. A person on no file gets an empty list. Where a person has two
    rows on one file (left, then came back), the current one speaks."""
    chosen: dict[int, tuple] = {}
    # The rows in one plain statement (the telephony API answers with this on every call); the
    # standing of each is the policy's.
    with connection.cursor() as cursor:
        members = statements.memberships(cursor, person.pk)
    for member in members:
        standing = standing_of(member)
        kept = chosen.get(member.dossier_id)
        if kept is None or is_current_standing(standing) or not is_current_standing(kept[1]):
            chosen[member.dossier_id] = (member, standing)
    rows = sorted(chosen.values(), key=lambda row: (not is_current_standing(row[1]), row[0].dossier_id))
    disclosures = []
    for member, standing in rows:
        disclosure = disclosure_for(standing)
        dossier = member.dossier
        disclosures.append(
            FileDisclosure(
                caf_code=dossier.caf.code,
                caf_name=dossier.caf.name,
                numero=dossier.numero,
                standing_label=disclosure.label,
                file_information=disclosure.file_information,
                own_information=disclosure.own_information,
                hidden_reason=disclosure.hidden_reason,
            )
        )
    return disclosures


def verified_mobile(account):
    """The account's validated mobile phone contact, the only one a phone code goes to by SMS."""
    return (
        account.contacts.filter(kind=ContactChannel.PHONE, verified_at__isnull=False)
        .order_by("-verified_at", "-pk")
        .first()
    )


def phone_code_sms_destination(*, actor: Actor) -> str | None:
    """Where a phone code asked by SMS would go, masked ("06 •• •• •• 44"), or None."""
    if actor.account is None:
        return None
    mobile = verified_mobile(actor.account)
    return mask_phone(mobile.value) if mobile is not None else None
