"""/api/v1/delegation/ (moncompte.api.v1.delegation): the autorisation de gestion as the pages
show and change it, through the same services (the policy first, then the one re-authentication,
the change journaled and told to both spouses). Whoever the policy refuses gets 404, before any
password is checked."""

import pytest
from django.core import mail
from django.test import Client

from moncompte.audit.models import JournalEntry
from moncompte.households.models import Member
from tests.api.api_clients import api_client, assert_error, json_of
from tests.conftest import sign_in
from tests.factories import make_household

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("deliver_messages")]

DELEGATION = "/api/v1/delegation/"


def _spouse_row(family) -> Member:
    return Member.objects.get(pk=family.spouse.member.pk)


def test_the_responsible_person_grants_then_revokes_with_her_password(family):
    api = api_client(family.responsible.account)
    state = json_of(api.get(DELEGATION))
    assert state == {
        "file_id": family.dossier.pk,
        "spouse": {"display_name": family.spouse.person.display_name, "is_me": False},
        "granted": False,
        "granted_at": None,
        "can_grant": True,
        "can_revoke": False,
        "can_renounce": False,
    }
    body = assert_error(
        api.post(DELEGATION + "grant/", {"password": "pas le bon"}), 400, "wrong_password", field="password"
    )
    assert body["message"] == "Mot de passe incorrect."
    assert _spouse_row(family).delegation_granted_at is None
    assert JournalEntry.objects.filter(action="reauth.failure", channel="api").count() == 1

    response = api.post(DELEGATION + "grant/", {"password": family.responsible.password})
    assert response.status_code == 200
    change = json_of(response)
    assert change["change"] == "granted"
    assert change["message"] == f"{family.spouse.person.display_name} est maintenant autorisé(e) à gérer le dossier."
    assert _spouse_row(family).delegation_granted_at is not None
    assert JournalEntry.objects.get(action="delegation.granted", dossier=family.dossier).channel == "api"
    told = {address for m in mail.outbox for address in m.to}
    for person in (family.responsible, family.spouse):
        assert person.account.contacts.get().value in told

    state = json_of(api.get(DELEGATION))
    assert state["granted"] is True and state["can_revoke"] is True and state["can_grant"] is False
    assert_error(api.post(DELEGATION + "grant/", {"password": family.responsible.password}), 400, "already_granted")
    assert_error(api.post(DELEGATION + "renounce/", {"password": family.responsible.password}), 404, "not_found")

    change = json_of(api.post(DELEGATION + "revoke/", {"password": family.responsible.password}))
    assert change["change"] == "revoked"
    assert _spouse_row(family).delegation_granted_at is None
    assert_error(api.post(DELEGATION + "revoke/", {"password": family.responsible.password}), 400, "not_granted")


def test_the_delegated_spouse_may_only_renounce_and_then_sees_nothing(delegated_family):
    family = delegated_family
    api = api_client(family.spouse.account)
    state = json_of(api.get(DELEGATION))
    assert state["spouse"]["is_me"] is True and state["granted"] is True
    assert (state["can_grant"], state["can_revoke"], state["can_renounce"]) == (False, False, True)
    for refused in ("grant/", "revoke/"):
        assert_error(api.post(DELEGATION + refused, {"password": family.spouse.password}), 404, "not_found")
    change = json_of(api.post(DELEGATION + "renounce/", {"password": family.spouse.password}))
    assert change == {
        "change": "renounced",
        "at": change["at"],
        "message": "Vous avez renoncé à l'autorisation de gérer le dossier.",
    }
    assert _spouse_row(family).delegation_granted_at is None
    assert JournalEntry.objects.get(action="delegation.renounced", dossier=family.dossier).channel == "api"
    # Now S: neither the delegation nor the file.
    assert_error(api.get(DELEGATION), 404, "not_found")
    assert_error(api.get(f"/api/v1/files/{family.dossier.pk}/"), 404, "not_found")


@pytest.mark.parametrize("who", ["spouse", "child"])
def test_the_others_get_404_before_any_password_is_checked(family, who):
    person = getattr(family, who)
    api = api_client(person.account)
    assert_error(api.get(DELEGATION), 404, "not_found")
    for change in ("grant/", "revoke/", "renounce/"):
        assert_error(api.post(DELEGATION + change, {"password": "pas le bon"}), 404, "not_found")
    assert not JournalEntry.objects.filter(action="reauth.failure").exists()
    # The same as the page.
    web = Client()
    sign_in(web, *person.credentials)
    assert web.get("/mon-compte/foyer/autorisation/").status_code == 404


def test_a_file_without_spouse_has_no_delegation_as_on_the_page(family):
    Member.objects.filter(pk=family.spouse.member.pk).delete()
    assert_error(api_client(family.responsible.account).get(DELEGATION), 404, "not_found")
    body = assert_error(
        api_client(family.responsible.account).post(DELEGATION + "grant/", {"password": family.responsible.password}),
        400,
        "no_spouse",
    )
    assert body["message"] == "Aucun conjoint ou conjointe n'est rattaché(e) à ce dossier."


def test_bad_bodies_no_token_and_a_stranger(family):
    api = api_client(family.responsible.account)
    body = assert_error(api.post(DELEGATION + "grant/", {}), 400, "invalid", field="password")
    assert body["errors"] == {"password": ["Saisissez votre mot de passe actuel."]}
    assert_error(api.post(DELEGATION + "grant/", {"password": ""}), 400, "invalid", field="password")
    assert_error(api.post(DELEGATION + "grant/", {"password": "x" * 2000}), 400, "invalid", field="password")
    assert_error(api.get(DELEGATION + "grant/"), 405, "method_not_allowed")
    assert_error(Client().post(DELEGATION + "grant/", {}, content_type="application/json"), 401, "not_authenticated")
    response = api.generic("POST", DELEGATION + "grant/", "password=x", content_type="text/plain")
    assert_error(response, 415, "unsupported_media_type")
    # The responsible person of another file of the same Caf acts on her own file only.
    stranger = make_household(caf=family.caf)
    api_client(stranger.responsible.account).post(DELEGATION + "grant/", {"password": stranger.responsible.password})
    assert _spouse_row(family).delegation_granted_at is None
    assert Member.objects.get(pk=stranger.spouse.member.pk).delegation_granted_at is not None
