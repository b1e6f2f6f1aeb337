"""Writes of the counter and the phone: find a file, identify the person served, end the service.

An agent serving someone (moncompte.access.agents: ``SERVE_PERSON``) finds one file by an exact
search, never a list: a numéro allocataire of their Caf (or of the Caf named, for a role that
reaches every Caf) or a NIR. A file the agent may not serve answers exactly as no file at all.
The person served is then identified with a proof fitting the channel; what they may be told is
the policy's (moncompte.counter.selectors.served_view). Every search, identification and end is
journaled with the agent, the channel and the person served; never a NIR, a numéro or a code.
"""

from __future__ import annotations

import dataclasses
import re

from django.db import transaction
from django.utils import timezone

from moncompte.access.agents import AgentPermission, agent_caf_condition, agent_may
from moncompte.access.policy import standing_of
from moncompte.agents.models import AgentSession
from moncompte.agents.sessions import agent_session_id
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import DomainError, NotAllowed
from moncompte.counter.models import CounterService, Proof
from moncompte.counter.selectors import counter_service_for
from moncompte.households.models import Dossier, Member
from moncompte.identity.identifiers import IdentifierError, parse_identifier
from moncompte.identity.models import DocumentKind, Person
from moncompte.telephony import services as telephony

NOT_FOUND_MESSAGE = "Aucun dossier ne correspond à cette recherche."
CHANNELS = (Channel.COUNTER, Channel.PHONE)
# The proofs each channel accepts: a document is shown in person, the phone's are told.
PROOFS_BY_CHANNEL = {
    Channel.COUNTER: (Proof.IDENTITY_DOCUMENT,),
    Channel.PHONE: (Proof.PHONE_AUTHENTICATION, Proof.PHONE_CODE),
}
_NUMERO = re.compile(r"\d{7}")
_CAF_CODE = re.compile(r"\d{3}")


class CounterError(DomainError):
    """A search or an identification that cannot be made; ``field`` names the input at fault."""

    code = "counter_refused"


class DossierNotFound(CounterError):
    code = "dossier_not_found"
    message = NOT_FOUND_MESSAGE


class SeveralDossiers(CounterError):
    """The NIR's person is on several files the agent may serve: the agent picks one
    (``dossiers``: the candidates, oldest first) and searches again with its id."""

    code = "several_dossiers"
    message = "Cette personne est rattachée à plusieurs dossiers : choisissez celui qui concerne sa demande."

    def __init__(self, dossiers: list[Dossier]):
        self.dossiers = dossiers
        super().__init__(field="dossier")


def _as_channel(actor: Actor, channel: Channel | str) -> Actor:
    return dataclasses.replace(actor, channel=Channel(channel))


def _serving_agent(actor: Actor) -> None:
    if actor.agent is None or not agent_may(actor.agent, AgentPermission.SERVE_PERSON):
        raise NotAllowed()


def _journal_not_found(actor: Actor, *, found_by: str, reason: str) -> None:
    # Its own transaction: the refusal raised next must not erase the trace of the search.
    with transaction.atomic():
        journal_record(
            action=JournalAction.COUNTER_SEARCH_NOT_FOUND,
            actor=actor,
            subject_person=None,
            detail={"found_by": found_by, "reason": reason},
        )


def _numero_candidates(actor: Actor, numero: str, caf_code: str | None):
    numero = re.sub(r"\s", "", numero)
    if not _NUMERO.fullmatch(numero):
        _journal_not_found(actor, found_by="numero", reason="invalid")
        raise CounterError("Le numéro allocataire compte 7 chiffres.", code="invalid_numero", field="numero")
    files = Dossier.objects.filter(agent_caf_condition(actor.agent, AgentPermission.SERVE_PERSON), numero=numero)
    if caf_code:
        caf_code = caf_code.strip()
        if not _CAF_CODE.fullmatch(caf_code):
            _journal_not_found(actor, found_by="numero", reason="invalid")
            raise CounterError("Le code de la Caf compte 3 chiffres.", code="invalid_caf_code", field="caf_code")
        # Another Caf than the agent's: only a role reaching it finds anything (the condition above).
        files = files.filter(caf__code=caf_code)
    else:
        files = files.filter(caf_id=actor.agent.caf_id)
    return None, list(files.select_related("caf").order_by("id")[:1])


