"""What the phone may tell the person identified (R, S+, S, M, X, O), never the data itself; the
reference an agent redeems once; NIR + phone code read to an agent, under the same caps."""

import dataclasses
import datetime

import pytest
import time_machine

from moncompte.access.agents import AgentRole
from moncompte.agents.sessions import agent_actor, agent_session_open
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Channel
from moncompte.core.errors import NotAllowed
from moncompte.telephony.selectors import phone_disclosure
from moncompte.telephony.services import (
    PhoneAuthenticationError,
    phone_authenticate_code,
    phone_authenticate_legacy,
    phone_authentication_redeem,
    phone_code_check_by_agent,
    phone_code_issue,
)
from tests.factories import AccountFactory, AgentFactory, CafFactory, MemberFactory, PersonFactory, make_household
from tests.telephony.helpers import LEGACY_CODE, LINE, other_code, phone_actor, web_actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def delegated(db):
    return make_household(delegated=True)


def _one(person):
    rows = phone_disclosure(person)
    assert len(rows) == 1
    return rows[0]


def test_the_disclosure_for_each_standing(delegated):
    family = make_household(caf=delegated.caf)
    former = MemberFactory(dossier=family.dossier, spouse=True, ended=True).person
    expectations = [
        (delegated.responsible.person, "Responsable du dossier", True, True, ""),
        (delegated.spouse.person, "Conjoint ou conjointe, avec autorisation de gestion", True, True, ""),
        (family.spouse.person, "Conjoint ou conjointe, sans autorisation de gestion", False, True, "sans autorisation"),
        (family.child.person, "Membre du foyer", False, True, "Membre du foyer : aucune information sur le dossier"),
        (former, "Ancien conjoint ou ancienne conjointe", False, True, "plus aucune information"),
    ]
    for person, label, file_information, own_information, reason in expectations:
        row = _one(person)
        assert row.standing_label == label, label
        assert (row.file_information, row.own_information) == (file_information, own_information), label
        assert reason in row.hidden_reason and (row.hidden_reason == "") == file_information, label
        assert row.numero in (family.dossier.numero, delegated.dossier.numero)
    assert phone_disclosure(PersonFactory()) == []  # O: on no file, nothing to tell


def test_the_disclosure_never_holds_the_files_data(delegated):
    row = _one(delegated.responsible.person)
    dossier = delegated.dossier
    payment = dossier.payments.first()
    assert set(dataclasses.asdict(row)) == {
        "caf_code",
        "caf_name",
        "numero",
        "standing_label",
        "file_information",
        "own_information",
        "hidden_reason",
    }
    text = str(dataclasses.asdict(row))
    for secret in (dossier.address_line1, dossier.city, str(payment.amount_cents), delegated.spouse.person.first_names):
        assert secret not in text


def test_a_person_on_two_files_is_told_each(delegated):
    other = MemberFactory(person=delegated.child.person, child=False, other=True)  # also on another file
    rows = phone_disclosure(delegated.child.person)
    assert {row.numero for row in rows} == {delegated.dossier.numero, other.dossier.numero}


# The reference, redeemed once by the agent who takes the call ------------------------------


def _agent_actor(agent):
    session, _ = agent_session_open(agent=agent, client_address="10.0.0.5")
    return agent_actor(session, channel=Channel.PHONE, client_address="10.0.0.5")


@pytest.fixture
def authenticated(db, settings):
    settings.MONCOMPTE_LEGACY_CODE_PHONE_UNTIL = "2100-01-01"
    family = make_household(legacy_code=LEGACY_CODE)
    authentication = phone_authenticate_legacy(
        actor=phone_actor(), caf_code=family.caf.code, numero=family.dossier.numero, code=LEGACY_CODE, calling_line=LINE
    )
    return family, authentication


def test_an_agent_redeems_a_reference_once(authenticated):
    family, authentication = authenticated
    agent = AgentFactory(caf=family.caf)
    actor = _agent_actor(agent)
    typed = authentication.reference.lower().replace("-", " ").replace("TEL", "tel")
    redeemed = phone_authentication_redeem(actor=actor, reference=typed)
    assert redeemed.pk == authentication.pk and redeemed.person == family.responsible.person
    assert redeemed.dossier == family.dossier and redeemed.redeemed_by == agent
    entry = JournalEntry.objects.get(action="phone_auth.redeemed")
    assert entry.actor_agent == agent and entry.subject_person == family.responsible.person
    with pytest.raises(PhoneAuthenticationError) as error:
        phone_authentication_redeem(actor=actor, reference=authentication.reference)
    assert error.value.code == "reference_used" and "déjà été utilisée" in error.value.message


