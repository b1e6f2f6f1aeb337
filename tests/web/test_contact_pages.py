"""The contact details pages (/mon-compte/coordonnees/): the list linked from the home and
own-data pages, changing with the password, removing (not the last validated contact), and
nobody touching another account's contacts (issue 9, point 2)."""

import re

import pytest
from django.core import mail
from django.test import Client

from moncompte.accounts.models import Contact
from moncompte.audit.models import JournalEntry
from moncompte.notifications.models import Message
from tests.conftest import sign_in
from tests.factories import ContactFactory, make_household

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

LIST = "/mon-compte/coordonnees/"
VALIDATE = "/mon-compte/coordonnees/valider/"


def _remove_url(contact) -> str:
    return f"/mon-compte/coordonnees/{contact.pk}/supprimer/"


def _last_code() -> str:
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)


@pytest.fixture
def claire(family, client):
    """The responsible person, signed in, with her validated email and a validated mobile."""
    responsible = family.responsible
    phone = ContactFactory(account=responsible.account, phone=True, value="+33611223344")
    sign_in(client, *responsible.credentials)
    return responsible, responsible.account.contacts.get(kind="email"), phone


def test_the_list_shows_each_contact_with_its_state_in_agreement(client, claire):
    _, email, _ = claire
    body = client.get(LIST).content.decode()
    assert "<h1>Mes coordonnées</h1>" in body
    assert f"<strong>{email.value}</strong>" in body and "<strong>06 11 22 33 44</strong>" in body
    assert body.count("validée le ") == 1 and body.count("validé le ") == 1
    assert "vérifiée" not in body
    assert f'href="{VALIDATE}?canal=email"' in body and f'href="{VALIDATE}?canal=phone"' in body
    assert f'href="{_remove_url(email)}"' in body


@pytest.mark.parametrize("page", ["/mon-compte/", "/mon-compte/mes-donnees/"])
def test_home_and_own_data_link_to_the_contacts_page(client, claire, page):
    body = client.get(page).content.decode()
    assert f'href="{LIST}">Modifier mes coordonnées</a>' in body
    assert 'Téléphone mobile : 06 11 22 33 44 <span class="fr-badge fr-badge--success fr-badge--sm">validé le' in body
    assert "vérifiée" not in body


def test_a_missing_kind_can_be_added_and_the_channel_is_preselected(client, family):
    sign_in(client, *family.responsible.credentials)
    body = client.get(LIST).content.decode()
    assert "Aucun numéro de téléphone mobile n'est enregistré." in body
    assert "Ajouter un numéro de téléphone mobile" in body
    # The only validated contact: no removal, and the way to replace it instead.
    assert "Supprimer cette adresse" not in body and "Changer d&#x27;adresse électronique" in body
    assert "au moins un moyen de contact validé" in body
    choice = client.get(VALIDATE + "?canal=phone").content.decode()
    assert re.search(r'value="phone"\s+checked', choice)
    assert "Votre mot de passe actuel" in choice  # a contact is validated: a change asks the password


def test_a_change_needs_the_password_and_notifies_the_replaced_address(client, claire):
    responsible, email, _ = claire
    data = {"action": "envoyer", "channel": "email", "email": "nouvelle@example.org"}
    response = client.post(VALIDATE, data)
    assert response.status_code == 400 and "Saisissez votre mot de passe actuel." in response.content.decode()
    assert not [m for m in mail.outbox if m.to == ["nouvelle@example.org"]]
    client.post(VALIDATE, {**data, "current_password": responsible.password})
    response = client.post(VALIDATE, {"action": "valider", "code": _last_code()})
    assert response["Location"] == LIST

    notices = [m for m in mail.outbox if m.to == [email.value]]
    assert len(notices) == 1
    assert "n•••@e•••.org" in notices[0].body and "09 69 32 52 52" in notices[0].body
    assert "/aide/#nous-contacter" in notices[0].body
    # The new address got its code, and no notice.
    assert [m.subject for m in mail.outbox if m.to == ["nouvelle@example.org"]] == [
        "Votre code de validation Mon Compte"
    ]
    entry = JournalEntry.objects.get(action="contact.replaced", subject_person=responsible.person)
    assert entry.detail == {"kind": "email", "notified": 1}
    assert "validée le " in client.get(LIST).content.decode()


