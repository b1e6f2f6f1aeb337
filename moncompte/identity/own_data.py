"""A person's own data: what they see of it, their rectification requests, and the export of
everything the service holds about them (right of access, GDPR article 15).

Only what concerns the person: their identity, their contacts, their own membership rows (never
the other members of a file, nor the file's address or payments, which SEE_DOSSIER governs),
their account and sessions, their requests and the journal entries about them. Every display
and every export is itself journaled.
"""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from moncompte.access.policy import Standing, is_current_standing, is_spouse, standing_label, standing_of
from moncompte.audit.actions import JournalAction, label_of
from moncompte.audit.models import JournalEntry
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.households.models import Member
from moncompte.identity.geography import commune_name, country_name
from moncompte.identity.models import (
    IdentityCheck,
    Person,
    RectificationField,
    RectificationRequest,
)
from moncompte.logging import _NIR_LIKE

# The export lists at most this many journal entries and sessions (the most recent ones).
EXPORT_LIMIT = 1000


def _own_person(actor: Actor) -> Person:
    """The person whose own data this is (SEE_OWN_DATA: everyone, on their own part only)."""
    if actor.subject is None:
        raise NotAllowed()
    return actor.subject


def action_label(code: str) -> str:
    return label_of(code)


# Rectification requests --------------------------------------------------------------------


class RectificationError(DomainError):
    """A request that cannot be recorded; ``field`` names the input at fault (for forms)."""

    code = "invalid_rectification"


def rectification_message_problem(message: str) -> str | None:
    """Why a message cannot be recorded, in French, or None."""
    if not message.strip():
        return "Décrivez l'erreur que vous avez constatée."
    if len(message) > RectificationRequest.MESSAGE_MAX_LENGTH:
        return (
            f"Votre message doit faire au plus {RectificationRequest.MESSAGE_MAX_LENGTH} caractères "
            f"(il en fait {len(message)})."
        )
    # Identifiers are never stored in clear (docs/security.md): not in a free text either.
    if _NIR_LIKE.search(message):
        return (
            "N'écrivez pas de numéro de sécurité sociale dans votre message : indiquez seulement ce "
            "qui est inexact, un agent de la Caf vous demandera un justificatif si besoin."
        )
    return None


def rectification_request(*, actor: Actor, field: str, message: str) -> RectificationRequest:
    """Record the person's report of an error in their own data, for an agent to handle."""
    person = _own_person(actor)
    if field not in RectificationField.values:
        raise RectificationError("Choisissez la donnée qui contient l'erreur dans la liste.", field="field")
    message = message.strip()
    problem = rectification_message_problem(message)
    if problem:
        raise RectificationError(problem, field="message")
    with transaction.atomic():
        request = RectificationRequest.objects.create(person=person, field=field, message=message)
        journal_record(
            action=JournalAction.OWN_DATA_RECTIFICATION_REQUESTED,
            actor=actor,
            subject_person=person,
            detail={"request": request.pk, "field": field},
        )
    return request


def rectification_requests_of(person: Person) -> list[RectificationRequest]:
    """The person's requests, newest first (their history)."""
    return list(RectificationRequest.objects.filter(person=person).order_by("-created_at", "-id"))


# What the person sees ------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnMembership:
    """One of the person's own membership rows: nothing about the file's other members."""

    member: Member
    standing: Standing

    @property
    def dossier_numero(self) -> str:
        return self.member.dossier.numero

    @property
    def caf_name(self) -> str:
        return self.member.dossier.caf.name

    @property
    def standing_label(self) -> str:
        return standing_label(self.standing)

    @property
    def is_current(self) -> bool:
        return is_current_standing(self.standing)

    @property
    def is_spouse(self) -> bool:
        return is_spouse(self.member)


def own_memberships(person: Person) -> list[OwnMembership]:
    members = Member.objects.filter(person=person).select_related("dossier__caf").order_by("joined_on", "id")
    return [OwnMembership(member=m, standing=standing_of(m)) for m in members]


def _account_of(person: Person):
    from moncompte.accounts.models import Account

    return Account.objects.filter(person=person).first()


