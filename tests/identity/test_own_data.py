"""A person's own data: rectification requests and the export (moncompte.identity.own_data)."""

import datetime
import json

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from moncompte.audit.models import JournalEntry
from moncompte.audit.services import journal_record
from moncompte.core.actors import Actor, Channel
from moncompte.households.models import Dossier, Member
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
from tests.conftest import CLAIRE, LEA, MARC, SOFIA, person_of

pytestmark = pytest.mark.django_db


def me(person, **where) -> Actor:
    """The person acting for themselves on the web."""
    return Actor(channel=Channel.WEB, person=person, **where)


def _dump(data: dict) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False)


def test_a_rectification_request_is_recorded_journaled_and_in_the_history(demo):
    claire = person_of(CLAIRE[0])
    request = rectification_request(
        actor=me(claire, session_key="abc", client_address="198.51.100.7"),
        field="usage_name",
        message="  Mon nom d'usage est DURAND depuis mon mariage.  ",
    )
    assert request.state == RectificationState.TO_PROCESS
    assert request.message == "Mon nom d'usage est DURAND depuis mon mariage."
    assert request.processed_at is None and request.answer == ""
    entry = JournalEntry.objects.get(action="own_data.rectification_requested")
    assert entry.actor_person == claire and entry.subject_person == claire
    assert entry.client_address == "198.51.100.7"
    assert entry.detail == {"request": request.pk, "field": "usage_name"}
    assert entry.session_ref and entry.session_ref != "abc"
    assert rectification_requests_of(claire) == [request]
    assert rectification_requests_of(person_of(MARC[0])) == []


def test_the_history_is_newest_first(demo):
    claire = person_of(CLAIRE[0])
    first = rectification_request(actor=me(claire), field="birth_place", message="Je suis née à Lyon.")
    second = rectification_request(actor=me(claire), field="other", message="Autre chose.")
    assert rectification_requests_of(claire) == [second, first]


@pytest.mark.parametrize(
    ("field", "message", "at_fault", "words"),
    [
        ("usage_name", "", "message", "Décrivez l'erreur"),
        ("usage_name", "   \n ", "message", "Décrivez l'erreur"),
        ("usage_name", "x" * 2001, "message", "au plus 2000 caractères"),
        ("identifier", "Mon numéro est 2 85 05 75 115 042 96", "message", "N'écrivez pas de numéro de sécurité"),
        ("identifier", "285057511504296", "message", "N'écrivez pas de numéro de sécurité"),
        ("salaire", "Une erreur.", "field", "Choisissez la donnée"),
        ("", "Une erreur.", "field", "Choisissez la donnée"),
    ],
)
def test_invalid_requests_are_refused_in_french(demo, field, message, at_fault, words):
    claire = person_of(CLAIRE[0])
    with pytest.raises(RectificationError) as caught:
        rectification_request(actor=me(claire), field=field, message=message)
    assert caught.value.field == at_fault
    assert words in caught.value.message
    assert not RectificationRequest.objects.exists()
    assert not JournalEntry.objects.filter(action="own_data.rectification_requested").exists()


def test_the_page_data_masks_the_identifier_and_holds_only_own_memberships(demo):
    claire = person_of(CLAIRE[0])
    data = own_data(actor=me(claire))
    assert data.masked_identifier == "2 •• •• •• ••• ••• 95"
    assert [m.dossier_numero for m in data.memberships] == ["1234567"]
    assert [c.value for c in data.contacts] == ["claire.martin@example.fr", "+33611223344"]


def test_claires_export_holds_her_data_and_nobody_elses(demo):
    claire = person_of(CLAIRE[0])
    data = own_data_export(actor=me(claire))
    text = _dump(data)
    assert data["identite"]["identifiant"] == "2 85 05 75 115 042 95"
    assert data["identite"]["prenoms"] == "Claire Anne"
    assert [(m["numero_dossier"], m["role"], m["caf"]) for m in data["rattachements"]] == [
        ("1234567", "responsable", "Caf de Paris")
    ]
    assert data["rattachements"][0]["autorisation_de_gestion"] is None
    assert {c["valeur"] for c in data["coordonnees"]} == {"claire.martin@example.fr", "+33611223344"}
    assert all(c["validee_le"] for c in data["coordonnees"])
    assert data["compte"]["cree_le"] and data["compte"]["actif"] is True
    for other in ("Marc", "Léa", "Tom", "marc.martin", "lea.martin", "Sofia", "12 rue des Lilas"):
        assert other not in text, other
    for raw in (MARC[0], LEA[0], SOFIA[0]):
        assert raw not in text and raw.replace(" ", "") not in text


