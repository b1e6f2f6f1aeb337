"""Pages of the person's own data (/mon-compte/mes-donnees/): display, rectification, exports."""

import json
from dataclasses import dataclass

import pytest
from django.test import Client
from django.utils.html import escape

from moncompte.audit.models import JournalEntry
from moncompte.identity.models import RectificationRequest
from tests.conftest import sign_in
from tests.factories import HouseholdPerson, make_household

pytestmark = pytest.mark.django_db

PAGE = "/mon-compte/mes-donnees/"
RECTIFY = "/mon-compte/mes-donnees/rectification/"
EXPORT_JSON = "/mon-compte/mes-donnees/export.json"
EXPORT_HTML = "/mon-compte/mes-donnees/export/"

WHO = ["responsible", "spouse", "child", "stranger"]
OWN_ROLE = {"responsible": "responsable", "spouse": "conjoint", "child": "enfant", "stranger": "responsable"}
# First names chosen for these tests, found nowhere on the pages but where the person is named:
# the pages are checked for the absence of the others' names.
FIRST_NAMES = {
    "responsible": "Aurélienne",
    "spouse": "Barnabé",
    "child": "Sidonie",
    "young_child": "Théophane",
    "stranger": "Eulalie",
}


@dataclass
class Sign:
    """What identifies a person on a page: first name, e-mail, identifier as typed; their file."""

    member: HouseholdPerson
    name: str
    email: str
    raw: str
    file: str


@pytest.fixture
def signs(db) -> dict[str, Sign]:
    """A family (R, spouse, child of 17 with accounts, child of 10 without) and the responsible
    person of a file of another Caf, by role."""
    family, other = make_household(), make_household()
    members = {
        "responsible": family.responsible,
        "spouse": family.spouse,
        "child": family.child,
        "young_child": family.young_child,
        "stranger": other.responsible,
    }
    signs = {}
    for who, member in members.items():
        member.person.first_names = FIRST_NAMES[who]
        member.person.save(update_fields=["first_names"])
        email = member.account.contacts.get(kind="email").value if member.account else None
        signs[who] = Sign(member, FIRST_NAMES[who], email, member.identifier, member.member.dossier.numero)
    # What the files hold beyond anyone's own membership: addresses, benefits.
    signs["file_contents"] = [
        escape(family.dossier.address_line1),
        escape(other.dossier.address_line1),
        "Allocations familiales",
        FIRST_NAMES["young_child"],
    ]
    return signs


def _signed_in(client, signs, who: str):
    response = sign_in(client, *signs[who].member.credentials)
    assert response.status_code == 302
    return client


def _others_absent(body: str, signs, who: str):
    for other in WHO:
        if other == who:
            continue
        name, email, raw = signs[other].name, signs[other].email, signs[other].raw
        assert name not in body, (who, other)
        assert email not in body, (who, other)
        assert raw not in body and raw.replace(" ", "") not in body, (who, other)
    # Nothing of the file beyond the person's own membership: no address, no payments, no young child.
    for file_content in signs["file_contents"]:
        assert file_content not in body, (who, file_content)


def test_anonymous_visitors_are_sent_to_sign_in(client, signs):
    for path in (PAGE, EXPORT_JSON, EXPORT_HTML):
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"].startswith(f"/connexion/?next={path}")
    response = client.post(RECTIFY, {"field": "other", "message": "Bonjour"})
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")
    assert not RectificationRequest.objects.exists()


@pytest.mark.parametrize("who", WHO)
def test_each_person_sees_only_their_own_data_on_the_page(client, signs, who):
    _signed_in(client, signs, who)
    response = client.get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    name, email, raw = signs[who].name, signs[who].email, signs[who].raw
    assert name in body and email in body
    assert signs[who].file in body
    # The identifier is masked on the page.
    assert raw not in body and raw[0] + " •• •• •• ••• ••• " + raw[-2:] in body
    assert "Signaler une erreur" in body and EXPORT_JSON in body and EXPORT_HTML in body
    _others_absent(body, signs, who)


@pytest.mark.parametrize("who", WHO)
def test_each_person_exports_only_their_own_data(client, signs, who):
    _signed_in(client, signs, who)
    response = client.get(EXPORT_JSON)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="mes-donnees-mon-compte.json"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    text = response.content.decode("utf-8")
    data = json.loads(text)
    assert set(data) >= {
        "document",
        "identite",
        "coordonnees",
        "rattachements",
        "compte",
        "sessions",
        "demandes_de_rectification",
        "journal",
    }
    name, email, raw = signs[who].name, signs[who].email, signs[who].raw
    assert data["identite"]["identifiant"] == raw  # in full: the holder's right of access
    assert name in data["identite"]["prenoms"]
    assert [c["valeur"] for c in data["coordonnees"] if c["type"] == "email"] == [email]
    assert [(m["numero_dossier"], m["role"]) for m in data["rattachements"]] == [(signs[who].file, OWN_ROLE[who])]
    assert data["sessions"] and data["sessions"][0]["ouverte_le"]
    assert {"signin.success", "own_data.exported"} <= {e["action"] for e in data["journal"]}
    _others_absent(text, signs, who)

    html = client.get(EXPORT_HTML)
    assert html.status_code == 200
    assert html["Content-Type"].startswith("text/html")
    assert "no-store" in html["Cache-Control"]
    body = html.content.decode()
    # The role by its label, not its internal code ("Enfant", not "Enfant (enfant)").
    assert raw in body and name in body and signs[who].file in body and f"<td>{OWN_ROLE[who].capitalize()}" in body
    assert "Connexion" in body and "Téléchargement de mes données" in body
    assert "own-data-export.css" in body
    _others_absent(body, signs, who)


