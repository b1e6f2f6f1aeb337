"""The disclosure matrix at the counter: for each standing of the person served, the page shows
exactly what the policy lets them be told (moncompte.access.policy.disclosure_for), says why the
rest is hidden, and journals the display."""

from dataclasses import dataclass

import pytest
from django.test import Client

from moncompte.access.agents import AgentRole
from moncompte.audit.actions import JournalAction
from moncompte.identity.models import Person
from moncompte.procedures.services import procedure_start
from moncompte.web.templatetags.money import euros
from tests.counter.helpers import entries, identify_with_document, open_service, page, text
from tests.factories import AgentFactory, CafRequestFactory, MemberFactory, PersonFactory, make_household, sign_in_agent
from tests.procedures.helpers import acting

FILE_VISIBLE = "Informations du dossier communicables"
HOUSING_AID = "Demande d'aide au logement"
HIDDEN_REASONS = {
    "conjoint": "Conjoint ou conjointe sans autorisation de gestion : aucune information sur le dossier.",
    "membre": "Membre du foyer : aucune information sur le dossier.",
    "ancien_conjoint": "Ancien conjoint ou ancienne conjointe depuis la séparation déclarée",
    "aucun": "Cette personne n'est pas membre de ce dossier : aucune information ne peut lui être communiquée.",
}
WHOLE_FILE = {"responsable", "conjoint_autorise"}
OWN_ONLY = {"conjoint", "membre", "ancien_conjoint"}


@dataclass
class World:
    household: object
    served: Person
    household_request: object
    personal_request: object


def _world(standing: str) -> World:
    household = make_household(delegated=standing == "conjoint_autorise")
    served = {
        "responsable": household.responsible.person,
        "conjoint_autorise": household.spouse.person,
        "conjoint": household.spouse.person,
        "membre": household.child.person,
    }.get(standing)
    if standing == "ancien_conjoint":
        served = MemberFactory(dossier=household.dossier, spouse=True, ended=True).person
    if standing == "aucun":
        served = PersonFactory()
    # A household procedure in progress, started by the responsible person.
    procedure_start(actor=acting(household.responsible.person), type_code="aide-au-logement")
    household_request = CafRequestFactory(dossier=household.dossier, title="Quittance de loyer du foyer")
    personal_request = CafRequestFactory(
        dossier=household.dossier, addressed_to=served, title="Attestation personnelle demandée"
    )
    return World(household, served, household_request, personal_request)


def _served_page(world: World) -> tuple[object, str, object]:
    agent = AgentFactory(caf=world.household.caf, roles=[AgentRole.COUNTER.value])
    client = Client()
    sign_in_agent(client, agent)
    service = open_service(client, world.household.dossier, channel="counter")
    response = identify_with_document(client, service, world.served)
    assert response.status_code == 302, response.content.decode()
    response = page(client, service)
    assert response.status_code == 200
    return agent, text(response), service


@pytest.mark.parametrize("standing", sorted(WHOLE_FILE | OWN_ONLY | {"aucun"}))
def test_the_counter_shows_what_the_standing_allows(db, standing):
    world = _world(standing)
    agent, html, service = _served_page(world)
    dossier = world.household.dossier
    payments = list(dossier.payments.order_by("id"))
    assert payments
    others = [p.person for p in world.household.people if p.person.pk != world.served.pk]

    if standing in WHOLE_FILE:
        assert FILE_VISIBLE in html
        for payment in payments:
            assert euros(payment.amount_cents) in html
        assert dossier.address_line1 in html
        assert "Allocations familiales" in html
        for other in others:
            assert other.display_name in html
        assert world.household_request.title in html
        assert world.personal_request.title in html
        assert HOUSING_AID in html
        assert not any(reason in html for reason in HIDDEN_REASONS.values())
    else:
        assert FILE_VISIBLE not in html
        assert HIDDEN_REASONS[standing] in html
        for payment in payments:
            assert euros(payment.amount_cents) not in html
        assert dossier.address_line1 not in html
        assert "Allocations familiales" not in html
        assert "Membres du foyer" not in html
        assert world.household_request.title not in html
        assert HOUSING_AID not in html
        for other in others:
            assert other.display_name not in html

    if standing in OWN_ONLY:
        # Their own data, their identifier masked, never in clear.
        assert world.served.first_names in html
        assert world.served.identifier.masked() in html
        assert world.served.identifier.display() not in html
    if standing in {"conjoint", "membre"}:
        # A request addressed to them personally is theirs to be told about (ANSWER_CAF_REQUEST: own).
        assert world.personal_request.title in html
    if standing in {"ancien_conjoint", "aucun"}:
        assert world.personal_request.title not in html
    if standing == "aucun":
        # Nothing at all, not even who the stranger is.
        assert world.served.display_name not in html
        assert world.served.birth_name not in html

    (display,) = entries(JournalAction.COUNTER_DISPLAY)
    assert display.actor_agent_id == agent.pk
    assert display.subject_person_id == world.served.pk
    assert display.dossier_id == dossier.pk
    assert display.channel == "counter"
    assert display.detail["file_information"] is (standing in WHOLE_FILE)
    assert display.detail["proof"] == "identity_document"
    (identified,) = entries(JournalAction.COUNTER_IDENTIFIED)
    assert identified.subject_person_id == world.served.pk
    assert identified.actor_agent_id == agent.pk
    assert identified.detail["proof_detail"] == "identity_card"


