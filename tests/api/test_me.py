"""/api/v1/me/ and /api/v1/me/contacts/ (moncompte.api.v1.me): the identity as the own-data page
shows it (the identifier masked, never whole), the contacts as the contacts page lists them, and
the contact change with the password and a one-time code, through the very services of the pages
(the re-authentication counted per account across web and API, the replaced contact told, the
last validated contact kept). The code belongs to the API session it was asked from."""

import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client

from moncompte.accounts.models import Contact
from moncompte.audit.models import JournalEntry
from tests.api.api_clients import api_client, assert_error, json_of
from tests.conftest import sign_in
from tests.factories import AccountFactory, ContactFactory, api_token_for, bearer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

ME = "/api/v1/me/"
CONTACTS = "/api/v1/me/contacts/"
NEW_EMAIL = "nouvelle.adresse@example.org"


def _verify_url(pending_id: int) -> str:
    return f"{CONTACTS}{pending_id}/verify/"


def _code_sent_to(address: str) -> str:
    sent = [m for m in mail.outbox if m.to == [address]]
    assert sent, f"no message to {address}"
    return re.search(r"\b(\d{6})\b", sent[-1].body).group(1)


@pytest.fixture
def claire(family):
    """The responsible person, her validated email, and an API client of hers."""
    responsible = family.responsible
    return responsible, responsible.account.contacts.get(kind="email"), api_client(responsible.account)


# Identity ---------------------------------------------------------------------------------------


def test_me_gives_the_identity_as_the_own_data_page_with_the_identifier_masked(claire):
    responsible, email, api = claire
    person = responsible.person
    response = api.get(ME)
    assert response.status_code == 200
    body = json_of(response)
    assert (body["first_names"], body["birth_name"], body["usage_name"]) == (
        person.first_names,
        person.birth_name,
        person.usage_name,
    )
    assert body["birth_date"] == person.birth_date.isoformat()
    assert (body["sex"], body["sex_label"]) == (person.sex, person.get_sex_display())
    assert body["birth_place"] and body["birth_country"]
    assert body["identifier"]["masked"] == person.identifier.masked()
    # Never the whole identifier, in any form.
    raw = response.content.decode()
    digits = person.identifier.value
    for form in {responsible.identifier, digits, digits[:13]}:
        assert form not in raw
    assert [(c["kind"], c["value"], c["validated"]) for c in body["contacts"]] == [("email", email.value, True)]
    # The page shows the same masked identifier and birth place.
    web = Client()
    sign_in(web, *responsible.credentials)
    page = web.get("/mon-compte/mes-donnees/").content.decode()
    assert body["identifier"]["masked"] in page and body["birth_place"] in page
    # Journaled as the page's display, through the API channel.
    entry = JournalEntry.objects.filter(action="own_data.viewed", subject_person=person).order_by("id").first()
    assert entry.channel == "api"


def test_no_token_an_invalid_one_and_an_unusable_account_are_refused_in_json(family):
    assert_error(Client().get(ME), 401, "not_authenticated")
    # An unknown token is no authentication at all (django-oauth-toolkit): the same 401.
    response = Client().get(ME, HTTP_AUTHORIZATION="Bearer nimporte-quoi")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")
    # An account without a validated contact: the pages' rule, the same answer for every endpoint.
    unusable = AccountFactory(with_contact=False)
    for path in (ME, CONTACTS):
        body = assert_error(api_client(unusable).get(path), 403, "contact_required")
        assert "Validez d'abord une adresse électronique" in body["message"]


def test_the_token_is_taken_from_the_authorization_header_only(family):
    """Never from the query string (it would land in logs) nor from the body: 401 there."""
    token = api_token_for(family.responsible.account)
    assert_error(Client().get(ME, {"access_token": token}), 401, "not_authenticated")
    assert_error(Client().post(CONTACTS, {"access_token": token}), 401, "not_authenticated")
    assert Client().get(ME, **bearer(token)).status_code == 200


def test_an_expired_token_is_refused(family):
    api = api_client(family.responsible.account, seconds=-1)
    assert_error(api.get(ME), 401, "not_authenticated")


# The contacts list --------------------------------------------------------------------------