def _nir_candidates(actor: Actor, identifier: str):
    try:
        value = parse_identifier(identifier).value
    except IdentifierError:
        _journal_not_found(actor, found_by="nir", reason="invalid")
        raise
    person = Person.objects.with_identifier(value).first()
    if person is None:
        return None, []
    # Current and former memberships alike: a former spouse is served about their own part.
    files = Dossier.objects.filter(
        agent_caf_condition(actor.agent, AgentPermission.SERVE_PERSON),
        pk__in=Member.objects.filter(person=person).values("dossier_id"),
    )
    return person, list(files.select_related("caf").order_by("id"))


def counter_search(
    *,
    actor: Actor,
    channel: Channel | str,
    numero: str | None = None,
    caf_code: str | None = None,
    identifier: str | None = None,
    dossier_id: int | None = None,
) -> CounterService:
    """Open the service of one file found by ``numero`` (7 digits; in the agent's Caf, or in
    the Caf ``caf_code`` for a role reaching it) or by ``identifier`` (a NIR in any accepted
    shape; ``dossier_id`` picks one file when the person is on several: ``SeveralDossiers``).

    A file of a Caf the agent may not serve is not found, exactly like no file at all. Every
    search is journaled, found or not (``found_by``; the file as the entry's dossier when found,
    never the number typed)."""
    _serving_agent(actor)
    if channel not in CHANNELS:
        raise CounterError("Choisissez « À l'accueil » ou « Au téléphone ».", code="invalid_channel", field="channel")
    actor = _as_channel(actor, channel)
    numero, identifier = (numero or "").strip(), (identifier or "").strip()
    if bool(numero) == bool(identifier):
        raise CounterError(
            "Saisissez soit un numéro allocataire, soit un numéro de sécurité sociale.", code="one_criterion"
        )
    session = AgentSession.objects.filter(pk=agent_session_id(actor), agent=actor.agent, ended_at__isnull=True).first()
    if session is None:
        raise NotAllowed()
    found_by = "numero" if numero else "nir"
    if numero:
        person, files = _numero_candidates(actor, numero, caf_code)
    else:
        person, files = _nir_candidates(actor, identifier)
    if dossier_id is not None:
        files = [f for f in files if f.pk == dossier_id]
    if not files:
        _journal_not_found(actor, found_by=found_by, reason="none")
        raise DossierNotFound(field=found_by if found_by == "numero" else "identifier")
    if len(files) > 1:
        with transaction.atomic():
            journal_record(
                action=JournalAction.COUNTER_SEARCH_SEVERAL,
                actor=actor,
                subject_person=person,
                detail={"found_by": found_by, "files": len(files)},
            )
        raise SeveralDossiers(files)
    dossier = files[0]
    with transaction.atomic():
        service = CounterService.objects.create(
            agent=actor.agent, session=session, channel=actor.channel, dossier=dossier, found_by=found_by
        )
        journal_record(
            action=JournalAction.COUNTER_SEARCH,
            actor=actor,
            subject_person=person,
            dossier=dossier,
            detail={"found_by": found_by, "service": service.pk},
        )
    return service


def _refused(actor: Actor, service: CounterService, proof: str, error: DomainError) -> DomainError:
    """Journal a refused identification in its own transaction (the proof's own traces, its caps
    and tries, are written by the proof's service) and give the error to raise."""
    with transaction.atomic():
        journal_record(
            action=JournalAction.COUNTER_IDENTIFY_REFUSED,
            actor=actor,
            subject_person=None,
            dossier=service.dossier,
            detail={"service": service.pk, "proof": proof, "reason": error.code},
        )
    return error


def _proof_person(
    actor: Actor, service: CounterService, proof: str, proof_detail: str, identifier: str, code: str
) -> tuple[Person | None, str]:
    """The person a phone proof identifies and what is kept of it (its method, never the
    reference or the code). Called outside any transaction of ours: a wrong code counted by
    the telephony's caps stays counted."""
    try:
        if proof == Proof.PHONE_AUTHENTICATION:
            if not proof_detail.strip():
                raise CounterError(
                    "Saisissez la référence donnée par la plateforme téléphonique.",
                    code="reference_missing",
                    field="reference",
                )
            authentication = telephony.phone_authentication_redeem(actor=actor, reference=proof_detail.strip())
            if authentication.dossier_id is not None and authentication.dossier_id != service.dossier_id:
                raise CounterError(
                    "Cette authentification téléphonique concerne un autre dossier.",
                    code="other_dossier",
                    field="reference",
                )
            return authentication.person, str(authentication.method)
        if not identifier.strip() or not code.strip():
            raise CounterError(
                "Saisissez le numéro de sécurité sociale et le code téléphone que l'appelant vous lit.",
                code="phone_code_missing",
                field="code",
            )
        return telephony.phone_code_check_by_agent(actor=actor, identifier=identifier, code=code), ""
    except NotAllowed:
        raise CounterError("La preuve d'identité n'a pas pu être vérifiée.", code="proof_refused") from None


