"""Re-keying a provisional identifier (or an NNP) to the NIR attributed, from the console: two
POSTs (the identifiers, then the confirmation naming the person); the person keeps everything,
is told, and their old identifier only says what the new one is; refusals in French."""

import datetime
import html as html_module

import pytest

from moncompte.audit.models import JournalEntry
from moncompte.identity.checks_queue import (
    HOLDER_NOT_FOUND,
    NEW_DOES_NOT_MATCH,
    NEW_NOT_A_NIR,
    NEW_TAKEN,
    NOT_REKEYABLE,
)
from moncompte.identity.models import FormerIdentifier, IdentifierType, Person
from moncompte.notifications.models import Message
from tests.accounts.test_signup import nir
from tests.conftest import sign_in
from tests.factories import AccountFactory, MemberFactory, PersonFactory, nir_for, nnp
from tests.identity_checks.helpers import PASSWORD, console, signup

pytestmark = pytest.mark.django_db

PAGE = "/agents/identifiants/"
# Inès LEFÈVRE of tests.accounts.test_signup: a woman born in May 1991 in Lyon 3e.
ATTRIBUTED = "2 91 05 69 383 017"


def text(response) -> str:
    return html_module.unescape(response.content.decode())


def test_the_checker_replaces_a_provisional_identifier_after_seeing_whose_it_is(lyon, checker, client):
    result = signup(email="ines@example.fr")
    old, new = result.provisional_identifier, nir(ATTRIBUTED)
    agents = console(checker)
    form = agents.get(PAGE)
    assert form.status_code == 200 and "Identifiant provisoire actuel" in text(form)

    confirm = agents.post(PAGE, {"current": old.display(), "new": new.display()})
    page = text(confirm)
    assert confirm.status_code == 200 and "Confirmer le remplacement" in page
    assert "Inès Marie LEFÈVRE" in page and "17 mai 1991" in page and new.display() in page
    assert Person.objects.get(pk=result.person.pk).identifier == old  # nothing changed yet

    done = agents.post(PAGE, {"current": old.display(), "new": new.display(), "confirm": "1"})
    assert done.status_code == 302 and done["Location"] == PAGE
    person = Person.objects.get(pk=result.person.pk)
    assert person.identifier == new and person.identifier_type == IdentifierType.NIR
    assert FormerIdentifier.objects.with_identifier(old.value).get().person == person
    entry = JournalEntry.objects.get(action="identity.check_rekeyed")
    assert entry.actor_agent == checker and entry.subject_person == person
    assert entry.detail == {"from": "provisional", "to": "nir"}
    assert JournalEntry.objects.get(action="identity.rekey").actor_agent == checker
    [message] = Message.objects.filter(recipient="ines@example.fr", template="identifier_replaced")
    assert "Un numéro de sécurité sociale vous a été attribué" in message.get_body()
    assert new.value not in message.get_body() and new.display() not in message.get_body()

    # The old identifier signs nobody in; with the password it tells the new one.
    answer = sign_in(client, old.display(), PASSWORD)
    assert answer.status_code == 400
    assert f"Connectez-vous désormais avec le numéro {new.display()}." in text(answer)
    assert sign_in(client, new.display(), PASSWORD).status_code == 302


def test_an_nnp_is_replaced_too(lyon, checker):
    birth = datetime.date(1980, 4, 2)
    holder = PersonFactory(identifier=nnp(), sex="M", birth_date=birth, birth_place_code="69383")
    MemberFactory(person=holder, dossier__caf=lyon)
    AccountFactory(person=holder)
    new = nir_for(sex="M", birth_date=birth, birth_place_code="69383")
    agents = console(checker)
    done = agents.post(PAGE, {"current": holder.raw_identifier, "new": new.display(), "confirm": "1"})
    assert done.status_code == 302
    assert Person.objects.get(pk=holder.pk).identifier == new
    assert JournalEntry.objects.get(action="identity.check_rekeyed").detail == {"from": "nnp", "to": "nir"}


def test_refusals_are_french_sentences_next_to_their_field_and_change_nothing(lyon, paris, checker, family):
    result = signup()
    old = result.provisional_identifier.display()
    elsewhere = signup(first_names="Ailleurs", postal_code="75011", city="Paris")
    agents = console(checker)
    cases = [
        ({"current": old, "new": family.responsible.identifier}, "new", NEW_TAKEN),
        ({"current": old, "new": "2 91 05 69 383 01"}, "new", "clé"),
        ({"current": old, "new": nnp().value}, "new", NEW_NOT_A_NIR),
        # A NIR of a man born in 1978: not Inès LEFÈVRE.
        ({"current": old, "new": nir("1 78 02 75 115 004").display()}, "new", NEW_DOES_NOT_MATCH),
        ({"current": family.responsible.identifier, "new": nir(ATTRIBUTED).display()}, "current", NOT_REKEYABLE),
        ({"current": "P-00000-00000", "new": nir(ATTRIBUTED).display()}, "current", None),
        # Another Caf's person is answered as nobody.
        ({"current": elsewhere.provisional_identifier.display(), "new": nir(ATTRIBUTED).display()}, "current",
         HOLDER_NOT_FOUND),
        ({"current": "", "new": ""}, "current", "Saisissez l'identifiant provisoire actuel de la personne."),
    ]  # fmt: skip
    for data, field, message in cases:
        for confirm in ("", "1"):
            response = agents.post(PAGE, {**data, "confirm": confirm})
            page = text(response)
            assert response.status_code == 400, (data, page[:500])
            assert f'id="id_{field}-erreur"' in page and 'aria-invalid="true"' in page, data
            if message:
                assert message in page, (data, message)
    assert Person.objects.get(pk=result.person.pk).identifier == result.provisional_identifier
    assert Person.objects.get(pk=elsewhere.person.pk).identifier == elsewhere.provisional_identifier
    assert not JournalEntry.objects.filter(action__in=["identity.check_rekeyed", "identity.rekey"]).exists()
    assert not Message.objects.filter(template="identifier_replaced").exists()
