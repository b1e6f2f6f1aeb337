"""The identity checks' queue of the Caf's agents (issue 12; docs/signup.md, "The agents' queue").

- **Which Caf a check belongs to** (``checks_with_caf``, the one rule): the Caf of the checked
  person's current file if they have one (the oldest current membership), else the Caf of the
  département of the address declared at the sign-up (``IdentityCheck.postal_code``: Corsica
  200xx-201xx 2A, the other 20xxx 2B, overseas 97xxx/98xxx three digits, as
  ``moncompte.households.places.departement_of`` reads a postal code; ``Caf.departement``). It is
  computed in SQL, so that the queue filters and pages in the database.
- **Who sees what**: checkers (``AgentPermission.DECIDE_IDENTITY_CHECK``) see the checks of their
  Caf. A check whose Caf cannot be determined (no file, no postal code or one naming no Caf of
  ours) goes to **every** checker's queue, marked "Caf non déterminée": otherwise nobody would
  ever decide it and the person would wait forever. Another Caf's check is "not found".
- **Every display is journaled**: a check's page (``identity.check_viewed``) and each document
  streamed to a checker (``identity.check_document_viewed``).
- **Re-keying**: a person holding a provisional identifier (or an NNP) gets the NIR attributed
  later (``identifier_rekey``): ``person_rekey`` keeps everything, the old identifier tells its
  holder the new one for MONCOMPTE_FORMER_IDENTIFIER_DAYS, and the person is told.

The decisions themselves are ``moncompte.accounts.signup.identity_check_accept`` and
``identity_check_reject``; the console asks ``identity_check_for`` first.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Substr
from django.utils import timezone

from moncompte.access.agents import AgentPermission, agent_caf_condition, agent_may
from moncompte.accounts.models import Account
from moncompte.accounts.services import notify_people
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.households.models import Caf, Member
from moncompte.identity.identifiers import Identifier, IdentifierKind
from moncompte.identity.matching import nir_identity_problems
from moncompte.identity.models import (
    DocumentContentType,
    FormerIdentifier,
    IdentifierType,
    IdentityCheck,
    IdentityCheckState,
    IdentityDocument,
    Person,
)
from moncompte.identity.services import RekeyError, person_rekey

PERMISSION = AgentPermission.DECIDE_IDENTITY_CHECK
PAGE_SIZE = 25
# What the checker sees of a claimed number: its last characters only.
CLAIM_VISIBLE_CHARACTERS = 4
MASK = "\u2022"  # "•", as moncompte.identity.identifiers masks
# The name a document is served under (the person's own file name is not kept).
DOCUMENT_EXTENSIONS = {
    DocumentContentType.PDF: "pdf",
    DocumentContentType.JPEG: "jpg",
    DocumentContentType.PNG: "png",
}
# Identifiers a NIR may replace: ours (provisional) and the provisional numbers starting with 7 or 8.
REKEYABLE_TYPES = (IdentifierType.PROVISIONAL, IdentifierType.NNP)
MESSAGE_REKEYED = "identifier_replaced"

HOLDER_NOT_FOUND = (
    "Aucune personne de votre Caf ne détient cet identifiant provisoire : vérifiez-le (il commence par P, "
    "ou par 7 ou 8 pour un numéro provisoire)."
)
NOT_REKEYABLE = (
    "Seul un identifiant provisoire Mon Compte (P-XXXXX-XXXXX) ou un numéro provisoire commençant par 7 ou 8 peut "
    "être remplacé par un numéro de sécurité sociale."
)
NEW_NOT_A_NIR = (
    "Saisissez le numéro de sécurité sociale attribué : 13 chiffres commençant par 1 ou 2 (ou un NIA), suivis de "
    "la clé de 2 chiffres. Un identifiant provisoire ou un numéro commençant par 7 ou 8 ne convient pas."
)
NEW_DOES_NOT_MATCH = (
    "Ce numéro de sécurité sociale ne correspond pas à l'identité de la personne (sexe, année ou mois de "
    "naissance, lieu de naissance) : vérifiez-le sur le document d'attribution."
)
NEW_TAKEN = "Ce numéro est déjà attribué à une autre personne : vérifiez-le avant de le rattacher."


# Which Caf a check belongs to ------------------------------------------------------------------


def _departement_of_postal_code(field: str = "postal_code") -> Case:
    """The département of a 5-digit French postal code, in SQL ("" for anything else): the rule
    of ``moncompte.households.places.departement_of``, written for the database (a test keeps
    the two in step)."""
    return Case(
        When(**{f"{field}__regex": r"^9[78][0-9]{3}$"}, then=Substr(field, 1, 3)),
        # Corsica: 200xx-201xx Corse-du-Sud, the other 20xxx Haute-Corse.
        When(**{f"{field}__regex": r"^20[01][0-9]{2}$"}, then=Value("2A")),
        When(**{f"{field}__regex": r"^20[0-9]{3}$"}, then=Value("2B")),
        When(**{f"{field}__regex": r"^[0-9]{5}$"}, then=Substr(field, 1, 2)),
        default=Value(""),
        output_field=CharField(),
    )


def _current_file_caf(person_field: str) -> Subquery:
    """The Caf of the person's oldest current membership (the one file a person has in practice)."""
    memberships = (
        Member.objects.current()
        .filter(person_id=OuterRef(person_field))
        .order_by("joined_on", "pk")
        .values("dossier__caf_id")[:1]
    )
    return Subquery(memberships)


