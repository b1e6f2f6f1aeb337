"""A person's own data: rectification requests and the export (moncompte.identity.own_data)."""

import datetime
import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from moncompte.audit.models import JournalEntry
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, Channel
from moncompte.households.models import Member
from moncompte.identity import own_data as own_data_module
from moncompte.identity.models import RectificationRequest, RectificationState
from moncompte.identity.own_data import (
    RectificationError,
    action_label,
    own_data,
    own_data_export,
    rectification_request,
    rectification_requests_of,
)
from tests.factories import ContactFactory, make_household

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(family):
    """The usual family; the responsible person has a phone as well, and the members' first names
    are distinct (the export is checked for the absence of the others' names)."""
    ContactFactory(account=family.responsible.account, phone=True)
    seen = set()
    for n, member in enumerate(family.people):
        person = member.person
        if person.first_names.split()[0] in seen:
            person.first_names = f"{person.first_names.split()[0]}-{'ABCD'[n]}"
            person.save(update_fields=["first_names"])
        seen.add(person.first_names.split()[0])
    return family


@pytest.fixture
def stranger(family):
    """The responsible person of a file of another Caf, with an account, whose first name is none
    of the family's (the export is checked for the absence of the stranger's name)."""
    stranger = make_household().responsible
    if stranger.person.first_names in {p.person.first_names for p in family.people}:
        stranger.person.first_names = f"{stranger.person.first_names}-Z"
        stranger.person.save(update_fields=["first_names"])
    return stranger


def contacts_of(person) -> list[str]:
    return [contact.value for contact in person.account.contacts.order_by("kind")]


def assert_nothing_of(text: str, *members) -> None:
    """None of these members' names, identifiers or contacts is in the text (a JSON dump)."""
    for member in members:
        person = member.person
        assert f'"{person.first_names}"' not in text and person.display_name not in text, person.first_names
        assert member.identifier not in text and member.identifier.replace(" ", "") not in text
        assert person.identifier_value not in text
        if member.account:
            for contact in contacts_of(person):
                assert contact not in text, contact


def me(person, **where) -> Actor:
    """The person acting for themselves on the web."""
    return Actor(channel=Channel.WEB, person=person, **where)


def _dump(data: dict) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)


def test_a_rectification_request_is_recorded_journaled_and_in_the_history(family):
    holder = family.responsible.person
    request = rectification_request(
        actor=me(holder, session_key="abc", client_address="198.51.100.7"),
        field="usage_name",
        message="  Mon nom d'usage est DURAND depuis mon mariage.  ",
    )
    assert request.state == RectificationState.TO_PROCESS
    assert request.message == "Mon nom d'usage est DURAND depuis mon mariage."
    assert request.processed_at is None and request.answer == ""
    entry = JournalEntry.objects.get(action="own_data.rectification_requested")
    assert entry.actor_person == holder and entry.subject_person == holder
    assert entry.client_address == "198.51.100.7"
    assert entry.detail == {"request": request.pk, "field": "usage_name"}
    assert entry.session_ref and entry.session_ref != "abc"
    assert rectification_requests_of(holder) == [request]
    assert rectification_requests_of(family.spouse.person) == []


def test_the_history_is_newest_first(family):
    holder = family.responsible.person
    first = rectification_request(actor=me(holder), field="birth_place", message="Je suis née à Lyon.")
    second = rectification_request(actor=me(holder), field="other", message="Autre chose.")
    assert rectification_requests_of(holder) == [second, first]


@pytest.mark.parametrize(
    ("field", "message", "at_fault", "words"),
    [
        ("usage_name", "", "message", "Décrivez l'erreur"),
        ("usage_name", "   \n ", "message", "Décrivez l'erreur"),
        ("usage_name", "x" * 2001, "message", "au plus 2000 caractères"),
        # A NIR with a wrong key (any NIR-shaped number is refused), spaced or not.
        ("identifier", "Mon numéro est 2 91 05 69 383 017 97", "message", "N'écrivez pas de numéro de sécurité"),
        ("identifier", "291056938301797", "message", "N'écrivez pas de numéro de sécurité"),
        ("salaire", "Une erreur.", "field", "Choisissez la donnée"),
        ("", "Une erreur.", "field", "Choisissez la donnée"),
    ],
)
def test_invalid_requests_are_refused_in_french(family, field, message, at_fault, words):
    holder = family.responsible.person
    with pytest.raises(RectificationError) as caught:
        rectification_request(actor=me(holder), field=field, message=message)
    assert caught.value.field == at_fault
    assert words in caught.value.message
    assert not RectificationRequest.objects.exists()
    assert not JournalEntry.objects.filter(action="own_data.rectification_requested").exists()


def test_the_page_data_masks_the_identifier_and_holds_only_own_memberships(family, stranger):
    holder = family.responsible.person
    raw = family.responsible.identifier  # "2 85 05 75 115 042 95"
    data = own_data(actor=me(holder))
    assert data.masked_identifier == f"{raw[0]} •• •• •• ••• ••• {raw[-2:]}"
    assert [m.dossier_numero for m in data.memberships] == [family.dossier.numero]
    assert [c.value for c in data.contacts] == contacts_of(holder)
    assert len(data.contacts) == 2  # an email and a phone


