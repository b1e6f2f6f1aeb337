"""The declared separations' queue (issue 12): who keeps the file, the new file of the one who
leaves, the change closed; both people told; the access to the old file after; the Caf's scope,
the permission, the journal."""

import datetime

import pytest
from django.utils import timezone

from moncompte.access.policy import Action, Standing, decide, disclosure_for, standing
from moncompte.audit.models import JournalEntry
from moncompte.core.errors import NotAllowed
from moncompte.households.models import Dossier, Member, SituationChange
from moncompte.households.separations import SeparationProcessError, separation_process, separations_queue
from moncompte.households.services import separation_declare
from tests.factories import make_household
from tests.queues.conftest import (
    CHECKER,
    COUNTER,
    actor_of,
    agent_client,
    make_agent,
    messages_to,
    person_client,
    web_actor,
)

pytestmark = pytest.mark.django_db

LIST = "/agents/separations/"
HOME = "/mon-compte/"
NEW_ADDRESS = {"address_line1": "3 rue des Acacias", "address_line2": "", "postal_code": "69003", "city": "Lyon"}


def page(change) -> str:
    return f"/agents/separations/{change.pk}/"


def declare(family, *, leaving) -> SituationChange:
    return separation_declare(
        actor=web_actor(family.responsible),
        dossier=family.dossier,
        separated_on=timezone.localdate() - datetime.timedelta(days=3),
        leaving_person=leaving.person,
        new_address=NEW_ADDRESS,
    )


@pytest.fixture
def agent(family):
    return make_agent(family.caf, COUNTER)


def test_the_responsable_keeps_the_file_and_the_spouse_gets_a_new_one(family, agent):
    change = declare(family, leaving=family.spouse)
    client = agent_client(agent)
    shown = client.get(page(change))
    assert shown.status_code == 200
    assert "3 rue des Acacias" in shown.content.decode()  # the declared address, for the agent

    response = client.post(page(change), {"keeper": "responsable", "new_file_for_leaver": "1"})
    assert response.status_code == 302 and response["Location"] == page(change)

    change.refresh_from_db()
    new_file = Dossier.objects.exclude(pk=family.dossier.pk).get(members__person=family.spouse.person)
    assert change.state == SituationChange.State.PROCESSED
    assert change.processed_by == agent and change.processed_at is not None
    assert change.decision == {
        "keeper": "responsable",
        "keeper_person_id": family.responsible.person.pk,
        "leaver_person_id": family.spouse.person.pk,
        "new_dossier_id": new_file.pk,
        "file_address_changed": False,
        "moved_child_person_ids": [],
    }
    # The new file: same Caf, its own 7-digit numéro, the leaver responsible, at their new address.
    assert new_file.caf == family.caf and len(new_file.numero) == 7 and new_file.numero.isdigit()
    assert new_file.numero != family.dossier.numero
    assert (new_file.address_line1, new_file.postal_code, new_file.city) == ("3 rue des Acacias", "69003", "Lyon")
    assert standing(family.spouse.person, new_file) == Standing.RESPONSABLE
    assert list(new_file.members.values_list("person", flat=True)) == [family.spouse.person.pk]

    # The old file: the responsible person keeps it, the spouse's access stays ended.
    family.dossier.refresh_from_db()
    assert family.dossier.address_line1 != "3 rue des Acacias"
    assert standing(family.responsible.person, family.dossier) == Standing.RESPONSABLE
    assert standing(family.spouse.person, family.dossier) == Standing.FORMER_SPOUSE
    assert standing(family.child.person, family.dossier) == Standing.MEMBER
    assert decide(person=family.responsible.person, dossier=family.dossier, action=Action.SEE_DOSSIER)
    assert not decide(person=family.spouse.person, dossier=family.dossier, action=Action.SEE_DOSSIER)
    assert not disclosure_for(standing(family.spouse.person, family.dossier)).file_information

    [kept] = messages_to(family.responsible.person, "separation_processed")
    assert "Vous restez la personne responsable du dossier" in kept.get_body()
    [left] = messages_to(family.spouse.person, "separation_processed")
    assert "Un nouveau dossier allocataire a été ouvert à votre nom" in left.get_body()
    assert "Acacias" not in kept.get_body() + left.get_body()  # no address in the messages

    processed = JournalEntry.objects.get(action="separation.processed")
    assert processed.actor_agent == agent and processed.dossier == family.dossier
    assert processed.subject_person == family.spouse.person
    assert processed.detail["keeper"] == "responsable" and processed.detail["new_dossier_id"] == new_file.pk
    assert processed.detail["notified"] == 2
    assert "Acacias" not in str(processed.detail)
    opened = JournalEntry.objects.get(action="separation.file_opened")
    assert opened.actor_agent == agent and opened.dossier == new_file
    assert JournalEntry.objects.filter(action="separation.viewed", actor_agent=agent).count() == 1

    # The leaver sees the new file on their home page, and nothing of the old one.
    home = person_client(family.spouse).get(HOME).content.decode()
    assert new_file.numero in home and "3 rue des Acacias" in home
    assert family.dossier.address_line1 not in home
    # The page now shows the decision, without the form.
    after = client.get(page(change)).content.decode()
    assert "Séparation traitée" in after and new_file.numero in after and "Traiter la séparation" not in after
    assert JournalEntry.objects.filter(action="separation.viewed", actor_agent=agent).count() == 2


