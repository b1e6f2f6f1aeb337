"""On the phone: the caller is identified by the telephony platform's reference or by their NIR
and Mon Compte phone code read to the agent (moncompte.telephony), then the console shows exactly
what their standing lets them be told, as at the counter."""

import datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from moncompte.access.agents import AgentRole
from moncompte.audit.actions import JournalAction
from moncompte.core.actors import Actor, Channel
from moncompte.counter.models import CounterService
from moncompte.telephony.models import PhoneAttempt
from moncompte.telephony.services import phone_authenticate_code, phone_authenticate_legacy, phone_code_issue
from moncompte.web.templatetags.money import euros
from tests.counter.helpers import entries, open_service, page, text
from tests.counter.test_disclosure_counter import FILE_VISIBLE, HIDDEN_REASONS, OWN_ONLY, WHOLE_FILE, _world
from tests.factories import AccountFactory, AgentFactory, make_household, sign_in_agent


def _phone_code(person) -> str:
    account = getattr(person, "account", None) or AccountFactory(person=person)
    _, code = phone_code_issue(actor=Actor(channel=Channel.WEB, account=account), by_sms=False)
    return code


def _platform() -> Actor:
    return Actor.visitor(channel=Channel.PHONE, client_address="192.0.2.50")


def _identify(client, service, *, person=None, **data):
    data = {"person": person.pk if person else "", **data}
    return client.post(reverse("backoffice:counter_identify", args=[service.pk]), data)


def _by_reference(client, service, person, *, chosen=None):
    authentication = phone_authenticate_code(
        actor=_platform(),
        identifier=person.raw_identifier,
        code=_phone_code(person),
        calling_line="06 11 22 33 44",
    )
    return _identify(client, service, person=chosen, proof="phone_authentication", reference=authentication.reference)


def _by_phone_code(client, service, person, *, chosen=None, code=None):
    code = code or _phone_code(person)
    return _identify(client, service, person=chosen, proof="phone_code", identifier=person.raw_identifier, code=code)


def _agent_client(caf):
    agent = AgentFactory(caf=caf, roles=[AgentRole.COUNTER.value])
    client = Client()
    sign_in_agent(client, agent)
    return agent, client


@pytest.mark.parametrize("proof", ["phone_authentication", "phone_code"])
@pytest.mark.parametrize("standing", sorted(WHOLE_FILE | OWN_ONLY | {"aucun"}))
def test_the_phone_shows_what_the_standing_allows(db, standing, proof):
    world = _world(standing)
    dossier = world.household.dossier
    agent, client = _agent_client(world.household.caf)
    service = open_service(client, dossier, channel="phone")
    # The caller is chosen among the members, or not (a stranger is not among them).
    chosen = world.served if standing != "aucun" else None
    if proof == "phone_authentication":
        response = _by_reference(client, service, world.served, chosen=chosen)
    else:
        response = _by_phone_code(client, service, world.served, chosen=chosen)
    assert response.status_code == 302, text(response)
    html = text(page(client, service))
    payments = list(dossier.payments.order_by("id"))

    if standing in WHOLE_FILE:
        assert FILE_VISIBLE in html
        assert all(euros(p.amount_cents) in html for p in payments)
        assert dossier.address_line1 in html
    else:
        assert HIDDEN_REASONS[standing] in html
        assert not any(euros(p.amount_cents) in html for p in payments)
        assert dossier.address_line1 not in html
        assert world.household_request.title not in html
    if standing in OWN_ONLY:
        assert world.served.first_names in html
    if standing == "aucun":
        assert world.served.display_name not in html

    service.refresh_from_db()
    assert (service.person, service.proof) == (world.served, proof)
    (display,) = entries(JournalAction.COUNTER_DISPLAY)
    assert (display.actor_agent_id, display.subject_person_id, display.dossier_id, display.channel) == (
        agent.pk,
        world.served.pk,
        dossier.pk,
        "phone",
    )
    assert display.detail == {
        "service": service.pk,
        "proof": proof,
        "file_information": standing in WHOLE_FILE,
        "own_information": standing in OWN_ONLY | WHOLE_FILE,
    }


def test_the_identity_document_is_refused_on_the_phone(agent_client, family):
    service = open_service(agent_client, family.dossier, channel="phone")
    response = _identify(
        agent_client, service, person=family.responsible.person, proof="identity_document", document_kind="passport"
    )
    assert response.status_code == 400
    assert "Cette preuve d'identité ne convient pas à ce canal." in text(response)
    assert CounterService.objects.get().identified_at is None