def test_a_spouses_export_shows_the_delegation_state_of_his_own_membership(demo):
    marc = person_of(MARC[0])
    membership = own_data_export(actor=me(marc))["rattachements"][0]
    assert membership["role"] == "conjoint"
    assert membership["autorisation_de_gestion"] == {"accordee": False, "accordee_le": None}
    granted = timezone.now()
    Member.objects.filter(person=marc).update(delegation_granted_at=granted)
    membership = own_data_export(actor=me(marc))["rattachements"][0]
    assert membership["situation"] == "conjoint_autorise"
    assert membership["autorisation_de_gestion"]["accordee"] is True


def test_a_former_spouse_keeps_his_ended_membership_and_nothing_of_the_file(demo):
    marc = person_of(MARC[0])
    ended = datetime.date.today() - datetime.timedelta(days=1)
    Member.objects.filter(person=marc).update(ended_on=ended)
    data = own_data_export(actor=me(marc))
    (membership,) = data["rattachements"]
    assert membership["situation"] == "ancien_conjoint"
    assert membership["jusqu_au"] == ended
    text = _dump(data)
    assert "Claire" not in text and "Léa" not in text and "rue des Lilas" not in text


def _visitor(address: str) -> Actor:
    return Actor.visitor(channel=Channel.WEB, client_address=address)


def test_the_export_lists_journal_entries_caused_by_others(demo):
    claire = person_of(CLAIRE[0])
    marc = person_of(MARC[0])
    dossier = Dossier.objects.get(numero="1234567")
    sofias_dossier = Dossier.objects.get(numero="7654321")
    # Someone tried Claire's identifier with a wrong password.
    journal_record(action="signin.failure", actor=_visitor("203.0.113.9"), subject_person=claire)
    # Marc did something about Claire on their file (an action code this module does not know).
    journal_record(
        action="delegation.granted",
        actor=Actor(channel=Channel.WEB, person=marc, client_address="192.0.2.44"),
        subject_person=claire,
        dossier=dossier,
    )
    # An entry naming a file Claire is not a member of: its number is not given.
    journal_record(action="home.view", actor=Actor(channel=Channel.WEB, person=claire), dossier=sofias_dossier)
    # Entries about other people only are not hers.
    journal_record(action="signin.failure", actor=_visitor("203.0.113.10"), subject_person=marc)

    data = own_data_export(actor=me(claire))
    rows = {row["action"]: row for row in data["journal"]}
    failure = rows["signin.failure"]
    assert failure["action_libelle"] == "Échec de connexion (identifiant ou mot de passe incorrect)"
    assert failure["par"] == "non_identifie"
    assert failure["adresse_ip"] == "203.0.113.9"
    by_marc = rows["delegation.granted"]
    assert by_marc["action_libelle"] == "Autorisation de gestion accordée"
    assert by_marc["par"] == "autre_personne"
    assert by_marc["adresse_ip"] is None  # Marc's address is his
    assert by_marc["numero_dossier"] == "1234567"
    assert rows["home.view"]["numero_dossier"] is None
    assert data["journal_total"] == len(data["journal"]) == 4  # with account.create
    text = _dump(data)
    assert "203.0.113.10" not in text and "192.0.2.44" not in text and "Marc" not in text


def test_the_journal_of_the_export_is_capped_newest_first(demo, monkeypatch):
    monkeypatch.setattr(own_data_module, "EXPORT_LIMIT", 3)
    claire = person_of(CLAIRE[0])
    for _ in range(5):
        journal_record(action="home.view", actor=Actor(channel=Channel.WEB, person=claire))
    journal_record(action="signout", actor=Actor(channel=Channel.WEB, person=claire))
    data = own_data_export(actor=me(claire))
    assert len(data["journal"]) == 3
    assert data["journal_total"] == 7
    assert data["journal_tronque"] is True
    assert data["journal"][0]["action"] == "signout"
    assert data["journal"][0]["action_libelle"] == "Déconnexion"


def test_the_export_lists_rectification_requests(demo):
    claire = person_of(CLAIRE[0])
    rectification_request(actor=me(claire), field="birth_date", message="Je suis née le 15 mai.")
    (request,) = own_data_export(actor=me(claire))["demandes_de_rectification"]
    assert request["donnee"] == "birth_date"
    assert request["donnee_libelle"] == "Date de naissance"
    assert request["etat"] == "to_process" and request["etat_libelle"] == "À traiter"
    assert request["message"] == "Je suis née le 15 mai."


def test_action_labels_fall_back_to_the_code():
    assert action_label("signin.success") == "Connexion"
    assert action_label("not.known") == "not.known"