def test_the_responsible_persons_export_holds_their_data_and_nobody_elses(family, stranger):
    holder = family.responsible.person
    data = own_data_export(actor=me(holder))
    text = _dump(data)
    assert data["identite"]["identifiant"] == family.responsible.identifier
    assert data["identite"]["prenoms"] == holder.first_names
    assert [(m["numero_dossier"], m["role"], m["caf"]) for m in data["rattachements"]] == [
        (family.dossier.numero, "responsable", family.caf.name)
    ]
    assert data["rattachements"][0]["autorisation_de_gestion"] is None
    assert {c["valeur"] for c in data["coordonnees"]} == set(contacts_of(holder))
    assert all(c["validee_le"] for c in data["coordonnees"])
    assert data["compte"]["cree_le"] and data["compte"]["actif"] is True
    assert_nothing_of(text, family.spouse, family.child, family.young_child, stranger)
    # As a JSON value: a random birth name may be part of another word ("ROY" in "LEROY").
    assert family.dossier.address_line1 not in text and f'"{stranger.person.birth_name}"' not in text


def test_a_spouses_export_shows_the_delegation_state_of_his_own_membership(family):
    spouse = family.spouse.person
    membership = own_data_export(actor=me(spouse))["rattachements"][0]
    assert membership["role"] == "conjoint"
    assert membership["autorisation_de_gestion"] == {"accordee": False, "accordee_le": None}
    granted = timezone.now()
    Member.objects.filter(person=spouse).update(delegation_granted_at=granted)
    membership = own_data_export(actor=me(spouse))["rattachements"][0]
    assert membership["situation"] == "conjoint_autorise"
    assert membership["autorisation_de_gestion"]["accordee"] is True


def test_a_former_spouse_keeps_his_ended_membership_and_nothing_of_the_file(family):
    spouse = family.spouse.person
    ended = datetime.date.today() - datetime.timedelta(days=1)
    Member.objects.filter(person=spouse).update(ended_on=ended)
    data = own_data_export(actor=me(spouse))
    (membership,) = data["rattachements"]
    assert membership["situation"] == "ancien_conjoint"
    assert membership["jusqu_au"] == ended
    text = _dump(data)
    assert_nothing_of(text, family.responsible, family.child, family.young_child)
    assert family.dossier.address_line1 not in text


def _visitor(address: str) -> Actor:
    return Actor.visitor(channel=Channel.WEB, client_address=address)


def test_the_export_lists_journal_entries_caused_by_others(family, stranger):
    holder = family.responsible.person
    spouse = family.spouse.person
    dossier = family.dossier
    strangers_dossier = stranger.member.dossier
    # Someone tried the holder's identifier with a wrong password.
    journal_record(action="signin.failure", actor=_visitor("203.0.113.9"), subject_person=holder)
    # The spouse did something about the holder on their file (an action code this module does not know).
    journal_record(
        action="delegation.granted",
        actor=Actor(channel=Channel.WEB, person=spouse, client_address="192.0.2.44"),
        subject_person=holder,
        dossier=dossier,
    )
    # An entry naming a file the holder is not a member of: its number is not given.
    journal_record(action="home.view", actor=Actor(channel=Channel.WEB, person=holder), dossier=strangers_dossier)
    # Entries about other people only are not hers.
    journal_record(action="signin.failure", actor=_visitor("203.0.113.10"), subject_person=spouse)

    data = own_data_export(actor=me(holder))
    rows = {row["action"]: row for row in data["journal"]}
    failure = rows["signin.failure"]
    assert failure["action_libelle"] == "Échec de connexion (identifiant ou mot de passe incorrect)"
    assert failure["par"] == "non_identifie"
    assert failure["adresse_ip"] == "203.0.113.9"
    by_spouse = rows["delegation.granted"]
    assert by_spouse["action_libelle"] == "Autorisation de gestion accordée"
    assert by_spouse["par"] == "autre_personne"
    assert by_spouse["adresse_ip"] is None  # the spouse's address is theirs
    assert by_spouse["numero_dossier"] == dossier.numero
    assert rows["home.view"]["numero_dossier"] is None
    # The three entries above that name her (the factories journal no account creation).
    assert data["journal_total"] == len(data["journal"]) == 3
    text = _dump(data)
    assert "203.0.113.10" not in text and "192.0.2.44" not in text
    assert_nothing_of(text, family.spouse)
    assert strangers_dossier.numero not in text


def test_the_journal_of_the_export_is_capped_newest_first(family, monkeypatch):
    monkeypatch.setattr(own_data_module, "EXPORT_LIMIT", 3)
    holder = family.responsible.person
    for _ in range(5):
        journal_record(action="home.view", actor=Actor(channel=Channel.WEB, person=holder))
    journal_record(action="signout", actor=Actor(channel=Channel.WEB, person=holder))
    data = own_data_export(actor=me(holder))
    assert len(data["journal"]) == 3
    assert data["journal_total"] == 6
    assert data["journal_tronque"] is True
    assert data["journal"][0]["action"] == "signout"
    assert data["journal"][0]["action_libelle"] == "Déconnexion"


def test_the_export_lists_rectification_requests(family):
    holder = family.responsible.person
    rectification_request(actor=me(holder), field="birth_date", message="Je suis née le 15 mai.")
    (request,) = own_data_export(actor=me(holder))["demandes_de_rectification"]
    assert request["donnee"] == "birth_date"
    assert request["donnee_libelle"] == "Date de naissance"
    assert request["etat"] == "to_process" and request["etat_libelle"] == "À traiter"
    assert request["message"] == "Je suis née le 15 mai."


def test_action_labels_fall_back_to_the_code():
    assert action_label("signin.success") == "Connexion"
    assert action_label("not.known") == "not.known"
