"""The account creation pages (/creer-mon-compte/), end to end with the codes read from the mails."""

import datetime
import json
import re

import pytest
from django.contrib.sessions.backends.cached_db import SessionStore
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.loader import render_to_string
from django.test import Client

from moncompte.accounts.models import Account
from moncompte.audit.models import JournalEntry
from moncompte.identity.identifiers import new_provisional_identifier, parse_identifier
from moncompte.identity.models import IdentityCheck, IdentityDocument, Person
from tests.accounts.test_signup import NEW_NIR, _pdf, _png, nir
from tests.conftest import sign_in

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

PASSWORD = "Tilleuls et 30 cerisiers"
NEW_NIR_TYPED = nir(NEW_NIR).display()  # "2 91 05 69 383 017 xx"


def identity_data(**overrides) -> dict:
    data = {
        "has_nir": "oui",
        "identifier": NEW_NIR_TYPED,
        "first_names": "Inès Marie",
        "birth_name": "Lefèvre",
        "usage_name": "",
        "birth_day": "17",
        "birth_month": "05",
        "birth_year": "1991",
        "sex": "F",
        "birth_country": "99100",
        "birth_place": "69383",
        "address_line1": "3 rue Garibaldi",
        "address_line2": "",
        "postal_code": "69003",
        "city": "Lyon",
    }
    data.update(overrides)
    return data


def declared(person, **overrides) -> dict:
    """The first step's fields for a known person's own identity, as they would type it."""
    born = person.birth_date
    return {
        "identifier": person.raw_identifier,
        "first_names": person.first_names,
        "birth_name": person.birth_name.title(),
        "sex": person.sex,
        "birth_day": str(born.day),
        "birth_month": str(born.month),
        "birth_year": str(born.year),
        "birth_place": person.birth_place_code,
        **overrides,
    }


def _last_code() -> str:
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


def _through_contact(client, email="ines@example.fr"):
    response = client.post("/creer-mon-compte/coordonnees/", {"action": "envoyer", "channel": "email", "email": email})
    assert response.status_code == 302, response.content.decode()
    assert mail.outbox[-1].to == [email]
    response = client.post("/creer-mon-compte/coordonnees/", {"action": "valider", "code": _last_code()})
    assert response["Location"] == "/creer-mon-compte/mot-de-passe/"


def _signup(client, **identity):
    response = client.post("/creer-mon-compte/", identity_data(**identity))
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == "/creer-mon-compte/coordonnees/"
    _through_contact(client)
    return client.post("/creer-mon-compte/mot-de-passe/", {"password": PASSWORD, "password_confirm": PASSWORD})


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_the_first_step_offers_both_ways(client):
    body = client.get("/creer-mon-compte/").content.decode()
    assert "J&#x27;ai un numéro de sécurité sociale" in body
    assert "Je n&#x27;ai pas de numéro de sécurité sociale" in body
    assert 'value="99100" selected' in body
    assert "demande de prestation" not in body
    # "From a request" without a request in progress: no promise of resuming one (issue 10, point
    # 3); with one, tests/web/test_procedure_visitor.py shows it along the flow.
    body = client.get("/creer-mon-compte/?depuis=demande").content.decode()
    assert "demande de prestation" not in body
    client.post("/creer-mon-compte/", identity_data())
    assert "demande de prestation" not in client.get("/creer-mon-compte/coordonnees/").content.decode()


def claimant(identifier=NEW_NIR_TYPED) -> Person:
    """The person who typed that NIR (it is a claim on their check until an agent accepts it)."""
    return IdentityCheck.objects.claiming(parse_identifier(identifier).value).get().person