def test_the_contacts_list_is_paginated_with_each_contact_state_as_the_page(claire):
    responsible, email, api = claire
    phone = ContactFactory(account=responsible.account, phone=True, value="+33611223344")
    pending = ContactFactory(account=responsible.account, unverified=True)
    body = json_of(api.get(CONTACTS))
    assert body["count"] == 3 and body["next"] is None and body["previous"] is None
    rows = {row["id"]: row for row in body["results"]}
    assert rows[email.pk]["value"] == email.value and rows[email.pk]["validated"] is True
    assert rows[phone.pk]["value"] == "06 11 22 33 44" and rows[phone.pk]["masked"].endswith("44")
    assert rows[pending.pk]["validated"] is False and rows[pending.pk]["validated_at"] is None
    assert all(row["removable"] for row in rows.values())  # two validated: either may go
    page = json_of(api.get(CONTACTS + "?taille=1&page=2"))
    assert page["count"] == 3 and len(page["results"]) == 1 and page["previous"] and page["next"]
    assert_error(api.get(CONTACTS + "?page=99"), 404, "not_found")


# Changing a contact ---------------------------------------------------------------------------


def test_a_contact_change_needs_the_password_then_the_code_and_tells_the_replaced_contact(claire):
    responsible, email, api = claire
    response = api.post(CONTACTS, {"kind": "email", "value": NEW_EMAIL, "password": responsible.password})
    assert response.status_code == 202
    pending = json_of(response)
    assert pending["kind"] == "email" and pending["masked"] == "n•••@e•••.org"
    assert "Un code à 6 chiffres a été envoyé" in pending["message"]
    code = _code_sent_to(NEW_EMAIL)

    wrong = "000000" if code != "000000" else "111111"
    body = assert_error(api.post(_verify_url(pending["id"]), {"code": wrong}), 400, "code_wrong", field="code")
    assert body["message"].startswith("Le code saisi est incorrect. Il vous reste 4 essais")

    response = api.post(_verify_url(pending["id"]), {"code": code})
    assert response.status_code == 201
    contact = json_of(response)
    assert contact["value"] == NEW_EMAIL and contact["validated"] is True
    # The new address replaced the old one, which was told (as on the page).
    assert list(responsible.account.contacts.values_list("value", flat=True)) == [NEW_EMAIL]
    notices = [m for m in mail.outbox if m.to == [email.value]]
    assert len(notices) == 1 and "n•••@e•••.org" in notices[0].body
    assert JournalEntry.objects.get(action="contact.replaced", subject_person=responsible.person).channel == "api"
    # The code served once.
    assert_error(api.post(_verify_url(pending["id"]), {"code": code}), 400, "code_used", field="code")


def test_a_phone_number_is_normalised_and_a_bad_one_refused_in_french(claire):
    responsible, _, api = claire
    response = api.post(CONTACTS, {"kind": "phone", "value": "06 12 34 56 78", "password": responsible.password})
    assert response.status_code == 202 and json_of(response)["masked"].endswith("78")
    body = assert_error(
        api.post(CONTACTS, {"kind": "phone", "value": "01 44 55 66 77", "password": responsible.password}),
        400,
        "invalid",
        field="value",
    )
    assert body["errors"]["value"] == [
        "Ce numéro est celui d'un téléphone fixe, qui ne peut pas recevoir de SMS. "
        "Saisissez un numéro de téléphone mobile."
    ]


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"kind": "email", "value": NEW_EMAIL}, "password", "Saisissez votre mot de passe actuel."),
        ({"kind": "email", "value": "pas-une-adresse", "password": "x"}, "value", "Saisissez une adresse électronique"),
        ({"kind": "fax", "value": NEW_EMAIL, "password": "x"}, "kind", "Choisissez « email » ou « phone »."),
        ({"kind": "email", "password": "x"}, "value", "Saisissez votre adresse électronique"),
        ({"kind": "email", "value": "a" * 300, "password": "x"}, "value", "au plus 254"),
    ],
)
def test_bad_bodies_are_refused_in_french_and_send_nothing(claire, data, field, message):
    _, _, api = claire
    body = assert_error(api.post(CONTACTS, data), 400, "invalid", field=field)
    assert body["message"] == "Certaines informations sont à corriger."
    assert any(text.startswith(message) or message in text for text in body["errors"][field]), body
    assert not mail.outbox