@dataclass(frozen=True)
class OwnData:
    person: Person
    masked_identifier: str
    contacts: list
    memberships: list[OwnMembership]
    rectifications: list[RectificationRequest]
    # The birth place typed at the account creation, kept on the identity check when it gave no
    # commune code (a name, a place abroad): shown, not lost, while the person has no code.
    declared_birth_place: str = ""


def _declared_birth_place(person: Person) -> str:
    if person.birth_place_code:
        return ""
    check = IdentityCheck.objects.filter(person=person).exclude(birth_place_label="").order_by("-created_at").first()
    return check.birth_place_label if check else ""


def own_data(*, actor: Actor) -> OwnData:
    """What the "my data" page shows: identity (identifier masked), contacts, own memberships,
    rectification requests."""
    person = _own_person(actor)
    account = _account_of(person)
    return OwnData(
        person=person,
        masked_identifier=person.identifier.masked(),
        contacts=list(account.contacts.order_by("kind", "created_at")) if account else [],
        memberships=own_memberships(person),
        rectifications=rectification_requests_of(person),
        declared_birth_place=_declared_birth_place(person),
    )


def own_data_viewed(*, actor: Actor) -> None:
    journal_record(action=JournalAction.OWN_DATA_VIEWED, actor=actor, subject_person=_own_person(actor))


def own_data_exported(*, actor: Actor, export_format: str) -> None:
    journal_record(
        action=JournalAction.OWN_DATA_EXPORTED,
        actor=actor,
        subject_person=_own_person(actor),
        detail={"format": export_format},
    )


# The export (right of access) ----------------------------------------------------------------


def _local(value: datetime.datetime | None) -> datetime.datetime | None:
    return timezone.localtime(value) if value else None


def _journal_rows(person: Person, dossier_numbers: dict[int, str]) -> tuple[list[dict], int]:
    entries = JournalEntry.objects.about_person(person)
    total = entries.count()
    rows = []
    for entry in entries.order_by("-at", "-id").values(
        "at", "action", "actor_person_id", "client_address", "dossier_id"
    )[:EXPORT_LIMIT]:
        actor_id = entry["actor_person_id"]
        if actor_id == person.pk:
            by, by_label = "vous", "Vous"
        elif actor_id is None:
            by, by_label = "non_identifie", "Personne non identifiée ou service de la Caf"
        else:
            by, by_label = "autre_personne", "Une autre personne"
        rows.append(
            {
                "date": _local(entry["at"]),
                "action": entry["action"],
                "action_libelle": action_label(entry["action"]),
                "par": by,
                "par_libelle": by_label,
                # Another identified person's address is theirs, not the holder's: left out.
                "adresse_ip": entry["client_address"] if by != "autre_personne" else None,
                # Only the number of a file the person is or was a member of.
                "numero_dossier": dossier_numbers.get(entry["dossier_id"]),
            }
        )
    return rows, total