def test_removing_a_contact_that_is_not_the_last_works_and_notifies_it(client, claire):
    responsible, email, phone = claire
    page = client.get(_remove_url(email)).content.decode()
    assert "<h1>Supprimer cette adresse électronique</h1>" in page and "Votre mot de passe actuel" in page
    response = client.post(_remove_url(email), {"current_password": responsible.password})
    assert response["Location"] == LIST
    assert not Contact.objects.filter(pk=email.pk).exists()
    notices = [m for m in mail.outbox if m.to == [email.value]]
    assert len(notices) == 1 and "a été retirée" in notices[0].body and "09 69 32 52 52" in notices[0].body
    body = client.get(LIST).content.decode()
    assert "un message vous en informe à cette adresse" in body
    assert "Aucune adresse électronique n'est enregistrée." in body
    entry = JournalEntry.objects.get(action="contact.removed", subject_person=responsible.person)
    assert entry.detail == {"kind": "email", "validated": True, "notified": 1}
    # Now the mobile is the last validated contact: it stays.
    response = client.post(_remove_url(phone), {"current_password": responsible.password})
    assert response.status_code == 400
    assert "seul moyen de contact validé" in response.content.decode()
    assert Contact.objects.filter(pk=phone.pk).exists()


def test_the_last_validated_contact_cannot_be_removed(client, family):
    responsible = family.responsible
    email = responsible.account.contacts.get()
    sign_in(client, *responsible.credentials)
    page = client.get(_remove_url(email)).content.decode()
    assert "Suppression impossible" in page and "current_password" not in page
    assert "deviendrait inutilisable" in page and "Changer d&#x27;adresse électronique" in page
    response = client.post(_remove_url(email), {"current_password": responsible.password})
    assert response.status_code == 400 and "<title>Erreur" in response.content.decode()
    assert Contact.objects.filter(pk=email.pk).exists()
    assert not Message.objects.filter(template="contact_removed").exists()


def test_a_wrong_password_is_refused_throttled_and_journaled(client, claire, settings):
    responsible, _, phone = claire
    free = settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER
    statuses = [
        client.post(_remove_url(phone), {"current_password": "pas le bon"}).status_code for _ in range(free + 2)
    ]
    assert statuses == [400] * (free + 1) + [429]
    response = client.post(_remove_url(phone), {"current_password": responsible.password})
    assert response.status_code == 429 and "Trop de tentatives. Réessayez dans" in response.content.decode()
    assert Contact.objects.filter(pk=phone.pk).exists()
    failures = JournalEntry.objects.filter(action="reauth.failure", subject_person=responsible.person)
    assert failures.count() == free + 1 and failures.first().detail == {"purpose": "contact_remove"}
    assert JournalEntry.objects.filter(action="reauth.throttled").count() == 2


def test_another_persons_contact_can_never_be_touched(client, family):
    """A forged id of another account's contact answers 404, like one that does not exist."""
    stranger = make_household(caf=family.caf)
    theirs = ContactFactory(account=stranger.responsible.account, phone=True)
    # The responsible person holds two validated contacts: only the id is at fault.
    ContactFactory(account=family.responsible.account, phone=True)
    sign_in(client, *family.responsible.credentials)
    for target in (theirs, stranger.responsible.account.contacts.get(kind="email")):
        assert client.get(_remove_url(target)).status_code == 404
        response = client.post(_remove_url(target), {"current_password": family.responsible.password})
        assert response.status_code == 404
        assert Contact.objects.filter(pk=target.pk).exists()
    assert client.post("/mon-compte/coordonnees/999999999/supprimer/", {}).status_code == 404
    assert not Message.objects.filter(template="contact_removed").exists()
    assert not JournalEntry.objects.filter(action__in=["contact.removed", "reauth.failure"]).exists()


def test_the_contacts_pages_need_a_signed_in_person(family):
    anonymous = Client()
    email = family.responsible.account.contacts.get()
    for url in (LIST, _remove_url(email)):
        assert anonymous.get(url)["Location"].startswith("/connexion/")
    assert anonymous.post(_remove_url(email), {"current_password": family.responsible.password}).status_code == 302
    assert Contact.objects.filter(pk=email.pk).exists()