def test_unknown_nir_end_to_end_then_the_identity_document(client, family, media):
    response = _signup(client)
    assert response["Location"] == "/creer-mon-compte/identifiant/"
    person = claimant()
    assert not Person.objects.with_identifier(nir(NEW_NIR).value).exists()
    account = Account.objects.get(person=person)
    assert client.session["_auth_user_id"] == str(account.pk)
    # The contact validated during the flow makes the account usable (a domain rule, not a session flag).
    assert account.contact_validated_at is not None
    assert JournalEntry.objects.filter(action="signup.signed_in", subject_person=person).exists()
    # The provisional identifier, once; the NIR will be bound after the check.
    body = client.get("/creer-mon-compte/identifiant/").content.decode()
    assert person.identifier.display() in body and "sera rattaché à votre compte quand un agent" in body

    page = client.get("/creer-mon-compte/justificatif/")
    assert page.status_code == 200
    body = page.content.decode()
    assert 'enctype="multipart/form-data"' in body and 'accept=".pdf,.jpg,.jpeg,.png"' in body
    response = client.post(
        "/creer-mon-compte/justificatif/",
        {"kind": "identity_card", "document": SimpleUploadedFile("recto.png", _png(), content_type="image/png")},
    )
    assert response["Location"] == "/creer-mon-compte/justificatif/envoye/"
    body = client.get(response["Location"]).content.decode()
    assert "Votre demande sera vérifiée par un agent" in body
    assert "Carte nationale d&#x27;identité" in body
    document = IdentityDocument.objects.get()
    assert document.identity_check.person == person and document.content_type == "image/png"

    # The account signs in and sees only its own page: no file, no benefit.
    home = client.get("/mon-compte/")
    assert home.status_code == 200
    body = home.content.decode()
    assert "Inès" in body and "Mon dossier" not in body and "Mon rattachement" not in body


def test_without_nir_the_provisional_identifier_is_shown_once_and_sent(client, family, media):
    response = _signup(client, has_nir="non", identifier="", birth_place="Lyon (69)")
    assert response["Location"] == "/creer-mon-compte/identifiant/"
    person = Person.objects.get(identifier_type="provisional", first_names="Inès Marie")
    shown = person.identifier.display()
    assert re.fullmatch(r"P-[0-9A-Z]{5}-[0-9A-Z]{5}", shown)
    body = client.get("/creer-mon-compte/identifiant/").content.decode()
    assert shown in body and "Notez-le" in body and "i•••@e•••.fr" in body
    assert any(shown in message.body for message in mail.outbox if message.to == ["ines@example.fr"])
    # Shown once: the page then leads to the document upload.
    again = client.get("/creer-mon-compte/identifiant/")
    assert again.status_code == 302 and again["Location"] == "/creer-mon-compte/justificatif/"
    assert shown not in client.get("/creer-mon-compte/justificatif/").content.decode()
    check = IdentityCheck.objects.get(person=person)
    assert check.birth_place_label == "Lyon (69)" and person.birth_place_code == ""
    # The person signs in with it later.
    client.post("/deconnexion/")
    other = Client()
    response = sign_in(other, shown.lower().replace("-", " "), PASSWORD)
    # Its first sign-in with it: the first-connection screens come first (moncompte.accounts.onboarding).
    assert response.status_code == 302 and response["Location"] == "/mon-compte/bienvenue/"


def test_the_first_steps_answer_the_same_for_known_and_unknown_numbers(client, family):
    known = client.post("/creer-mon-compte/", identity_data(**declared(family.responsible.person)))
    unknown = Client().post("/creer-mon-compte/", identity_data())
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]