def test_the_responsible_persons_export_has_the_file_and_role_but_not_the_family(client, signs):
    _signed_in(client, signs, "responsible")
    text = client.get(EXPORT_JSON).content.decode()
    assert signs["responsible"].file in text and "responsable" in text
    assert signs["child"].name not in text and signs["spouse"].name not in text


def test_the_childs_export_does_not_hold_the_responsible_persons_name(signs):
    client = _signed_in(Client(), signs, "child")
    for path in (EXPORT_JSON, EXPORT_HTML):
        body = client.get(path).content.decode()
        role = "enfant" if path == EXPORT_JSON else "<td>Enfant</td>"
        assert signs["child"].name in body and signs["responsible"].name not in body and role in body


def test_displays_and_exports_are_journaled(client, signs):
    _signed_in(client, signs, "responsible")
    holder = signs["responsible"].member.person
    client.get(PAGE)
    client.get(EXPORT_JSON)
    client.get(EXPORT_HTML)
    viewed = JournalEntry.objects.filter(action="own_data.viewed")
    assert viewed.count() == 1 and viewed.get().actor_person == holder and viewed.get().subject_person == holder
    exported = JournalEntry.objects.filter(action="own_data.exported", subject_person=holder).order_by("id")
    assert [e.detail["format"] for e in exported] == ["json", "html"]
    assert all(e.session_ref and e.client_address == "127.0.0.1" for e in exported)


def test_a_failed_sign_in_by_someone_else_is_in_the_export(client, signs):
    stranger = Client(REMOTE_ADDR="203.0.113.9")
    assert sign_in(stranger, signs["responsible"].raw, "not her password").status_code == 401
    _signed_in(client, signs, "responsible")
    data = json.loads(client.get(EXPORT_JSON).content)
    (failure,) = [e for e in data["journal"] if e["action"] == "signin.failure"]
    assert failure["adresse_ip"] == "203.0.113.9"
    assert failure["action_libelle"] == "Échec de connexion (identifiant ou mot de passe incorrect)"
    body = client.get(EXPORT_HTML).content.decode()
    assert "Échec de connexion" in body and "203.0.113.9" in body


def test_a_rectification_request_is_recorded_and_shown_in_the_history(client, signs):
    _signed_in(client, signs, "responsible")
    response = client.post(RECTIFY, {"field": "usage_name", "message": "Mon nom d'usage est DURAND."})
    assert response.status_code == 302 and response["Location"] == PAGE
    request = RectificationRequest.objects.get()
    assert request.person == signs["responsible"].member.person and request.field == "usage_name"
    assert JournalEntry.objects.filter(
        action="own_data.rectification_requested", subject_person=request.person
    ).exists()
    body = client.get(PAGE).content.decode()
    assert "Votre signalement a bien été enregistré" in body
    assert "Historique de mes signalements" in body
    assert "Mon nom d&#x27;usage est DURAND." in body and "À traiter" in body
    # Nobody else sees it.
    spouse_page = _signed_in(Client(), signs, "spouse").get(PAGE).content.decode()
    assert "DURAND" not in spouse_page and "Vous n'avez signalé aucune erreur." in spouse_page


def test_an_empty_message_is_refused_in_french_and_the_choice_kept(client, signs):
    _signed_in(client, signs, "responsible")
    response = client.post(RECTIFY, {"field": "birth_place", "message": "  "})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Décrivez l&#x27;erreur que vous avez constatée." in body
    assert '<option value="birth_place" selected>' in body
    assert 'aria-invalid="true"' in body
    assert not RectificationRequest.objects.exists()


def test_an_unknown_field_is_refused_and_the_message_kept(client, signs):
    _signed_in(client, signs, "responsible")
    response = client.post(RECTIFY, {"field": "salaire", "message": "Mon salaire est faux."})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Choisissez la donnée qui contient l&#x27;erreur dans la liste." in body
    assert "Mon salaire est faux.</textarea>" in body
    assert not RectificationRequest.objects.exists()


def test_a_message_holding_a_social_security_number_is_refused(client, signs):
    _signed_in(client, signs, "responsible")
    message = f"Le bon numéro : {signs['responsible'].raw}"
    response = client.post(RECTIFY, {"field": "identifier", "message": message})
    assert response.status_code == 400
    assert "N&#x27;écrivez pas de numéro de sécurité sociale" in response.content.decode()
    assert not RectificationRequest.objects.exists()


def test_a_too_long_message_is_refused(client, signs):
    _signed_in(client, signs, "responsible")
    response = client.post(RECTIFY, {"field": "other", "message": "a" * 2001})
    assert response.status_code == 400
    assert "au plus 2000 caractères (il en fait 2001)" in response.content.decode()


def test_the_rectification_route_takes_post_only(client, signs):
    _signed_in(client, signs, "responsible")
    assert client.get(RECTIFY).status_code == 405


def test_home_links_to_own_data(client, signs):
    _signed_in(client, signs, "responsible")
    assert PAGE in client.get("/mon-compte/").content.decode()