def own_data_export(*, actor: Actor) -> dict:
    """Everything the service holds about the person, for the person only (JSON-ready once
    dates are encoded). The identifier is given in full: this is its holder's right of access."""
    person = _own_person(actor)
    identifier = person.identifier
    account = _account_of(person)
    memberships = own_memberships(person)
    dossier_numbers = {m.member.dossier_id: m.dossier_numero for m in memberships}

    data: dict = {
        "document": {
            "titre": "Mes données personnelles détenues par Mon Compte (Caf)",
            "genere_le": timezone.localtime(),
            "note": (
                "Ce document contient votre numéro de sécurité sociale en clair : conservez-le en lieu "
                "sûr et ne le transmettez qu'à des personnes de confiance. Il ne contient que les "
                "données qui vous concernent, jamais celles des autres membres de votre foyer."
            ),
        },
        "identite": {
            "type_identifiant": person.identifier_type,
            "type_identifiant_libelle": person.get_identifier_type_display(),
            "identifiant": identifier.display(),
            "prenoms": person.first_names,
            "nom_de_naissance": person.birth_name,
            "nom_d_usage": person.usage_name,
            "date_de_naissance": person.birth_date,
            "sexe": person.sex,
            "sexe_libelle": person.get_sex_display(),
            "commune_de_naissance_code_insee": person.birth_place_code,
            # The COG's names (moncompte.identity.geography); None for a code it does not hold.
            "commune_de_naissance": commune_name(person.birth_place_code) if person.birth_place_code else None,
            "pays_de_naissance_code_insee": person.birth_country_code,
            "pays_de_naissance": country_name(person.birth_country_code),
            "enregistree_le": _local(person.created_at),
            "anciens_identifiants": [
                {
                    "type_identifiant": former.identifier_type,
                    "remplace_le": _local(former.replaced_at),
                    "valable_jusqu_au": _local(former.valid_until),
                }
                for former in person.former_identifiers.order_by("replaced_at", "id")
            ],
        },
        "verifications_d_identite": [
            {
                "etat": check.state,
                "etat_libelle": check.get_state_display(),
                "deposee_le": _local(check.created_at),
                "decidee_le": _local(check.decided_at),
                "motif": check.reason,
                "lieu_de_naissance_declare": check.birth_place_label,
                "adresse_declaree": {
                    "adresse": check.address_line1,
                    "complement": check.address_line2,
                    "code_postal": check.postal_code,
                    "commune": check.city,
                },
                "justificatifs": [
                    {
                        "nature": document.get_kind_display(),
                        "format": document.get_content_type_display(),
                        "taille_octets": document.size,
                        "envoye_le": _local(document.uploaded_at),
                    }
                    for document in check.documents.all()
                ],
            }
            for check in IdentityCheck.objects.filter(person=person).prefetch_related("documents")
        ],
        "coordonnees": [],
        "rattachements": [
            {
                "numero_dossier": m.dossier_numero,
                "caf": m.caf_name,
                "role": m.member.role,
                "role_libelle": m.member.get_role_display(),
                "situation": m.standing.value,
                "situation_libelle": m.standing_label,
                "depuis_le": m.member.joined_on,
                "jusqu_au": m.member.ended_on,
                "autorisation_de_gestion": (
                    {
                        "accordee": m.member.delegation_granted_at is not None,
                        "accordee_le": _local(m.member.delegation_granted_at),
                    }
                    if m.is_spouse
                    else None
                ),
            }
            for m in memberships
        ],
        "compte": None,
        "sessions": [],
        "sessions_total": 0,
        "demandes_de_rectification": [
            {
                "deposee_le": _local(r.created_at),
                "donnee": r.field,
                "donnee_libelle": r.get_field_display(),
                "message": r.message,
                "etat": r.state,
                "etat_libelle": r.get_state_display(),
                "traitee_le": _local(r.processed_at),
                "reponse": r.answer,
            }
            for r in rectification_requests_of(person)
        ],
    }
    if account is not None:
        data["compte"] = {
            "cree_le": _local(account.created_at),
            "actif": account.is_active,
            "mot_de_passe_change_le": _local(account.password_changed_at),
        }
        data["coordonnees"] = [
            {
                "type": contact.kind,
                "type_libelle": contact.get_kind_display(),
                "valeur": contact.value,
                "ajoutee_le": _local(contact.created_at),
                "validee_le": _local(contact.verified_at),
            }
            for contact in account.contacts.order_by("kind", "created_at")
        ]
        sessions = account.sessions.order_by("-created_at", "-id")
        data["sessions_total"] = sessions.count()
        data["sessions"] = [
            {
                "appareil": s.device,
                "lieu_approximatif": s.place,
                "adresse_ip": s.client_address,
                "ouverte_le": _local(s.created_at),
                "derniere_activite_le": _local(s.last_seen_at),
                "fermee_le": _local(s.ended_at),
            }
            for s in sessions[:EXPORT_LIMIT]
        ]
    journal, journal_total = _journal_rows(person, dossier_numbers)
    data["journal"] = journal
    data["journal_total"] = journal_total
    data["limite"] = EXPORT_LIMIT
    data["journal_tronque"] = journal_total > len(journal)
    data["sessions_tronquees"] = data["sessions_total"] > len(data["sessions"])
    return data
