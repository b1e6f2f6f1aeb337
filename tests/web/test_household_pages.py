"""Household page /mon-compte/foyer/, delegation and separation pages (moncompte.web.household.views)."""

import datetime

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from moncompte.audit.models import JournalEntry
from moncompte.households.models import Member, Role, SituationChange
from tests.conftest import CLAIRE, LEA, MARC, SOFIA, sign_in

pytestmark = pytest.mark.django_db

ADDRESS = {"address_line1": "3 rue des Acacias", "address_line2": "", "postal_code": "69003", "city": "Lyon"}


def _spouse():
    return Member.objects.get(role=Role.CONJOINT, dossier__numero="1234567")


def _signed_in(who) -> Client:
    client = Client()
    sign_in(client, *who)
    return client


def _separation_form(**changes):
    data = {"separated_on": timezone.localdate().isoformat(), "leaving": "moi", **ADDRESS, "confirm": "1"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# Household page ---------------------------------------------------------------------------------


def test_claire_sees_the_members_their_roles_and_accounts(demo):
    client = _signed_in(CLAIRE)
    response = client.get("/mon-compte/foyer/")
    assert response.status_code == 200
    body = response.content.decode()
    for name in ("Claire MARTIN", "Marc MARTIN", "Léa MARTIN", "Tom MARTIN"):
        assert name in body
    assert "Responsable du dossier" in body and "Conjoint ou conjointe" in body
    assert body.count("n'a pas de compte") == 1  # Tom, 13, has none
    assert body.count(">a un compte<") == 3
    assert "Autoriser Marc MARTIN à gérer le dossier" in body
    assert "Retirer l'autorisation" not in body and "Renoncer" not in body
    assert "Déclarer une séparation" in body
    assert "BENALI" not in body
    assert JournalEntry.objects.filter(action="household.view").count() == 1


def test_home_links_to_the_household_page_only_for_who_may_see_it(demo):
    assert 'href="/mon-compte/foyer/"' in _signed_in(CLAIRE).get("/mon-compte/").content.decode()
    assert 'href="/mon-compte/foyer/"' not in _signed_in(MARC).get("/mon-compte/").content.decode()
    assert 'href="/mon-compte/foyer/"' not in _signed_in(LEA).get("/mon-compte/").content.decode()


@pytest.mark.parametrize("who", [MARC, LEA], ids=["spouse-without-delegation", "child"])
def test_household_page_is_not_found_for_who_may_not_see_it(demo, who):
    client = _signed_in(who)
    assert client.get("/mon-compte/foyer/").status_code == 404
    assert client.get("/mon-compte/foyer/autorisation/").status_code == 404


def test_child_has_no_separation_page(demo):
    assert _signed_in(LEA).get("/mon-compte/foyer/separation/").status_code == 404


def test_sofia_sees_only_her_own_file(demo):
    response = _signed_in(SOFIA).get("/mon-compte/foyer/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Sofia BENALI" in body and "7654321" in body
    assert "MARTIN" not in body and "1234567" not in body
    # No spouse: nothing to grant and no separation to declare.
    assert "Autoriser" not in body and "séparation" not in body
    assert _signed_in(SOFIA).get("/mon-compte/foyer/autorisation/").status_code == 404


def test_delegated_spouse_sees_the_household_and_may_only_renounce(demo):
    Member.objects.filter(pk=_spouse().pk).update(delegation_granted_at=timezone.now())
    client = _signed_in(MARC)
    body = client.get("/mon-compte/foyer/").content.decode()
    assert "Claire MARTIN" in body and "Renoncer à l'autorisation" in body
    assert "Autoriser" not in body and "Retirer l'autorisation" not in body
    page = client.get("/mon-compte/foyer/autorisation/").content.decode()
    assert "Renoncer à l'autorisation" in page


def test_household_pages_need_sign_in(client, demo):
    for path in ("/mon-compte/foyer/", "/mon-compte/foyer/autorisation/", "/mon-compte/foyer/separation/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/connexion/")


# Delegation: the effect at once ------------------------------------------------------------------


def test_grant_then_revoke_takes_effect_on_the_spouse_next_request(demo, deliver_messages):
    claire, marc = _signed_in(CLAIRE), _signed_in(MARC)
    assert "Derniers paiements" not in marc.get("/mon-compte/").content.decode()

    response = claire.post("/mon-compte/foyer/autorisation/", {"intent": "accorder", "password": CLAIRE[1]})
    assert response.status_code == 302 and response["Location"] == "/mon-compte/foyer/"
    assert "Marc MARTIN est maintenant autorisé(e)" in claire.get("/mon-compte/foyer/").content.decode()
    body = marc.get("/mon-compte/").content.decode()  # same session as before
    assert "Derniers paiements" in body and "148,52" in body
    assert marc.get("/mon-compte/foyer/").status_code == 200
    assert sorted(m.to[0] for m in mail.outbox) == ["claire.martin@example.fr", "marc.martin@example.fr"]

    assert "Retirer l'autorisation de gestion de Marc MARTIN" in claire.get("/mon-compte/foyer/").content.decode()
    response = claire.post("/mon-compte/foyer/autorisation/", {"intent": "retirer", "password": CLAIRE[1]})
    assert response.status_code == 302
    body = marc.get("/mon-compte/").content.decode()
    assert "Derniers paiements" not in body and "148,52" not in body
    assert marc.get("/mon-compte/foyer/").status_code == 404
    assert [e.action for e in JournalEntry.objects.filter(action__startswith="delegation.").order_by("id")] == [
        "delegation.granted",
        "delegation.revoked",
    ]


def test_delegated_spouse_renounces_from_the_page(demo, deliver_messages):
    Member.objects.filter(pk=_spouse().pk).update(delegation_granted_at=timezone.now())
    marc = _signed_in(MARC)
    response = marc.post("/mon-compte/foyer/autorisation/", {"intent": "retirer", "password": MARC[1]})
    assert response.status_code == 302 and response["Location"] == "/mon-compte/"
    assert _spouse().delegation_granted_at is None
    body = marc.get("/mon-compte/").content.decode()
    assert "Vous avez renoncé" in body and "Derniers paiements" not in body


def test_delegated_spouse_cannot_grant_by_posting(demo):
    marc = _signed_in(MARC)
    # Without delegation, the page does not exist for him.
    assert marc.post("/mon-compte/foyer/autorisation/", {"intent": "accorder", "password": MARC[1]}).status_code == 404
    assert _spouse().delegation_granted_at is None


def test_wrong_password_is_refused_in_french_and_changes_nothing(demo):
    claire = _signed_in(CLAIRE)
    response = claire.post("/mon-compte/foyer/autorisation/", {"intent": "accorder", "password": "pas le bon"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Mot de passe incorrect." in body
    assert "pas le bon" not in body  # a password is never written back
    assert _spouse().delegation_granted_at is None
    response = claire.post("/mon-compte/foyer/autorisation/", {"intent": "accorder", "password": ""})
    assert response.status_code == 400 and "Saisissez votre mot de passe." in response.content.decode()


def test_a_stale_page_does_not_do_the_opposite(demo):
    Member.objects.filter(pk=_spouse().pk).update(delegation_granted_at=timezone.now())
    claire = _signed_in(CLAIRE)
    # The page was shown to grant; meanwhile the delegation was granted: posting "grant" does nothing.
    response = claire.post("/mon-compte/foyer/autorisation/", {"intent": "accorder", "password": CLAIRE[1]})
    assert response.status_code == 302 and response["Location"] == "/mon-compte/foyer/autorisation/"
    assert _spouse().delegation_granted_at is not None


# Separation -------------------------------------------------------------------------------------


def test_separation_by_marc_ends_his_view_in_every_open_session(demo, deliver_messages):
    phone = _signed_in(MARC)  # an already open session on another device
    Member.objects.filter(pk=_spouse().pk).update(delegation_granted_at=timezone.now())
    assert "Derniers paiements" in phone.get("/mon-compte/").content.decode()

    laptop = _signed_in(MARC)
    page = laptop.get("/mon-compte/foyer/separation/")
    assert page.status_code == 200 and "Déclarer une séparation" in page.content.decode()
    day = timezone.localdate() - datetime.timedelta(days=10)
    response = laptop.post("/mon-compte/foyer/separation/", _separation_form(separated_on=day.isoformat()))
    assert response.status_code == 302 and response["Location"] == "/mon-compte/"

    body = phone.get("/mon-compte/").content.decode()
    assert "Bonjour Marc MARTIN" in body  # his account still works, with his own data
    assert "1234567" not in body and "Derniers paiements" not in body and "Mon rattachement" not in body
    assert "12 rue des Lilas" not in body and "Claire" not in body
    for path in ("/mon-compte/foyer/", "/mon-compte/foyer/autorisation/", "/mon-compte/foyer/separation/"):
        assert phone.get(path).status_code == 404
    assert "Votre séparation est déclarée" in laptop.get("/mon-compte/").content.decode()

    change = SituationChange.objects.get()
    assert change.effective_on == day and change.data["leaving_role"] == "conjoint"
    assert change.data["new_address"]["city"] == "Lyon"
    assert _spouse().ended_on == timezone.localdate() and _spouse().delegation_granted_at is None
    assert sorted(m.to[0] for m in mail.outbox) == ["claire.martin@example.fr", "marc.martin@example.fr"]

    # Claire keeps her file, without Marc among the members.
    claire_body = _signed_in(CLAIRE).get("/mon-compte/foyer/").content.decode()
    assert "Marc MARTIN" not in claire_body and "Léa MARTIN" in claire_body


def test_separation_declared_by_claire_with_marc_leaving(demo):
    claire = _signed_in(CLAIRE)
    marc = _signed_in(MARC)
    response = claire.post("/mon-compte/foyer/separation/", _separation_form(leaving="conjoint"))
    assert response.status_code == 302
    assert SituationChange.objects.get().data["leaving_role"] == "conjoint"
    assert marc.get("/mon-compte/foyer/separation/").status_code == 404
    assert "Mon rattachement" not in marc.get("/mon-compte/").content.decode()


def test_separation_future_date_is_refused_and_input_kept(demo):
    claire = _signed_in(CLAIRE)
    future = (timezone.localdate() + datetime.timedelta(days=5)).isoformat()
    response = claire.post("/mon-compte/foyer/separation/", _separation_form(separated_on=future))
    assert response.status_code == 400
    body = response.content.decode()
    assert "La date de séparation ne peut pas être dans le futur." in body
    assert 'value="3 rue des Acacias"' in body and 'value="69003"' in body and f'value="{future}"' in body
    assert not SituationChange.objects.exists() and _spouse().ended_on is None


def test_separation_missing_address_and_confirmation_are_refused(demo):
    claire = _signed_in(CLAIRE)
    response = claire.post("/mon-compte/foyer/separation/", _separation_form(city="", postal_code="6900", confirm=None))
    assert response.status_code == 400
    body = response.content.decode()
    assert "Saisissez la commune." in body
    assert "Le code postal comporte 5 chiffres." in body
    assert "Cochez la case pour confirmer la déclaration." in body
    assert 'value="3 rue des Acacias"' in body
    assert not SituationChange.objects.exists() and _spouse().ended_on is None
    response = claire.post("/mon-compte/foyer/separation/", _separation_form(leaving=None))
    assert response.status_code == 400 and "Indiquez qui quitte le logement." in response.content.decode()


# Refusals and the acting person, as the web maps them -----------------------------------------


def test_repeated_wrong_passwords_answer_429_on_the_password_field(demo, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER = 1
    claire = _signed_in(CLAIRE)
    statuses = [
        claire.post("/mon-compte/foyer/autorisation/", {"intent": "accorder", "password": "faux"}).status_code
        for _ in range(3)
    ]
    assert statuses[:2] == [400, 400] and statuses[2] == 429
    response = claire.post("/mon-compte/foyer/autorisation/", {"intent": "accorder", "password": CLAIRE[1]})
    assert response.status_code == 429  # the right password waits too
    assert "Trop de tentatives" in response.content.decode()
    assert response.context["form"].errors["password"]
    assert _spouse().delegation_granted_at is None
    assert JournalEntry.objects.filter(action="reauth.failure").count() == 2


def test_a_refusal_of_the_service_after_the_page_shows_on_the_form(demo, monkeypatch):
    """The policy said yes to the page, then no in the service (the standing changed between):
    the page says so, nothing changes."""
    from moncompte.households.services import DelegationNotAllowed
    from moncompte.web.household import views

    def refused(**kwargs):
        raise DelegationNotAllowed()

    monkeypatch.setitem(views._SERVICES, "grant", refused)
    response = _signed_in(CLAIRE).post("/mon-compte/foyer/autorisation/", {"intent": "accorder", "password": CLAIRE[1]})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Vous ne pouvez pas modifier l'autorisation de gestion de ce dossier."
    ]
    assert _spouse().delegation_granted_at is None


def test_add_domain_error_puts_the_message_on_its_field_or_on_top():
    from django import forms

    from moncompte.core.errors import DomainError
    from moncompte.web.errors import add_domain_error

    class Form(forms.Form):
        password = forms.CharField()

    form = Form({"password": "x"})
    form.is_valid()
    add_domain_error(form, DomainError("Sur le champ.", field="password"))
    add_domain_error(form, DomainError("Ailleurs.", field="unknown"))
    add_domain_error(form, DomainError("Pour tout le formulaire."))
    assert form.errors["password"] == ["Sur le champ."]
    assert form.non_field_errors() == ["Ailleurs.", "Pour tout le formulaire."]


def test_not_allowed_answers_404_from_a_view_or_through_the_middleware(rf):
    from django.http import Http404, HttpResponse

    from moncompte.core.errors import NotAllowed
    from moncompte.web.errors import refusals_as_404
    from moncompte.web.middleware import NotAllowedMiddleware

    def view(request):
        raise NotAllowed()

    with pytest.raises(Http404):
        refusals_as_404(view)(rf.get("/"))
    middleware = NotAllowedMiddleware(lambda request: HttpResponse())
    with pytest.raises(Http404):
        middleware.process_exception(rf.get("/"), NotAllowed())
    assert middleware.process_exception(rf.get("/"), ValueError()) is None


def test_actor_of_a_signed_in_request(demo, rf, settings):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore

    from moncompte.accounts.models import Account
    from moncompte.core.actors import Channel
    from moncompte.web.actors import actor_of
    from tests.conftest import person_of

    settings.MONCOMPTE_TRUSTED_PROXY_COUNT = 0
    account = Account.objects.get(person=person_of(CLAIRE[0]))
    request = rf.get("/", REMOTE_ADDR="192.0.2.8")
    request.user = account
    request.session = SessionStore()
    request.session.create()
    actor = actor_of(request)
    assert actor.channel == Channel.WEB and actor.account == account and actor.person == account.person
    assert actor.session_key == request.session.session_key and actor.client_address == "192.0.2.8"
    request.user = AnonymousUser()
    visitor = actor_of(request)
    assert visitor.account is None and visitor.person is None and not visitor.is_signed_in