def test_an_expired_or_unknown_reference_is_refused(authenticated, settings):
    family, authentication = authenticated
    actor = _agent_actor(AgentFactory(caf=family.caf))
    for typed in ("TEL-0000-0000", "n'importe quoi", ""):
        with pytest.raises(PhoneAuthenticationError) as error:
            phone_authentication_redeem(actor=actor, reference=typed)
        assert error.value.code == "reference_unknown" and "Aucune identification" in error.value.message
    later = authentication.expires_at + datetime.timedelta(seconds=1)
    with time_machine.travel(later, tick=False), pytest.raises(PhoneAuthenticationError) as error:
        phone_authentication_redeem(actor=actor, reference=authentication.reference)
    assert error.value.code == "reference_expired" and "a expiré" in error.value.message
    assert JournalEntry.objects.filter(action="phone_auth.redeem_failure").count() == 4


def test_an_agent_of_another_caf_does_not_see_the_reference(authenticated):
    family, authentication = authenticated
    stranger = _agent_actor(AgentFactory(caf=CafFactory()))
    with pytest.raises(PhoneAuthenticationError) as error:
        phone_authentication_redeem(actor=stranger, reference=authentication.reference)
    assert error.value.code == "reference_unknown"
    # Still there for the agents of the file's Caf.
    assert phone_authentication_redeem(
        actor=_agent_actor(AgentFactory(caf=family.caf)), reference=authentication.reference
    )


def test_only_an_agent_serving_people_redeems(authenticated):
    family, authentication = authenticated
    officer = _agent_actor(AgentFactory(caf=family.caf, roles=[AgentRole.INCIDENT_OFFICER.value]))
    with pytest.raises(NotAllowed):
        phone_authentication_redeem(actor=officer, reference=authentication.reference)
    with pytest.raises(NotAllowed):
        phone_code_check_by_agent(actor=officer, identifier=family.responsible.identifier, code="123456")


# NIR + phone code read to the agent -----------------------------------------------------------


def test_the_caller_reads_nir_and_code_to_the_agent(db):
    account = AccountFactory()
    agent = AgentFactory(caf=CafFactory())
    actor = _agent_actor(agent)
    _, code = phone_code_issue(actor=web_actor(account), by_sms=False)
    with pytest.raises(PhoneAuthenticationError) as error:
        phone_code_check_by_agent(actor=actor, identifier=account.person.raw_identifier, code=other_code(code))
    assert error.value.code == "wrong_credentials"
    assert phone_code_check_by_agent(actor=actor, identifier=account.person.raw_identifier, code=code) == account.person
    with pytest.raises(PhoneAuthenticationError):  # single use, whoever checked it
        phone_authenticate_code(
            actor=phone_actor(), identifier=account.person.raw_identifier, code=code, calling_line=LINE
        )
    entry = JournalEntry.objects.get(action="phone_auth.success")
    assert entry.actor_agent == agent and entry.subject_person == account.person and entry.detail["by"] == "agent"


def test_the_agent_stands_for_the_line_under_the_same_caps(db, settings):
    settings.MONCOMPTE_PHONE_MAX_FAILURES_PER_LINE = 3
    actor = _agent_actor(AgentFactory(caf=CafFactory()))
    account = AccountFactory()
    _, code = phone_code_issue(actor=web_actor(account), by_sms=False)
    for _ in range(3):
        with pytest.raises(PhoneAuthenticationError):
            phone_code_check_by_agent(actor=actor, identifier=PersonFactory.build().raw_identifier, code="000000")
    with pytest.raises(PhoneAuthenticationError) as error:
        phone_code_check_by_agent(actor=actor, identifier=account.person.raw_identifier, code=code)
    assert error.value.code == "capped" and error.value.status == 429
    # Another agent, or the platform, is another line.
    other = _agent_actor(AgentFactory(caf=CafFactory()))
    assert phone_code_check_by_agent(actor=other, identifier=account.person.raw_identifier, code=code) == account.person
