"""Reads of the counter: a service is reached only by the agent session that opened it, and
shows what the person served may be told (moncompte.access.policy.disclosure_for), nothing more."""

import dataclasses
import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from moncompte.access.agents import AgentPermission, agent_may
from moncompte.access.policy import Disclosure, disclosure_for, standing_of
from moncompte.accounts.models import Account
from moncompte.agents.sessions import agent_session_id
from moncompte.audit.actions import JournalAction
from moncompte.audit.services import journal_record
from moncompte.caf_requests.models import CafRequest
from moncompte.caf_requests.selectors import caf_requests_for
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import NotAllowed
from moncompte.counter.models import CounterService, Proof
from moncompte.households.models import Member
from moncompte.households.selectors import DossierOverview, dossier_overview_disclosed
from moncompte.identity.models import DocumentKind, Person
from moncompte.procedures.models import Procedure
from moncompte.procedures.services import procedures_of
from moncompte.verification.contacts import mask_destination


def counter_service_for(*, actor: Actor, service_id: int) -> CounterService:
    """The open service ``service_id`` of the acting agent's session, still within
    MONCOMPTE_COUNTER_SERVICE_MINUTES and on a file of a Caf the agent may serve; else NotAllowed
    (answered "not found")."""
    if actor.agent is None or not agent_may(actor.agent, AgentPermission.SERVE_PERSON):
        raise NotAllowed
    service = (
        CounterService.objects.select_related("dossier__caf", "person", "agent")
        .filter(pk=service_id, agent=actor.agent, session_id=agent_session_id(actor), closed_at__isnull=True)
        .first()
    )
    if service is None:
        raise NotAllowed
    if timezone.now() - service.created_at > datetime.timedelta(minutes=settings.MONCOMPTE_COUNTER_SERVICE_MINUTES):
        raise NotAllowed
    if not agent_may(actor.agent, AgentPermission.SERVE_PERSON, caf_id=service.dossier.caf_id):
        raise NotAllowed
    return service


# What the agent sees of the file and of the person served (issue 12) ----------------------------


@dataclass(frozen=True)
class MaskedContact:
    kind_label: str
    masked_value: str
    verified: bool


@dataclass(frozen=True)
class OwnPart:
    """What concerns the person served only: their identity (identifier masked), their contacts
    (masked), their own membership row on the file, whether they have an account."""

    person: Person
    masked_identifier: str
    contacts: list[MaskedContact]
    member: Member | None
    has_account: bool


@dataclass(frozen=True)
class ServedView:
    """What the console shows once the person served is identified: exactly what the policy
    lets them be told (``disclosure``), and nothing else. ``own`` is None unless
    ``disclosure.own_information``; ``overview`` None unless ``disclosure.file_information``;
    ``caf_requests`` and ``procedures`` are the file's (whole file) or the person's own on it."""

    service: CounterService
    disclosure: Disclosure
    own: OwnPart | None
    overview: DossierOverview | None
    caf_requests: list[CafRequest]
    procedures: list[Procedure]

    @property
    def standing_label(self) -> str:
        return self.disclosure.label

    @property
    def proof_detail_label(self) -> str:
        """The document shown, or how the telephony platform authenticated the caller."""
        detail = self.service.proof_detail
        if self.service.proof == Proof.IDENTITY_DOCUMENT and detail in DocumentKind.values:
            return DocumentKind(detail).label
        return _PHONE_METHOD_LABELS.get(detail, "")


_PHONE_METHOD_LABELS = {"legacy_code": "ancien code confidentiel", "phone_code": "code téléphone"}


def service_members(*, actor: Actor, service_id: int) -> list[Member]:
    """The file's membership rows, current and former, with their person, oldest first: whom
    the agent identifies the person served among (names and roles only are shown)."""
    service = counter_service_for(actor=actor, service_id=service_id)
    return list(Member.objects.filter(dossier_id=service.dossier_id).select_related("person").order_by("id"))


def _own_part(person: Person, member: Member | None) -> OwnPart:
    account = Account.objects.filter(person=person).first()
    contacts = []
    if account is not None:
        for contact in account.contacts.order_by("kind", "created_at", "id"):
            contacts.append(
                MaskedContact(
                    kind_label=contact.get_kind_display(),
                    masked_value=mask_destination(contact.kind, contact.value),
                    verified=contact.verified_at is not None,
                )
            )
    return OwnPart(
        person=person,
        masked_identifier=person.identifier.masked(),
        contacts=contacts,
        member=member,
        has_account=account is not None,
    )


def served_view(*, actor: Actor, service_id: int) -> ServedView:
    """What the person served on the open service ``service_id`` may be told, read through the
    policy: their standing on the file (``standing_of``), ``disclosure_for`` it, then only what
    it allows, through the selectors the web and the API use (acting for the person served).
    Each display is journaled (the person served as subject, the file, what was shown)."""
    service = counter_service_for(actor=actor, service_id=service_id)
    if service.identified_at is None:
        raise NotAllowed()
    person = service.person
    member = Member.objects.filter(dossier_id=service.dossier_id, person=person).first() if person else None
    disclosure = disclosure_for(standing_of(member))
    # The rights read below are the person served's (actor.subject), never the agent's.
    served = dataclasses.replace(actor, channel=Channel(service.channel), on_behalf_of=person)
    own = _own_part(person, member) if disclosure.own_information and person is not None else None
    overview = dossier_overview_disclosed(dossier=service.dossier, disclosure=disclosure)
    caf_requests: list[CafRequest] = []
    procedures: list[Procedure] = []
    if person is not None and (disclosure.file_information or disclosure.own_information):
        caf_requests = [r for r in caf_requests_for(actor=served) if r.dossier_id == service.dossier_id]
        procedures = [
            p
            for p in procedures_of(actor=served)
            if p.dossier_id == service.dossier_id or (p.dossier_id is None and p.person_id == person.pk)
        ]
    journal_record(
        action=JournalAction.COUNTER_DISPLAY,
        actor=served,
        subject_person=person,
        dossier=service.dossier,
        detail={
            "service": service.pk,
            "proof": service.proof,
            "file_information": disclosure.file_information,
            "own_information": disclosure.own_information,
        },
    )
    return ServedView(
        service=service,
        disclosure=disclosure,
        own=own,
        overview=overview,
        caf_requests=caf_requests,
        procedures=procedures,
    )