def test_the_spouse_keeps_the_file_and_becomes_responsible(family, agent):
    """The responsible person leaves (as declared): the spouse keeps the home and the file."""
    change = declare(family, leaving=family.responsible)
    home_address = family.dossier.address_line1
    separation_process(actor=actor_of(agent), change_id=change.pk, keeper="conjoint", new_file_for_leaver=True)

    family.dossier.refresh_from_db()
    assert standing(family.spouse.person, family.dossier) == Standing.RESPONSABLE
    assert standing(family.responsible.person, family.dossier) == Standing.STRANGER
    assert Member.objects.current().filter(dossier=family.dossier, person=family.spouse.person).get()
    spouse_row = Member.objects.get(dossier=family.dossier, person=family.spouse.person)
    assert spouse_row.delegation_granted_at is None and spouse_row.ended_on is None
    assert Member.objects.get(dossier=family.dossier, person=family.responsible.person).ended_on == (
        timezone.localdate()
    )
    assert decide(person=family.spouse.person, dossier=family.dossier, action=Action.SEE_DOSSIER)
    assert decide(person=family.spouse.person, dossier=family.dossier, action=Action.GRANT_DELEGATION)
    assert not decide(person=family.responsible.person, dossier=family.dossier, action=Action.SEE_DOSSIER)
    assert not decide(person=family.responsible.person, dossier=family.dossier, action=Action.COUNTER_INFORMATION)
    assert family.dossier.address_line1 == home_address  # the one who stays keeps the home's address

    new_file = Dossier.objects.exclude(pk=family.dossier.pk).get(members__person=family.responsible.person)
    assert new_file.address_line1 == "3 rue des Acacias"
    assert standing(family.responsible.person, new_file) == Standing.RESPONSABLE

    [became] = messages_to(family.spouse.person, "separation_processed")
    assert "Vous devenez la personne responsable du dossier" in became.get_body()
    [left] = messages_to(family.responsible.person, "separation_processed")
    assert "Un nouveau dossier allocataire a été ouvert à votre nom" in left.get_body()

    # The spouse now sees the file (members, payments); the former responsible person only their new one.
    spouse_home = person_client(family.spouse).get(HOME).content.decode()
    assert family.dossier.numero in spouse_home and home_address in spouse_home
    responsible_home = person_client(family.responsible).get(HOME).content.decode()
    assert new_file.numero in responsible_home and home_address not in responsible_home


def test_the_one_declared_leaving_keeps_the_file_and_takes_it_to_the_new_address(family, agent):
    change = declare(family, leaving=family.spouse)
    home_address = family.dossier.address_line1
    separation_process(actor=actor_of(agent), change_id=change.pk, keeper="conjoint", new_file_for_leaver=True)
    family.dossier.refresh_from_db()
    assert family.dossier.address_line1 == "3 rue des Acacias"
    new_file = Dossier.objects.exclude(pk=family.dossier.pk).get(members__person=family.responsible.person)
    assert new_file.address_line1 == home_address
    change.refresh_from_db()
    assert change.decision["file_address_changed"] is True


def test_without_a_new_file_the_leaver_has_no_file_any_more(family, agent):
    change = declare(family, leaving=family.spouse)
    separation_process(actor=actor_of(agent), change_id=change.pk, keeper="responsable", new_file_for_leaver=False)
    assert not Dossier.objects.exclude(pk=family.dossier.pk).exists()
    assert Member.objects.current().filter(person=family.spouse.person).count() == 0
    [left] = messages_to(family.spouse.person, "separation_processed")
    assert "Vous n'êtes plus rattaché(e) au dossier allocataire" in left.get_body()
    assert not JournalEntry.objects.filter(action="separation.file_opened").exists()
    home = person_client(family.spouse).get(HOME).content.decode()
    assert family.dossier.address_line1 not in home