def _caf_of_departement(departement_field: str) -> Subquery:
    # Several Cafs may serve one département on paper: the first by code, as caf_for_place does.
    return Subquery(Caf.objects.filter(departement=OuterRef(departement_field)).order_by("code").values("pk")[:1])


def checks_with_caf(queryset: QuerySet | None = None) -> QuerySet:
    """Identity checks annotated with ``queue_caf_id``: the Caf they belong to (module
    docstring), None when it cannot be determined."""
    queryset = IdentityCheck.objects.all() if queryset is None else queryset
    return queryset.annotate(queue_departement=_departement_of_postal_code()).annotate(
        queue_caf_id=Coalesce(
            _current_file_caf("person_id"), _caf_of_departement("queue_departement"), output_field=IntegerField()
        )
    )


def person_caf_id(person: Person) -> int | None:
    """The Caf a person belongs to for the checkers: their current file's, else the one of
    their last identity check (the same rule), else None (any checker)."""
    current = Member.objects.current().filter(person=person).order_by("joined_on", "pk").first()
    if current is not None:
        return current.dossier.caf_id
    last = checks_with_caf(IdentityCheck.objects.filter(person=person)).order_by("-created_at", "-id").first()
    return last.queue_caf_id if last is not None else None


# What a checker may see -------------------------------------------------------------------------


def _checker(actor: Actor):
    agent = actor.agent
    if agent is None or not agent_may(agent, PERMISSION):
        raise NotAllowed()
    return agent


def _scoped(actor: Actor, queryset: QuerySet) -> QuerySet:
    """The checks of the agent's Caf, and every check whose Caf is not determined."""
    agent = _checker(actor)
    condition = agent_caf_condition(agent, PERMISSION, caf_id_field="queue_caf_id")
    queryset = checks_with_caf(queryset)
    if not condition:  # a role reaching every Caf: the whole queue (``Q() | x`` would be ``x``)
        return queryset
    return queryset.filter(condition | Q(queue_caf_id__isnull=True))