def test_malformed_json_and_another_format_are_refused(claire):
    _, _, api = claire
    response = api.generic("POST", CONTACTS, "{pas du json", content_type="application/json")
    assert_error(response, 400, "malformed")
    response = api.generic("POST", CONTACTS, "kind=email", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")
    body = assert_error(api.post(CONTACTS, ["une", "liste"]), 400, "invalid")
    assert body["errors"]["non_field_errors"]


def test_a_wrong_password_is_counted_with_the_web_forms_and_throttled(claire):
    responsible, _, api = claire
    data = {"kind": "email", "value": NEW_EMAIL, "password": "pas le bon"}
    body = assert_error(api.post(CONTACTS, data), 400, "wrong_password", field="password")
    assert body["message"] == "Mot de passe incorrect."
    assert JournalEntry.objects.filter(action="reauth.failure", channel="api").count() == 1
    # The one re-authentication counter of the account: the page's wrong tries add up with the API's.
    web = Client()
    sign_in(web, *responsible.credentials)
    free = settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER
    for _ in range(free):
        form = {"action": "envoyer", "channel": "email", "email": NEW_EMAIL, "current_password": "pas le bon"}
        assert web.post("/mon-compte/coordonnees/valider/", form).status_code == 400
    response = api.post(CONTACTS, {**data, "password": responsible.password})
    body = assert_error(response, 429, "throttled", field="password")
    assert body["message"].startswith("Trop de tentatives. Réessayez dans ")
    assert int(response["Retry-After"]) == body["wait_seconds"] >= 1
    assert not [m for m in mail.outbox if m.to == [NEW_EMAIL]]
    assert JournalEntry.objects.filter(action="reauth.throttled", channel="api").exists()


def test_a_second_code_to_the_same_address_waits(claire):
    responsible, _, api = claire
    data = {"kind": "email", "value": NEW_EMAIL, "password": responsible.password}
    assert api.post(CONTACTS, data).status_code == 202
    body = assert_error(api.post(CONTACTS, data), 429, "code_send_refused")
    assert body["message"].startswith("Un code vient de vous être envoyé.")


def test_the_code_belongs_to_the_api_session_it_was_asked_from(claire):
    responsible, _, api = claire
    pending = json_of(api.post(CONTACTS, {"kind": "email", "value": NEW_EMAIL, "password": responsible.password}))
    code = _code_sent_to(NEW_EMAIL)
    # Another sign-in of the same account (another token family) does not see this pending code.
    other_session = api_client(responsible.account)
    assert_error(other_session.post(_verify_url(pending["id"]), {"code": code}), 404, "not_found")
    # Nor another person, nor an id that is not the pending one.
    stranger = api_client(AccountFactory())
    assert_error(stranger.post(_verify_url(pending["id"]), {"code": code}), 404, "not_found")
    assert_error(api.post(_verify_url(pending["id"] + 1), {"code": code}), 404, "not_found")
    assert_error(api.post(_verify_url(pending["id"]), {}), 400, "invalid", field="code")
    assert not Contact.objects.filter(value=NEW_EMAIL).exists()
    assert api.post(_verify_url(pending["id"]), {"code": code}).status_code == 201


# Removing a contact ---------------------------------------------------------------------------


def test_removing_a_contact_asks_the_password_and_keeps_the_last_validated_one(claire):
    responsible, email, api = claire
    body = assert_error(api.delete(f"{CONTACTS}{email.pk}/", {"password": responsible.password}), 400, "last_contact")
    assert "c'est le seul moyen de contact validé de votre compte" in body["message"]
    phone = ContactFactory(account=responsible.account, phone=True, value="+33611223344")
    assert_error(api.delete(f"{CONTACTS}{email.pk}/"), 400, "invalid", field="password")
    assert_error(
        api.delete(f"{CONTACTS}{email.pk}/", {"password": "pas le bon"}), 400, "wrong_password", field="password"
    )
    response = api.delete(f"{CONTACTS}{email.pk}/", {"password": responsible.password})
    assert response.status_code == 204 and not response.content
    assert list(responsible.account.contacts.all()) == [phone]
    assert [m for m in mail.outbox if m.to == [email.value]]  # the removed address is told
    assert JournalEntry.objects.get(action="contact.removed", subject_person=responsible.person).channel == "api"


def test_nobody_removes_another_accounts_contact(claire, family):
    responsible, email, _ = claire
    other = family.spouse.account
    response = api_client(other).delete(f"{CONTACTS}{email.pk}/", {"password": family.spouse.password})
    assert_error(response, 404, "not_found")
    assert_error(api_client(other).delete(f"{CONTACTS}99999999999999999999/"), 404, "not_found")
    assert Contact.objects.filter(pk=email.pk).exists()