def test_the_delegation_stays_removed(delegated_family):
    family = delegated_family
    agent = make_agent(family.caf, COUNTER)
    change = declare(family, leaving=family.spouse)
    separation_process(actor=actor_of(agent), change_id=change.pk, keeper="responsable", new_file_for_leaver=True)
    row = Member.objects.get(dossier=family.dossier, person=family.spouse.person)
    assert row.delegation_granted_at is None and not row.is_current()
    assert not decide(person=family.spouse.person, dossier=family.dossier, action=Action.COUNTER_INFORMATION)


def test_a_processed_separation_cannot_be_processed_again(family, agent):
    change = declare(family, leaving=family.spouse)
    actor = actor_of(agent)
    separation_process(actor=actor, change_id=change.pk, keeper="responsable", new_file_for_leaver=True)
    with pytest.raises(SeparationProcessError) as refused:
        separation_process(actor=actor, change_id=change.pk, keeper="conjoint", new_file_for_leaver=True)
    assert refused.value.code == "already_processed"
    assert Dossier.objects.count() == 2
    assert standing(family.responsible.person, family.dossier) == Standing.RESPONSABLE
    assert JournalEntry.objects.filter(action="separation.processed").count() == 1


def test_an_unknown_keeper_is_refused_in_french(family, agent):
    change = declare(family, leaving=family.spouse)
    response = agent_client(agent).post(page(change), {"keeper": "enfant"})
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in response.content.decode()
    with pytest.raises(SeparationProcessError) as refused:
        separation_process(actor=actor_of(agent), change_id=change.pk, keeper="enfant", new_file_for_leaver=False)
    assert refused.value.message == "Choisissez qui garde le dossier."
    change.refresh_from_db()
    assert change.state == SituationChange.State.TO_PROCESS


def test_another_cafs_separation_is_not_found_and_not_listed(family, other_caf):
    change = declare(family, leaving=family.spouse)
    outsider = make_agent(other_caf, COUNTER)
    client = agent_client(outsider)
    assert client.get(page(change)).status_code == 404
    assert client.post(page(change), {"keeper": "responsable"}).status_code == 404
    assert family.dossier.numero not in client.get(LIST).content.decode()
    with pytest.raises(NotAllowed):
        separation_process(
            actor=actor_of(outsider), change_id=change.pk, keeper="responsable", new_file_for_leaver=True
        )
    assert not separations_queue(actor=actor_of(outsider)).exists()
    change.refresh_from_db()
    assert change.state == SituationChange.State.TO_PROCESS
    assert family.dossier.numero in agent_client(make_agent(family.caf, COUNTER)).get(LIST).content.decode()


def test_an_identity_checker_cannot_process_separations(family):
    change = declare(family, leaving=family.spouse)
    checker = make_agent(family.caf, CHECKER)
    client = agent_client(checker)
    assert client.get(LIST).status_code == 404
    assert client.post(page(change), {"keeper": "responsable"}).status_code == 404
    with pytest.raises(NotAllowed):
        separation_process(actor=actor_of(checker), change_id=change.pk, keeper="responsable", new_file_for_leaver=True)


def test_the_list_moves_a_processed_separation_to_the_processed_ones(family, agent):
    change = declare(family, leaving=family.spouse)
    other = make_household(caf=family.caf)
    declare(other, leaving=other.spouse)
    client = agent_client(agent)
    waiting = client.get(LIST).content.decode()
    assert family.dossier.numero in waiting and other.dossier.numero in waiting
    separation_process(actor=actor_of(agent), change_id=change.pk, keeper="responsable", new_file_for_leaver=False)
    waiting = client.get(LIST).content.decode()
    assert family.dossier.numero not in waiting and other.dossier.numero in waiting
    processed = client.get(LIST, {"state": "processed"}).content.decode()
    assert family.dossier.numero in processed and other.dossier.numero not in processed


def test_a_file_changed_since_the_declaration_is_refused(family, agent):
    change = declare(family, leaving=family.spouse)
    # The responsible person left the file meanwhile (an earlier processing, the import...).
    Member.objects.filter(pk=family.responsible.member.pk).update(ended_on=timezone.localdate())
    with pytest.raises(SeparationProcessError) as refused:
        separation_process(actor=actor_of(agent), change_id=change.pk, keeper="responsable", new_file_for_leaver=True)
    assert refused.value.code == "changed"
    assert Dossier.objects.count() == 1