def identity_checks_pending_for(*, actor: Actor) -> QuerySet:
    """The checks waiting for a decision that ``actor`` (a checker) may decide, oldest first,
    each with ``document_count``. Raises NotAllowed for an agent without the permission."""
    return (
        _scoped(actor, IdentityCheck.objects.pending())
        .select_related("person")
        .annotate(document_count=Count("documents"))
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class QueueCounts:
    pending: int
    undetermined: int
    without_document: int


def queue_counts(*, actor: Actor) -> QueueCounts:
    pending = _scoped(actor, IdentityCheck.objects.pending())
    return QueueCounts(
        pending=pending.count(),
        undetermined=pending.filter(queue_caf_id__isnull=True).count(),
        without_document=pending.filter(documents__isnull=True).count(),
    )


def identity_check_for(*, actor: Actor, check_id: int) -> IdentityCheck:
    """One check the checker may see (any state), with ``queue_caf_id``; NotAllowed otherwise."""
    check = _scoped(actor, IdentityCheck.objects.filter(pk=check_id)).select_related("person").first()
    if check is None:
        raise NotAllowed()
    return check


def masked_claim(identifier: Identifier | None) -> str:
    """The claimed number as printed, every character hidden but the last four."""
    if identifier is None:
        return ""
    shown = identifier.display()
    visible = sum(c.isalnum() for c in shown) - CLAIM_VISIBLE_CHARACTERS
    out = []
    for c in shown:
        if c.isalnum() and visible > 0:
            out.append(MASK)
            visible -= 1
        else:
            out.append(c)
    return "".join(out)


@dataclass(frozen=True)
class Duplicate:
    """A known person whose identity (names, birth date and place) is the one declared."""

    display_name: str
    birth_date: object
    has_account: bool
    in_a_file: bool


@dataclass(frozen=True)
class CheckView:
    check: IdentityCheck
    person: Person
    caf: Caf | None
    documents: list[IdentityDocument]
    claim_type_label: str
    claim_masked: str
    # "one" (``duplicate`` set), "many", or "" when no known person has that identity.
    duplicate_outcome: str
    duplicate: Duplicate | None

    @property
    def pending(self) -> bool:
        return self.check.state == IdentityCheckState.TO_VERIFY


def identity_check_view(*, actor: Actor, check_id: int) -> CheckView:
    """What a checker sees of a check (journaled ``identity.check_viewed``)."""
    check = identity_check_for(actor=actor, check_id=check_id)
    duplicate = None
    outcome = check.match_outcome if check.match_outcome in ("one", "many") else ""
    if check.candidate_person_id is not None:
        candidate = Person.objects.filter(pk=check.candidate_person_id).first()
        if candidate is not None:
            duplicate = Duplicate(
                display_name=f"{candidate.first_names} {candidate.usage_name or candidate.birth_name}",
                birth_date=candidate.birth_date,
                has_account=Account.objects.filter(person=candidate).exists(),
                in_a_file=Member.objects.current().filter(person=candidate).exists(),
            )
            outcome = "one"
    journal_record(
        action=JournalAction.IDENTITY_CHECK_VIEWED,
        actor=actor,
        subject_person=check.person,
        detail={"check": check.pk},
    )
    return CheckView(
        check=check,
        person=check.person,
        caf=Caf.objects.filter(pk=check.queue_caf_id).first() if check.queue_caf_id else None,
        documents=list(check.documents.order_by("uploaded_at", "id")),
        claim_type_label=check.get_claimed_identifier_type_display() if check.claimed_identifier_type else "",
        claim_masked=masked_claim(check.claimed_identifier),
        duplicate_outcome=outcome,
        duplicate=duplicate,
    )


def identity_document_for(*, actor: Actor, check_id: int, document_id: int) -> IdentityDocument:
    """A document of a check the checker may see, for the viewer: journaled
    (``identity.check_document_viewed``) before it is served. NotAllowed otherwise (another
    Caf's check, a document of another check, a document purged)."""
    check = identity_check_for(actor=actor, check_id=check_id)
    document = IdentityDocument.objects.filter(pk=document_id, identity_check=check).first()
    if document is None or not document.file:
        raise NotAllowed()
    journal_record(
        action=JournalAction.IDENTITY_CHECK_DOCUMENT_VIEWED,
        actor=actor,
        subject_person=check.person,
        detail={"check": check.pk, "document": document.pk},
    )
    return document


def document_filename(document: IdentityDocument) -> str:
    return f"justificatif.{DOCUMENT_EXTENSIONS.get(document.content_type, 'bin')}"


# Re-keying a provisional identifier to the NIR attributed --------------------------------------


class IdentifierRekeyError(DomainError):
    """The re-keying cannot be done; ``field``: ``current`` or ``new``."""

    code = "rekey_refused"


def rekey_candidate(*, actor: Actor, current: Identifier, new: Identifier) -> Person:
    """The person whose ``current`` provisional identifier (or NNP) would become ``new``, for
    the confirmation step; raises IdentifierRekeyError with the field at fault. A holder of
    another Caf is answered as nobody (the same sentence)."""
    agent = _checker(actor)
    if current.kind not in (IdentifierKind.PROVISIONAL, IdentifierKind.NNP):
        raise IdentifierRekeyError(NOT_REKEYABLE, code="not_rekeyable", field="current")
    if new.kind is not IdentifierKind.NIR:
        raise IdentifierRekeyError(NEW_NOT_A_NIR, code="not_a_nir", field="new")
    person = Person.objects.with_identifier(current.value).first()
    if (
        person is None
        or person.identifier_type not in REKEYABLE_TYPES
        or not agent_may(agent, PERMISSION, caf_id=person_caf_id(person))
    ):
        raise IdentifierRekeyError(HOLDER_NOT_FOUND, code="not_found", field="current")
    if (
        Person.objects.with_identifier(new.value).exists()
        or FormerIdentifier.objects.with_identifier(new.value).exists()
    ):
        raise IdentifierRekeyError(NEW_TAKEN, code="taken", field="new")
    if nir_identity_problems(
        new,
        birth_date=person.birth_date,
        sex=person.sex,
        birth_place_code=person.birth_place_code,
        birth_country_code=person.birth_country_code,
    ):
        raise IdentifierRekeyError(NEW_DOES_NOT_MATCH, code="mismatch", field="new")
    return person


def identifier_rekey(*, actor: Actor, current: Identifier, new: Identifier) -> Person:
    """Give the holder of ``current`` (a provisional identifier or an NNP) the NIR ``new``:
    ``person_rekey`` (the account, contacts, files and journal stay; the old identifier tells
    its holder the new one for MONCOMPTE_FORMER_IDENTIFIER_DAYS), journaled
    ``identity.check_rekeyed`` with the agent, and the person told at their validated contacts.
    Raises IdentifierRekeyError (nothing changed)."""
    person = rekey_candidate(actor=actor, current=current, new=new)
    previous_type = person.identifier_type
    try:
        with transaction.atomic():
            person = person_rekey(actor=actor, person=person, new_identifier=new, identifier_type=IdentifierType.NIR)
            journal_record(
                action=JournalAction.IDENTITY_CHECK_REKEYED,
                actor=actor,
                subject_person=person,
                detail={"from": previous_type, "to": person.identifier_type},
            )
            valid_until = timezone.now() + timezone.timedelta(days=settings.MONCOMPTE_FORMER_IDENTIFIER_DAYS)
            notify_people([person], template=MESSAGE_REKEYED, context={"valid_until": valid_until})
    except (RekeyError, IntegrityError):
        # Written by someone else between the look-up and the lock (person_rekey re-checks).
        raise IdentifierRekeyError(NEW_TAKEN, code="taken", field="new") from None
    return person