def test_a_child_under_16_is_refused_at_the_first_step(client):
    today = datetime.date.today()
    response = client.post(
        "/creer-mon-compte/",
        identity_data(has_nir="non", identifier="", birth_year=str(today.year - 12), birth_month="01", birth_day="01"),
    )
    assert response.status_code == 400
    assert "Un compte personnel peut être créé à partir de 16 ans." in response.content.decode()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"identifier": "2 91 05 69 383 017 00"}, "La clé « 00 » ne correspond pas au numéro"),
        ({"identifier": ""}, "Saisissez votre numéro de sécurité sociale, ou choisissez"),
        ({"has_nir": ""}, "Indiquez si vous avez un numéro de sécurité sociale."),
        ({"first_names": ""}, "Saisissez vos prénoms."),
        ({"birth_name": ""}, "Saisissez votre nom de naissance."),
        ({"birth_day": "31", "birth_month": "02"}, "Cette date n&#x27;existe pas : vérifiez le jour et le mois."),
        ({"birth_day": "", "birth_month": "", "birth_year": ""}, "Saisissez votre date de naissance"),
        ({"birth_year": ""}, "Date de naissance incomplète : saisissez l&#x27;année."),
        ({"birth_year": "91"}, "L&#x27;année de naissance s&#x27;écrit avec 4 chiffres"),
        ({"birth_year": "2999"}, "La date de naissance ne peut pas être dans le futur."),
        # The one bound of moncompte.identity.normalise: not before 1 January 1890.
        ({"birth_year": "1889", "has_nir": "non", "identifier": ""}, "Vérifiez l&#x27;année de naissance."),
        ({"birth_day": "1er"}, "ne s&#x27;écrit qu&#x27;avec des chiffres"),
        ({"sex": ""}, "Indiquez votre sexe."),
        ({"sex": "M"}, "ne correspond pas au sexe indiqué"),
        ({"birth_year": "1992"}, "(l&#x27;année de naissance) ne correspondent pas"),
        ({"birth_place": "13055"}, "(le lieu de naissance) ne correspondent pas"),
        ({"birth_place": ""}, "Saisissez votre commune de naissance."),
        ({"birth_country": "99352"}, "indique une naissance en France"),
        ({"birth_country": "12345"}, "Choisissez votre pays de naissance dans la liste."),
        ({"address_line1": ""}, "Saisissez votre adresse."),
        ({"postal_code": "7501"}, "Le code postal compte 5 chiffres, par exemple 75011."),
        ({"city": ""}, "Saisissez votre commune."),
        ({"identifier": new_provisional_identifier().display()}, "Un identifiant provisoire est donné avec un compte"),
    ],
)
def test_bad_identity_gets_a_french_message_and_keeps_the_input(client, changes, message):
    data = identity_data(**changes)
    response = client.post("/creer-mon-compte/", data)
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert "Le formulaire contient des erreurs" in body
    for name in ("first_names", "birth_name", "address_line1", "postal_code", "city", "birth_place", "identifier"):
        if data[name] and name not in changes:
            assert f'value="{data[name]}"' in body, name
    if data["sex"] and "sex" not in changes:
        assert 'value="F" checked' in body
    if "birth_country" not in changes:
        assert 'value="99100" selected' in body


def test_steps_cannot_be_skipped(client):
    assert client.get("/creer-mon-compte/coordonnees/")["Location"] == "/creer-mon-compte/"
    assert client.get("/creer-mon-compte/mot-de-passe/")["Location"] == "/creer-mon-compte/"
    client.post("/creer-mon-compte/", identity_data())
    assert client.get("/creer-mon-compte/mot-de-passe/")["Location"] == "/creer-mon-compte/coordonnees/"
    # Pages of a created account need one.
    assert client.get("/creer-mon-compte/justificatif/")["Location"].startswith("/connexion/")
    assert client.get("/creer-mon-compte/identifiant/")["Location"].startswith("/connexion/")


def test_the_declaration_can_be_modified_and_is_shown_again(client):
    client.post("/creer-mon-compte/", identity_data(usage_name="Durand"))
    body = client.get("/creer-mon-compte/").content.decode()
    assert f'value="{NEW_NIR_TYPED}"' in body
    assert 'value="Durand"' in body and 'value="17"' in body and 'value="1991"' in body
    assert 'value="oui" checked' in body and 'value="F" checked' in body


def test_the_session_key_is_renewed_as_the_flow_starts_and_once_the_contact_is_proved(client):
    client.get("/creer-mon-compte/?depuis=demande")
    planted = client.session.session_key
    client.post("/creer-mon-compte/", identity_data())
    started = client.session.session_key
    assert started != planted
    _through_contact(client)
    assert client.session.session_key != started
    assert client.get("/creer-mon-compte/mot-de-passe/").status_code == 200


def test_the_nir_is_never_kept_in_clear_in_the_session(client):
    client.post("/creer-mon-compte/", identity_data())
    data = SessionStore(session_key=client.session.session_key).load()
    text = json.dumps(data)
    assert "Inès" in text or "In\\u00e8s" in text
    assert nir(NEW_NIR).value not in text and nir(NEW_NIR).value[:7] not in text