def test_the_children_chosen_go_with_the_leaver_into_the_new_file(family, agent):
    """The agent ticks the children who live with the one who leaves: they leave the old file
    and join the new one; the parent who keeps the file sees nothing more of them, the other
    parent sees them, the child with an account is told and finds the new file."""
    change = declare(family, leaving=family.spouse)
    client = agent_client(agent)
    shown = client.get(page(change)).content.decode()
    for child in (family.child, family.young_child):
        assert f'name="children_leaving" value="{child.person.pk}"' in shown
    assert f'name="children_leaving" value="{family.responsible.person.pk}"' not in shown  # only children

    response = client.post(
        page(change),
        {"keeper": "responsable", "new_file_for_leaver": "1", "children_leaving": [str(family.child.person.pk)]},
    )
    assert response.status_code == 302
    new_file = Dossier.objects.exclude(pk=family.dossier.pk).get(members__person=family.spouse.person)
    moved = Member.objects.get(dossier=family.dossier, person=family.child.person)
    assert moved.ended_on == timezone.localdate() and not moved.is_current()
    assert standing(family.child.person, family.dossier) != Standing.MEMBER
    assert standing(family.child.person, new_file) == Standing.MEMBER
    assert standing(family.young_child.person, family.dossier) == Standing.MEMBER  # not ticked: stays
    assert set(Member.objects.current().filter(dossier=new_file).values_list("person", flat=True)) == {
        family.spouse.person.pk,
        family.child.person.pk,
    }
    change.refresh_from_db()
    assert change.decision["moved_child_person_ids"] == [family.child.person.pk]

    # The parent who keeps the file no longer sees the child; the other parent does.
    kept_household = person_client(family.responsible).get("/mon-compte/foyer/").content.decode()
    assert family.child.person.first_names not in kept_household
    assert family.young_child.person.first_names in kept_household
    assert decide(person=family.spouse.person, dossier=new_file, action=Action.SEE_DOSSIER)
    leaver_household = person_client(family.spouse).get("/mon-compte/foyer/").content.decode()
    assert family.child.person.first_names in leaver_household
    assert family.young_child.person.first_names not in leaver_household
    # The child is told and is now attached to the new file.
    [told] = messages_to(family.child.person, "separation_processed")
    assert "Vous êtes maintenant rattaché(e) au nouveau dossier allocataire" in told.get_body()
    assert told.subject == "Votre rattachement à un dossier allocataire a changé"
    [kept] = messages_to(family.responsible.person, "separation_processed")
    assert "Un enfant a été rattaché au nouveau dossier" in kept.get_body()
    assert family.child.person.first_names not in kept.get_body()  # a count, no names
    child_home = person_client(family.child).get(HOME).content.decode()
    assert "Mon rattachement" in child_home

    processed = JournalEntry.objects.get(action="separation.processed")
    assert processed.detail["children_moved"] == 1 and processed.detail["notified"] == 3
    opened = JournalEntry.objects.get(action="separation.file_opened")
    assert opened.detail["moved_child_person_ids"] == [family.child.person.pk]
    after = client.get(page(change)).content.decode()
    assert "Enfants rattachés au nouveau dossier" in after and family.child.person.display_name in after


def test_children_go_only_into_a_new_file(family, agent):
    change = declare(family, leaving=family.spouse)
    response = agent_client(agent).post(
        page(change), {"keeper": "responsable", "children_leaving": [str(family.child.person.pk)]}
    )
    assert response.status_code == 400
    assert "Un enfant ne peut partir qu&#x27;avec un nouveau dossier" in response.content.decode()
    change.refresh_from_db()
    assert change.state == SituationChange.State.TO_PROCESS
    assert standing(family.child.person, family.dossier) == Standing.MEMBER
    assert Dossier.objects.count() == 1


def test_only_a_current_child_of_the_file_can_be_moved(family, agent):
    """Another file's child, a parent of this one or a child who left meanwhile: refused, with
    nothing changed, by the form and by the service alike."""
    change = declare(family, leaving=family.spouse)
    stranger = make_household(caf=family.caf)
    for person in (stranger.child.person, family.responsible.person):
        response = agent_client(agent).post(
            page(change), {"keeper": "responsable", "new_file_for_leaver": "1", "children_leaving": [str(person.pk)]}
        )
        assert response.status_code == 400
        with pytest.raises(SeparationProcessError) as refused:
            separation_process(
                actor=actor_of(agent),
                change_id=change.pk,
                keeper="responsable",
                new_file_for_leaver=True,
                children_leaving=[person.pk],
            )
        assert refused.value.code == "changed"
    Member.objects.filter(pk=family.young_child.member.pk).update(ended_on=timezone.localdate())
    with pytest.raises(SeparationProcessError):
        separation_process(
            actor=actor_of(agent),
            change_id=change.pk,
            keeper="responsable",
            new_file_for_leaver=True,
            children_leaving=[family.young_child.person.pk],
        )
    change.refresh_from_db()
    assert change.state == SituationChange.State.TO_PROCESS
    assert Dossier.objects.count() == 2  # the family's and the stranger's: no new one
    assert standing(stranger.child.person, stranger.dossier) == Standing.MEMBER
