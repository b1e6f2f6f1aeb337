"""The rules of the assisted first connection (moncompte.accounts.assisted): who may get one,
which agent may start it, the handoff code (single use, expiry, tries), and the journal."""

import datetime

import pytest
import time_machine
from django.test import Client

from moncompte.access.agents import AgentRole
from moncompte.access.policy import Action, Standing, decide_for_standing
from moncompte.accounts.assisted import (
    AssistedError,
    assisted_first_connection_claim,
    assisted_first_connection_complete,
    assisted_first_connection_offered,
    assisted_first_connection_start,
    handoff_code_canonical,
)
from moncompte.accounts.models import Account, AssistedFirstConnection, ThrottleCounter
from moncompte.audit.actions import JournalAction
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Channel
from moncompte.core.errors import NotAllowed
from moncompte.counter.models import Proof
from tests.assisted.conftest import PASSWORD, open_service, start_url, visitor
from tests.factories import AccountFactory, AgentFactory, CafFactory, MemberFactory, make_household, sign_in_agent

pytestmark = pytest.mark.django_db


def _wrong(code: str) -> str:
    """The same code with its last character changed: it points to the same flow."""
    canonical = handoff_code_canonical(code)
    return canonical[:-1] + ("2" if canonical[-1] != "2" else "3")


# The policy's row ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("standing", "allowed"),
    [
        (Standing.RESPONSABLE, True),
        (Standing.SPOUSE_DELEGATED, True),
        (Standing.SPOUSE, True),
        (Standing.MEMBER, True),
        (Standing.FORMER_SPOUSE, False),
        (Standing.STRANGER, False),
    ],
)
def test_claim_at_counter_is_for_the_current_members_of_the_file(standing, allowed):
    decision = decide_for_standing(standing, Action.CLAIM_AT_COUNTER)
    assert decision.allowed is allowed and not decision.own_only


# Who may get one ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "delegated"), [("responsible", False), ("spouse", False), ("spouse", True), ("child", False)]
)
def test_every_current_member_old_enough_may_get_one(db, who, delegated):
    household = make_household(accounts=False, delegated=delegated)
    agent = AgentFactory(caf=household.caf)
    person = getattr(household, who).person
    service, actor = open_service(agent, household.dossier, person)
    assert assisted_first_connection_offered(actor=actor, service=service)
    assisted, code = assisted_first_connection_start(actor=actor, service_id=service.pk)
    assert assisted.person == person and len(handoff_code_canonical(code)) == 8
    claimed = assisted_first_connection_claim(actor=visitor(), handoff_code=code)
    account = assisted_first_connection_complete(actor=visitor(), assisted_id=claimed.pk, password=PASSWORD)
    assert account.person == person


def _refused(actor, service) -> AssistedError:
    assert not assisted_first_connection_offered(actor=actor, service=service)
    with pytest.raises(AssistedError) as refused:
        assisted_first_connection_start(actor=actor, service_id=service.pk)
    assert not AssistedFirstConnection.objects.exists()
    entry = JournalEntry.objects.get(action=JournalAction.ASSISTED_START_REFUSED)
    assert entry.detail["reason"] == refused.value.code and entry.actor_agent_id == actor.agent.pk
    return refused.value


def test_refused_when_the_person_already_has_an_account(household, agent):
    AccountFactory(person=household.responsible.person)
    service, actor = open_service(agent, household.dossier, household.responsible.person)
    refusal = _refused(actor, service)
    assert refusal.code == "has_account"
    assert "Cette personne a déjà un compte Mon Compte" in refusal.message


def test_refused_for_a_child_of_15_or_under(household, agent, settings):
    service, actor = open_service(agent, household.dossier, household.young_child.person)
    refusal = _refused(actor, service)
    assert refusal.code == "too_young"
    assert f"à partir de {settings.MONCOMPTE_ACCOUNT_MIN_AGE} ans" in refusal.message