def counter_identify(
    *,
    actor: Actor,
    service_id: int,
    person_id: int | None,
    proof: str,
    proof_detail: str = "",
    identifier: str = "",
    code: str = "",
) -> CounterService:
    """Record who the person served is and how it was proven.

    At the counter (``Proof.IDENTITY_DOCUMENT``, ``proof_detail`` the document's kind, a
    ``DocumentKind``): ``person_id`` names the person whose document is shown, None for someone
    who is not among the file's members. On the phone, the proof names the person:
    ``Proof.PHONE_AUTHENTICATION`` (``proof_detail``: the reference the telephony platform gave
    the caller) or ``Proof.PHONE_CODE`` (``identifier`` and ``code``: the caller's NIR and their
    Mon Compte phone code); ``person_id``, when given, must be that person. A person who is not a
    member of the file (current or former) is served as such: nothing of the file is told."""
    service = counter_service_for(actor=actor, service_id=service_id)
    actor = _as_channel(actor, service.channel)
    if service.identified_at is not None:
        raise CounterError(
            "Une personne a déjà été identifiée pour cet accueil : terminez-le pour recevoir une autre personne.",
            code="already_identified",
        )
    if proof not in PROOFS_BY_CHANNEL[Channel(service.channel)]:
        raise CounterError("Cette preuve d'identité ne convient pas à ce canal.", code="invalid_proof", field="proof")
    chosen = None
    if person_id is not None:
        chosen = Person.objects.filter(pk=person_id).first()
        if chosen is None:
            raise NotAllowed()
    if proof == Proof.IDENTITY_DOCUMENT:
        if proof_detail not in DocumentKind.values:
            raise CounterError(
                "Choisissez le document d'identité présenté.", code="document_kind", field="document_kind"
            )
        person, kept = chosen, proof_detail
    else:
        try:
            person, kept = _proof_person(actor, service, proof, proof_detail, identifier, code)
            if chosen is not None and person.pk != chosen.pk:
                raise CounterError(
                    "La preuve donnée ne correspond pas à la personne choisie.", code="other_person", field="person"
                )
        except DomainError as error:
            raise _refused(actor, service, proof, error) from None
    member = Member.objects.filter(dossier_id=service.dossier_id, person=person).first() if person else None
    with transaction.atomic():
        updated = CounterService.objects.filter(pk=service.pk, identified_at__isnull=True, closed_at__isnull=True)
        now = timezone.now()
        if not updated.update(person=person, proof=proof, proof_detail=kept, identified_at=now):
            raise CounterError(
                "Une personne a déjà été identifiée pour cet accueil : terminez-le pour recevoir une autre personne.",
                code="already_identified",
            )
        service.person, service.proof, service.proof_detail, service.identified_at = person, proof, kept, now
        journal_record(
            action=JournalAction.COUNTER_IDENTIFIED,
            actor=dataclasses.replace(actor, on_behalf_of=person),
            subject_person=person,
            dossier=service.dossier,
            detail={
                "service": service.pk,
                "proof": proof,
                "proof_detail": kept,
                "member": member is not None,
                "standing": str(standing_of(member)),
            },
        )
    return service


def counter_close(*, actor: Actor, service_id: int) -> CounterService:
    """End the service ("Terminer"): it is no longer reachable, by anyone."""
    service = counter_service_for(actor=actor, service_id=service_id)
    actor = dataclasses.replace(_as_channel(actor, service.channel), on_behalf_of=service.person)
    with transaction.atomic():
        now = timezone.now()
        if CounterService.objects.filter(pk=service.pk, closed_at__isnull=True).update(closed_at=now):
            service.closed_at = now
            journal_record(
                action=JournalAction.COUNTER_CLOSED,
                actor=actor,
                subject_person=service.person,
                dossier=service.dossier,
                detail={"service": service.pk},
            )
    return service