def test_wrong_code_and_contact_errors(client):
    client.post("/creer-mon-compte/", identity_data())
    response = client.post(
        "/creer-mon-compte/coordonnees/", {"action": "envoyer", "channel": "email", "email": "pas-une-adresse"}
    )
    assert response.status_code == 400 and 'value="pas-une-adresse"' in response.content.decode()
    client.post("/creer-mon-compte/coordonnees/", {"action": "envoyer", "channel": "email", "email": "i@example.fr"})
    right = _last_code()
    wrong = "000000" if right != "000000" else "111111"
    response = client.post("/creer-mon-compte/coordonnees/", {"action": "valider", "code": wrong})
    assert response.status_code == 400 and "Il vous reste 4 essais" in response.content.decode()
    assert client.get("/creer-mon-compte/mot-de-passe/")["Location"] == "/creer-mon-compte/coordonnees/"
    client.post("/creer-mon-compte/coordonnees/", {"action": "valider", "code": right})
    assert client.get("/creer-mon-compte/mot-de-passe/").status_code == 200
    # Another contact can still be chosen, and must be validated again.
    client.post("/creer-mon-compte/coordonnees/", {"action": "changer"})
    assert client.get("/creer-mon-compte/mot-de-passe/")["Location"] == "/creer-mon-compte/coordonnees/"


def test_password_errors_keep_nothing_typed(client):
    client.post("/creer-mon-compte/", identity_data())
    _through_contact(client)
    for password, confirm, message in [
        ("Lefevre et 30 cerisiers", "Lefevre et 30 cerisiers", "ni vos prénoms ni vos noms"),
        ("court1", "court1", "au moins 12 caractères : il en a 6"),
        (PASSWORD, PASSWORD + "x", "Les deux mots de passe ne sont pas identiques."),
        (
            "x " + nir(NEW_NIR).value + " y",
            "",
            "Le mot de passe ne doit pas contenir votre numéro de sécurité sociale.",
        ),
    ]:
        response = client.post("/creer-mon-compte/mot-de-passe/", {"password": password, "password_confirm": confirm})
        body = response.content.decode()
        assert response.status_code == 400 and message in body, message
        assert password not in body
    assert not Account.objects.exists()


def test_document_upload_errors(client, family, media, settings):
    _signup(client)
    for data, message in [
        ({"kind": "passport"}, "Ajoutez le fichier de votre justificatif."),
        ({"document": SimpleUploadedFile("a.pdf", _pdf())}, "Choisissez le type de document."),
        (
            {"kind": "passport", "document": SimpleUploadedFile("a.pdf", b"MZ\x90\x00" + b"\x00" * 60)},
            "ni un PDF, ni une image JPEG ou PNG",
        ),
        ({"kind": "passport", "document": SimpleUploadedFile("a.pdf", b"")}, "Le fichier est vide"),
    ]:
        response = client.post("/creer-mon-compte/justificatif/", data)
        assert response.status_code == 400 and message in response.content.decode(), message
    settings.MONCOMPTE_DOCUMENT_MAX_BYTES = 2000
    big = SimpleUploadedFile("a.pdf", b"%PDF-1.4\n" + b"0" * 300_000)
    response = client.post("/creer-mon-compte/justificatif/", {"kind": "passport", "document": big})
    body = response.content.decode()
    assert response.status_code == 400 and "Le fichier est trop volumineux : 2 Ko au maximum" in body
    assert 'value="passport" checked' in body
    assert not IdentityDocument.objects.exists()


def test_document_upload_needs_the_csrf_token(client, family, media):
    _signup(client)
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = client.cookies
    response = strict.post(
        "/creer-mon-compte/justificatif/", {"kind": "passport", "document": SimpleUploadedFile("a.pdf", _pdf())}
    )
    assert response.status_code == 403
    assert not IdentityDocument.objects.exists()


def test_people_with_an_account_are_sent_to_it(client, family):
    assert sign_in(client, *family.responsible.credentials).status_code == 302
    for path in ("/creer-mon-compte/", "/creer-mon-compte/coordonnees/", "/creer-mon-compte/mot-de-passe/"):
        assert client.get(path)["Location"] == "/mon-compte/"
    assert client.get("/creer-mon-compte/justificatif/")["Location"] == "/mon-compte/"
    assert client.get("/creer-mon-compte/identifiant/")["Location"] == "/mon-compte/"


def test_the_pending_check_notice_for_the_home_page(family, client):
    _signup(client)
    person = claimant()
    html = render_to_string("web/signup/_identity_check_notice.html", {"person": person})
    assert "Vérification de votre identité en cours" in html and "Envoyez votre pièce d" in html
    assert "identifiant provisoire" in html
    holder = Person.objects.with_identifier(parse_identifier(family.responsible.identifier).value).get()
    assert render_to_string("web/signup/_identity_check_notice.html", {"person": holder}).strip() == ""
