import datetime

import pytest
from django.test import Client

from moncompte.accounts.models import Account
from moncompte.accounts.services import account_create, contact_add_verified
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor
from moncompte.households.models import Member, Role
from moncompte.identity.identifiers import new_provisional_identifier, parse_identifier
from moncompte.identity.models import FormerIdentifier
from moncompte.identity.services import RekeyError, person_create, person_rekey
from tests.conftest import sign_in
from tests.factories import AccountFactory, DossierFactory

pytestmark = pytest.mark.django_db

NEW_NIR = "2 92 04 99 350 012 22"  # born abroad (99 350: Morocco)
PASSWORD = "Nouvelle vie 2021 ici"


@pytest.fixture
def provisional_person(db):
    identifier = new_provisional_identifier()
    person = person_create(
        identifier=identifier,
        first_names="Amina",
        birth_name="Haddad",
        birth_date=datetime.date(1992, 4, 3),
        sex="F",
        birth_country_code="99350",
    )
    account = account_create(actor=Actor.system(), person=person, password=PASSWORD)
    contact_add_verified(account=account, kind="email", value="amina@example.fr")
    Member.objects.create(dossier=DossierFactory(), person=person, role=Role.AUTRE)
    return person, identifier


def test_rekey_keeps_account_contacts_files_and_history(provisional_person):
    person, old = provisional_person
    history = JournalEntry.objects.filter(subject_person=person).count()
    person_rekey(actor=Actor.system(), person=person, new_identifier=parse_identifier(NEW_NIR))
    person.refresh_from_db()
    assert person.identifier.display() == NEW_NIR
    account = Account.objects.get(person=person)
    assert account.check_password(PASSWORD)
    assert account.contacts.get().value == "amina@example.fr"
    assert person.memberships.count() == 1
    assert JournalEntry.objects.filter(subject_person=person).count() == history + 1
    assert FormerIdentifier.objects.with_identifier(old.value).get().person == person


def test_new_identifier_signs_in_and_the_old_one_tells_it(provisional_person):
    person, old = provisional_person
    person_rekey(actor=Actor.system(), person=person, new_identifier=parse_identifier(NEW_NIR))
    assert sign_in(Client(), NEW_NIR, PASSWORD).status_code == 302
    client = Client()
    response = sign_in(client, old.display(), PASSWORD)
    body = response.content.decode()
    assert response.status_code == 400
    assert "Votre identifiant a changé" in body and NEW_NIR in body
    assert "_auth_user_id" not in client.session


def test_old_identifier_with_a_wrong_password_reveals_nothing(provisional_person):
    person, old = provisional_person
    person_rekey(actor=Actor.system(), person=person, new_identifier=parse_identifier(NEW_NIR))
    response = sign_in(Client(), old.display(), "Mauvais2021mot")
    assert response.status_code == 401
    assert NEW_NIR not in response.content.decode()


def test_old_identifier_after_the_transition_is_unknown(provisional_person):
    person, old = provisional_person
    person_rekey(actor=Actor.system(), person=person, new_identifier=parse_identifier(NEW_NIR))
    FormerIdentifier.objects.update(valid_until=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC))
    assert sign_in(Client(), old.display(), PASSWORD).status_code == 401


def test_a_nir_held_by_someone_else_is_refused(provisional_person):
    person, _ = provisional_person
    with pytest.raises(RekeyError):
        held = AccountFactory().person.raw_identifier
        person_rekey(actor=Actor.system(), person=person, new_identifier=parse_identifier(held))