def test_refused_for_a_former_spouse(household, agent):
    former = MemberFactory(dossier=household.dossier, spouse=True, ended=True).person
    service, actor = open_service(agent, household.dossier, former)
    refusal = _refused(actor, service)
    assert refusal.code == "not_eligible"
    assert "seuls ses membres actuels" in refusal.message


def test_refused_for_someone_who_is_not_a_member_of_the_file(household, agent):
    stranger = MemberFactory().person  # the responsible person of another file
    service, actor = open_service(agent, household.dossier, stranger)
    assert _refused(actor, service).code == "not_eligible"


@pytest.mark.parametrize(
    ("proof", "channel"),
    [
        (Proof.PHONE_AUTHENTICATION, Channel.PHONE),
        (Proof.PHONE_CODE, Channel.PHONE),
        (Proof.PHONE_CODE, Channel.COUNTER),
    ],
)
def test_refused_for_a_person_identified_by_phone(household, agent, proof, channel):
    service, actor = open_service(agent, household.dossier, household.responsible.person, proof=proof, channel=channel)
    refusal = _refused(actor, service)
    assert refusal.code == "not_at_counter"
    assert "présentation d'une pièce d'identité" in refusal.message


def test_refused_before_the_person_is_identified(household, agent):
    client = Client()
    service, actor = open_service(
        agent, household.dossier, household.responsible.person, client=client, identified=False
    )
    assert _refused(actor, service).code == "not_at_counter"
    page = client.get(start_url(service))
    assert page.status_code == 200
    assert "Identifiez d&#x27;abord la personne avec sa pièce d&#x27;identité" in page.content.decode()
    assert "Lancer la première connexion accompagnée" not in page.content.decode()


# Which agent may start it -----------------------------------------------------------------------


def test_the_agent_of_another_caf_cannot_start_it(household):
    elsewhere = AgentFactory(caf=CafFactory(), roles=[AgentRole.COUNTER.value])
    client = Client()
    service, actor = open_service(elsewhere, household.dossier, household.responsible.person, client=client)
    with pytest.raises(NotAllowed):
        assisted_first_connection_start(actor=actor, service_id=service.pk)
    assert client.get(start_url(service)).status_code == 404
    assert client.post(start_url(service)).status_code == 404
    assert not AssistedFirstConnection.objects.exists()


def test_an_agent_without_the_role_gets_not_found(household, agent):
    checker = AgentFactory(caf=household.caf, roles=[AgentRole.IDENTITY_CHECKER.value])
    service, _ = open_service(agent, household.dossier, household.responsible.person)
    client = Client()
    sign_in_agent(client, checker)
    assert client.post(start_url(service)).status_code == 404
    assert not AssistedFirstConnection.objects.exists()


def test_another_agent_of_the_caf_cannot_reach_someone_elses_service(household, agent):
    service, _ = open_service(agent, household.dossier, household.responsible.person)
    colleague = Client()
    sign_in_agent(colleague, AgentFactory(caf=household.caf))
    assert colleague.post(start_url(service)).status_code == 404
    # Nor the same agent from another session.
    again = Client()
    sign_in_agent(again, agent)
    assert again.get(start_url(service)).status_code == 404


def test_the_second_factor_is_required(household, agent):
    client = Client()
    session = sign_in_agent(client, agent, second_factor=False)
    service, _ = open_service(agent, household.dossier, household.responsible.person)
    service.session = session
    service.save(update_fields=["session"])
    response = client.post(start_url(service))
    assert response.status_code == 302 and "/agents/" in response["Location"]
    assert not AssistedFirstConnection.objects.exists()


# The handoff code ------------------------------------------------------------------------------


@pytest.fixture
def started(household, agent):
    service, actor = open_service(agent, household.dossier, household.responsible.person)
    assisted, code = assisted_first_connection_start(actor=actor, service_id=service.pk)
    return assisted, code


def test_the_code_serves_once(started):
    assisted, code = started
    assert assisted_first_connection_claim(actor=visitor(), handoff_code=code).pk == assisted.pk
    with pytest.raises(AssistedError) as again:
        assisted_first_connection_claim(actor=visitor("198.51.100.9"), handoff_code=code)
    assert again.value.code == "used" and again.value.status == 410
    assert "Ce code a déjà servi" in again.value.message