def test_each_display_is_journaled(agent_client, agent, family):
    service = open_service(agent_client, family.dossier)
    identify_with_document(agent_client, service, family.responsible.person)
    page(agent_client, service)
    page(agent_client, service)
    displays = entries(JournalAction.COUNTER_DISPLAY)
    assert len(displays) == 2
    assert {(e.actor_agent_id, e.subject_person_id, e.dossier_id) for e in displays} == {
        (agent.pk, family.responsible.person.pk, family.dossier.pk)
    }


def test_before_identification_only_the_members_names_and_roles(agent_client, family):
    service = open_service(agent_client, family.dossier)
    former = MemberFactory(dossier=family.dossier, spouse=True, ended=True)
    html = text(page(agent_client, service))
    for person in [*(p.person for p in family.people), former.person]:
        assert person.display_name in html
    assert "Ancien membre" in html
    assert "Identifier cette personne" in html
    for payment in family.dossier.payments.all():
        assert euros(payment.amount_cents) not in html
    assert family.dossier.address_line1 not in html
    assert "Allocations familiales" not in html
    assert entries(JournalAction.COUNTER_DISPLAY) == []


def test_a_person_not_on_the_file_can_be_recorded_without_a_name(agent_client, family):
    service = open_service(agent_client, family.dossier)
    response = identify_with_document(agent_client, service, None)
    assert response.status_code == 302
    html = text(page(agent_client, service))
    assert HIDDEN_REASONS["aucun"] in html
    for payment in family.dossier.payments.all():
        assert euros(payment.amount_cents) not in html
    (display,) = entries(JournalAction.COUNTER_DISPLAY)
    assert display.subject_person_id is None
    assert display.detail["file_information"] is False


def test_the_document_kind_is_required(agent_client, family):
    service = open_service(agent_client, family.dossier)
    response = identify_with_document(agent_client, service, family.responsible.person, kind="")
    assert response.status_code == 400
    assert "Choisissez le document d'identité présenté." in text(response)
    service.refresh_from_db()
    assert service.identified_at is None


def test_a_phone_proof_is_refused_at_the_counter(agent_client, family):
    from django.urls import reverse

    service = open_service(agent_client, family.dossier, channel="counter")
    response = agent_client.post(
        reverse("backoffice:counter_identify", args=[service.pk]),
        {"person": family.responsible.person.pk, "proof": "phone_code", "identifier": "x", "code": "123456"},
    )
    assert response.status_code == 400
    assert "Cette preuve d'identité ne convient pas à ce canal." in text(response)
    service.refresh_from_db()
    assert service.identified_at is None


def test_one_person_per_service(agent_client, family):
    service = open_service(agent_client, family.dossier)
    identify_with_document(agent_client, service, family.spouse.person)
    response = identify_with_document(agent_client, service, family.responsible.person)
    assert response.status_code == 400
    assert "Une personne a déjà été identifiée pour cet accueil" in text(response)
    service.refresh_from_db()
    assert service.person_id == family.spouse.person.pk