def test_the_phone_page_offers_both_phone_proofs(agent_client, family):
    service = open_service(agent_client, family.dossier, channel="phone")
    html = text(page(agent_client, service))
    assert "Référence de l'authentification téléphonique" in html
    assert "Code téléphone" in html
    assert "Document d'identité présenté" not in html


def test_a_proof_of_another_person_than_the_one_chosen_is_refused(agent_client, agent, family):
    service = open_service(agent_client, family.dossier, channel="phone")
    response = _by_phone_code(agent_client, service, family.spouse.person, chosen=family.responsible.person)
    assert response.status_code == 400
    assert "La preuve donnée ne correspond pas à la personne choisie." in text(response)
    service.refresh_from_db()
    assert service.identified_at is None
    (refused,) = entries(JournalAction.COUNTER_IDENTIFY_REFUSED)
    assert refused.actor_agent_id == agent.pk
    assert refused.detail == {"service": service.pk, "proof": "phone_code", "reason": "other_person"}


def test_a_wrong_phone_code_is_refused_and_stays_counted(agent_client, family):
    service = open_service(agent_client, family.dossier, channel="phone")
    code = _phone_code(family.responsible.person)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = _by_phone_code(agent_client, service, family.responsible.person, code=wrong)
    assert response.status_code == 400
    assert "code téléphone incorrect" in text(response)
    # The telephony's own failure, written before the refusal, is not rolled back by the counter.
    assert PhoneAttempt.objects.filter(outcome=PhoneAttempt.Outcome.WRONG).count() == 1
    (refused,) = entries(JournalAction.COUNTER_IDENTIFY_REFUSED)
    assert refused.detail["reason"] == "wrong_credentials"
    assert code not in str(refused.detail) and wrong not in str(refused.detail)
    # The right code still works, once.
    assert _by_phone_code(agent_client, service, family.responsible.person, code=code).status_code == 302


def test_a_reference_is_single_use(agent_client, family):
    authentication = phone_authenticate_code(
        actor=_platform(),
        identifier=family.responsible.person.raw_identifier,
        code=_phone_code(family.responsible.person),
        calling_line="masqué",
    )
    first = open_service(agent_client, family.dossier, channel="phone")
    response = _identify(
        agent_client,
        first,
        person=family.responsible.person,
        proof="phone_authentication",
        reference=authentication.reference,
    )
    assert response.status_code == 302
    second = open_service(agent_client, family.dossier, channel="phone")
    response = _identify(
        agent_client,
        second,
        person=family.responsible.person,
        proof="phone_authentication",
        reference=authentication.reference,
    )
    assert response.status_code == 400
    assert "Cette référence d'identification téléphonique a déjà été utilisée." in text(response)


def test_an_old_code_authentication_of_another_file_is_refused(db):
    with time_machine.travel(datetime.datetime(2022, 3, 1, 10, tzinfo=datetime.UTC), tick=False):
        household = make_household(legacy_code="12345678")
        other = make_household(caf=household.caf, legacy_code="87654321")
        _, client = _agent_client(household.caf)
        authentication = phone_authenticate_legacy(
            actor=_platform(),
            caf_code=other.caf.code,
            numero=other.dossier.numero,
            code="87654321",
            calling_line="0611223344",
        )
        service = open_service(client, household.dossier, channel="phone")
        response = _identify(client, service, proof="phone_authentication", reference=authentication.reference)
        assert response.status_code == 400
        assert "Cette authentification téléphonique concerne un autre dossier." in text(response)
        assert CounterService.objects.get(pk=service.pk).identified_at is None

        # The right file's old code identifies its responsible person.
        authentication = phone_authenticate_legacy(
            actor=_platform(),
            caf_code=household.caf.code,
            numero=household.dossier.numero,
            code="12345678",
            calling_line="0611223344",
        )
        response = _identify(client, service, proof="phone_authentication", reference=authentication.reference)
        assert response.status_code == 302
        service.refresh_from_db()
        assert (service.person, service.proof_detail) == (household.responsible.person, "legacy_code")
        html = text(page(client, service))
        assert "ancien code confidentiel" in html
        assert FILE_VISIBLE in html