def test_the_code_no_longer_serves_once_the_account_exists(started):
    assisted, code = started
    claimed = assisted_first_connection_claim(actor=visitor(), handoff_code=code)
    assisted_first_connection_complete(actor=visitor(), assisted_id=claimed.pk, password=PASSWORD)
    with pytest.raises(AssistedError) as again:
        assisted_first_connection_complete(actor=visitor(), assisted_id=claimed.pk, password=PASSWORD)
    assert again.value.code == "used"
    assert Account.objects.filter(person=assisted.person).count() == 1


def test_the_code_expires(started, settings):
    _, code = started
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(
        minutes=settings.MONCOMPTE_ASSISTED_MINUTES, seconds=1
    )
    with time_machine.travel(later, tick=False), pytest.raises(AssistedError) as expired:
        assisted_first_connection_claim(actor=visitor(), handoff_code=code)
    assert expired.value.code == "expired" and "Ce code a expiré" in expired.value.message


def test_the_code_still_serves_just_before_it_expires(started, settings):
    _, code = started
    before = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=settings.MONCOMPTE_ASSISTED_MINUTES - 1)
    with time_machine.travel(before, tick=False):
        assert assisted_first_connection_claim(actor=visitor(), handoff_code=code)


def test_the_password_step_ends_with_the_code(started, settings):
    _, code = started
    claimed = assisted_first_connection_claim(actor=visitor(), handoff_code=code)
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(
        minutes=settings.MONCOMPTE_ASSISTED_MINUTES, seconds=1
    )
    with time_machine.travel(later, tick=False), pytest.raises(AssistedError) as expired:
        assisted_first_connection_complete(actor=visitor(), assisted_id=claimed.pk, password=PASSWORD)
    assert expired.value.code == "expired"
    assert not Account.objects.filter(person=claimed.person).exists()


def test_five_wrong_codes_cancel_it_from_any_address(started, settings):
    assisted, code = started
    wrong = _wrong(code)
    for attempt in range(1, settings.MONCOMPTE_ASSISTED_MAX_ATTEMPTS):
        with pytest.raises(AssistedError) as refused:
            assisted_first_connection_claim(actor=visitor(f"203.0.113.{attempt}"), handoff_code=wrong)
        assert refused.value.code == "invalid" and "Ce code n'est pas valable" in refused.value.message
    with pytest.raises(AssistedError) as last:
        assisted_first_connection_claim(actor=visitor("203.0.113.99"), handoff_code=wrong)
    assert last.value.code == "too_many_attempts" and "ce code est annulé" in last.value.message
    with pytest.raises(AssistedError) as right_too_late:
        assisted_first_connection_claim(actor=visitor(), handoff_code=code)
    assert right_too_late.value.code == "no_longer_valid"
    assisted.refresh_from_db()
    assert assisted.failed_attempts == 5 and assisted.cancel_reason == AssistedFirstConnection.CancelReason.ATTEMPTS
    failures = JournalEntry.objects.filter(action=JournalAction.ASSISTED_CODE_FAILURE, subject_person=assisted.person)
    assert failures.count() == 6  # five wrong codes, then the right one too late
    assert [e.detail.get("attempts") for e in failures.order_by("id")][:5] == [1, 2, 3, 4, 5]


def test_four_wrong_codes_leave_the_right_one_working(started, settings):
    assisted, code = started
    for _ in range(settings.MONCOMPTE_ASSISTED_MAX_ATTEMPTS - 1):
        with pytest.raises(AssistedError):
            assisted_first_connection_claim(actor=visitor(), handoff_code=_wrong(code))
    assert assisted_first_connection_claim(actor=visitor(), handoff_code=code).pk == assisted.pk


def test_wrong_codes_are_throttled_per_address(started, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 2
    _, code = started
    unknown = "ZZZZ-ZZZZ" if handoff_code_canonical(code) != "ZZZZZZZZ" else "YYYY-YYYY"
    for _ in range(3):
        with pytest.raises(AssistedError) as refused:
            assisted_first_connection_claim(actor=visitor("198.51.100.30"), handoff_code=unknown)
        assert refused.value.code == "invalid"
    with pytest.raises(AssistedError) as throttled:
        assisted_first_connection_claim(actor=visitor("198.51.100.30"), handoff_code=code)
    assert throttled.value.code == "throttled" and throttled.value.status == 429
    assert "Trop de codes incorrects depuis votre connexion" in throttled.value.message
    assert JournalEntry.objects.filter(action=JournalAction.ASSISTED_CODE_THROTTLED).count() == 1
    # Another address is not slowed by this one.
    assert assisted_first_connection_claim(actor=visitor("198.51.100.31"), handoff_code=code)


def test_a_code_that_is_no_code_is_refused_without_counting(started):
    with pytest.raises(AssistedError) as refused:
        assisted_first_connection_claim(actor=visitor(), handoff_code="ABC-12")
    assert refused.value.code == "malformed"
    assert not ThrottleCounter.objects.exists()


def test_the_code_reads_as_typed(started):
    _, code = started
    typed = code.lower().replace("1", "l").replace("0", "o")
    assert handoff_code_canonical(f"  {typed} ") == code.replace("-", "")


def test_a_new_start_replaces_the_code_of_the_person(household, agent, started):
    first, old_code = started
    service, actor = open_service(agent, household.dossier, household.responsible.person)
    _, new_code = assisted_first_connection_start(actor=actor, service_id=service.pk)
    with pytest.raises(AssistedError) as refused:
        assisted_first_connection_claim(actor=visitor(), handoff_code=old_code)
    assert refused.value.code == "no_longer_valid"
    assert assisted_first_connection_claim(actor=visitor(), handoff_code=new_code)
    first.refresh_from_db()
    assert first.cancel_reason == AssistedFirstConnection.CancelReason.REPLACED


def test_an_account_made_meanwhile_another_way_stops_it(started):
    assisted, code = started
    claimed = assisted_first_connection_claim(actor=visitor(), handoff_code=code)
    AccountFactory(person=assisted.person)  # an invitation, say, accepted meanwhile
    with pytest.raises(AssistedError) as refused:
        assisted_first_connection_complete(actor=visitor(), assisted_id=claimed.pk, password=PASSWORD)
    assert refused.value.code == "has_account"
    assert Account.objects.filter(person=assisted.person).count() == 1


def test_the_journal_has_the_start_the_claim_and_the_account(started, agent):
    assisted, code = started
    claimed = assisted_first_connection_claim(actor=visitor(), handoff_code=code)
    assisted_first_connection_complete(actor=visitor(), assisted_id=claimed.pk, password=PASSWORD)
    start = JournalEntry.objects.get(action=JournalAction.ASSISTED_STARTED)
    assert start.actor_agent_id == agent.pk and start.dossier_id == assisted.dossier_id
    assert start.channel == Channel.COUNTER and start.detail["assisted"] == assisted.pk
    accepted = JournalEntry.objects.get(action=JournalAction.ASSISTED_CODE_ACCEPTED)
    assert (accepted.actor_agent_id, accepted.subject_person_id) == (None, assisted.person_id)
    assert accepted.client_address == "192.0.2.44"
    completed = JournalEntry.objects.get(action=JournalAction.ASSISTED_COMPLETED)
    assert completed.actor_person_id == assisted.person_id and completed.detail == {"assisted": assisted.pk}
    for entry in JournalEntry.objects.all():
        assert PASSWORD not in str(entry.detail) and code.replace("-", "") not in str(entry.detail)


def test_the_usagers_password_policy_holds_in_the_service_too(started):
    assisted, code = started
    claimed = assisted_first_connection_claim(actor=visitor(), handoff_code=code)
    with pytest.raises(AssistedError) as refused:
        assisted_first_connection_complete(actor=visitor(), assisted_id=claimed.pk, password="azerty123456")
    assert refused.value.code == "weak_password" and refused.value.field == "password"
    assert not Account.objects.filter(person=assisted.person).exists()
