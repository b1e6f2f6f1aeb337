"""Household page /mon-compte/foyer/, delegation and separation pages (moncompte.web.household.views)."""

import datetime
import html

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from moncompte.audit.models import JournalEntry
from moncompte.households.models import Benefit, Member, Role, SituationChange
from tests.conftest import sign_in
from tests.factories import AccountFactory, DossierFactory, MemberFactory, make_household

pytestmark = pytest.mark.django_db

ADDRESS = {"address_line1": "3 rue des Acacias", "address_line2": "", "postal_code": "69003", "city": "Lyon"}


@pytest.fixture
def family(family):
    """The usual family, its members' names made distinct: the pages are checked for the absence
    of a name, which a child named like a parent would defeat."""
    seen = set()
    for n, member in enumerate(family.people):
        person = member.person
        if person.display_name in seen:
            person.first_names = f"{person.first_names.split()[0]}-{'ABCD'[n]}"
            person.save(update_fields=["first_names"])
        seen.add(person.display_name)
    return family


def name(member) -> str:
    """A member's name as the pages write it."""
    return escape(member.person.display_name)


def email_of(member) -> str:
    return member.account.contacts.get(kind="email").value


def monthly_amount(family) -> str:
    """The file's monthly amount as the pages write it, without the currency: "148,52"."""
    cents = Benefit.objects.get(dossier=family.dossier).monthly_amount_cents
    return f"{cents // 100},{cents % 100:02d}"


def _spouse(family):
    return Member.objects.get(role=Role.CONJOINT, dossier=family.dossier)


def _signed_in(member) -> Client:
    client = Client()
    assert sign_in(client, *member.credentials).status_code == 302
    return client


def _date_parts(day: datetime.date) -> dict:
    """The separation date as typed in its three DSFR fields (jour, mois, année)."""
    return {"separated_day": str(day.day), "separated_month": f"{day.month:02d}", "separated_year": str(day.year)}


def _separation_form(separated_on: datetime.date | None = None, **changes):
    data = {**_date_parts(separated_on or timezone.localdate()), "leaving": "moi", **ADDRESS, "confirm": "1"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# Household page ---------------------------------------------------------------------------------


def test_the_responsible_person_sees_the_members_their_roles_and_accounts(family):
    stranger = make_household(birth_name="BENALI" if family.responsible.person.birth_name != "BENALI" else "DIALLO")
    neighbour = make_household(
        caf=family.caf, birth_name="DURAND" if family.responsible.person.birth_name != "DURAND" else "DUPONT"
    )
    client = _signed_in(family.responsible)
    response = client.get("/mon-compte/foyer/")
    assert response.status_code == 200
    body = response.content.decode()
    for member in family.people:
        assert f"<td>{name(member)}" in body
    assert "Responsable du dossier" in body and "Conjoint ou conjointe" in body
    assert body.count("n'a pas de compte") == 1  # the child of 10 has none
    assert body.count(">a un compte<") == 3
    assert f"Autoriser {name(family.spouse)} à gérer le dossier" in body
    assert "Retirer l'autorisation" not in body and "Renoncer" not in body
    assert "Déclarer une séparation" in body
    assert stranger.responsible.person.birth_name not in body
    for member in neighbour.people:  # another file of the same Caf
        assert name(member) not in body
    assert neighbour.dossier.numero not in body
    assert JournalEntry.objects.filter(action="household.view").count() == 1


def test_home_links_to_the_household_page_only_for_who_may_see_it(family):
    assert 'href="/mon-compte/foyer/"' in _signed_in(family.responsible).get("/mon-compte/").content.decode()
    assert 'href="/mon-compte/foyer/"' not in _signed_in(family.spouse).get("/mon-compte/").content.decode()
    assert 'href="/mon-compte/foyer/"' not in _signed_in(family.child).get("/mon-compte/").content.decode()


@pytest.mark.parametrize("who", ["spouse", "child"], ids=["spouse-without-delegation", "child"])
def test_household_page_is_not_found_for_who_may_not_see_it(family, who):
    client = _signed_in(getattr(family, who))
    assert client.get("/mon-compte/foyer/").status_code == 404
    assert client.get("/mon-compte/foyer/autorisation/").status_code == 404


def test_child_has_no_separation_page(family):
    assert _signed_in(family.child).get("/mon-compte/foyer/separation/").status_code == 404


def test_a_person_alone_on_a_file_sees_only_their_own_file(family):
    """Alone on a file of the same Caf as the family: their file only, nothing to grant."""
    alone = MemberFactory(dossier=DossierFactory(caf=family.caf), person__birth_name="BENALI")
    account = AccountFactory(person=alone.person)
    client = Client()
    assert sign_in(client, alone.person.raw_identifier, account.raw_password).status_code == 302
    response = client.get("/mon-compte/foyer/")
    assert response.status_code == 200
    body = response.content.decode()
    assert escape(alone.person.display_name) in body and alone.dossier.numero in body
    assert family.dossier.numero not in body
    for member in family.people:
        assert name(member) not in body
    # No spouse: nothing to grant and no separation to declare.
    assert "Autoriser" not in body and "séparation" not in body
    assert client.get("/mon-compte/foyer/autorisation/").status_code == 404


def test_delegated_spouse_sees_the_household_and_may_only_renounce(family):
    Member.objects.filter(pk=_spouse(family).pk).update(delegation_granted_at=timezone.now())
    client = _signed_in(family.spouse)
    body = client.get("/mon-compte/foyer/").content.decode()
    assert name(family.responsible) in body and "Renoncer à l'autorisation" in body
    assert "Autoriser" not in body and "Retirer l'autorisation" not in body
    page = client.get("/mon-compte/foyer/autorisation/").content.decode()
    assert "Renoncer à l'autorisation" in page


def test_household_pages_need_sign_in(client, family):
    for path in ("/mon-compte/foyer/", "/mon-compte/foyer/autorisation/", "/mon-compte/foyer/separation/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/connexion/")


# Delegation: the effect at once ------------------------------------------------------------------


def test_grant_then_revoke_takes_effect_on_the_spouse_next_request(family, deliver_messages):
    responsible, spouse = _signed_in(family.responsible), _signed_in(family.spouse)
    assert "Derniers paiements" not in spouse.get("/mon-compte/").content.decode()

    response = responsible.post(
        "/mon-compte/foyer/autorisation/", {"intent": "accorder", "password": family.responsible.password}
    )
    assert response.status_code == 302 and response["Location"] == "/mon-compte/foyer/"
    assert f"{name(family.spouse)} est maintenant autorisé(e)" in responsible.get("/mon-compte/foyer/").content.decode()
    body = spouse.get("/mon-compte/").content.decode()  # same session as before
    assert "Derniers paiements" in body and monthly_amount(family) in body
    assert spouse.get("/mon-compte/foyer/").status_code == 200
    assert sorted(m.to[0] for m in mail.outbox) == sorted([email_of(family.responsible), email_of(family.spouse)])

    revoke = f"Retirer l'autorisation de gestion de {name(family.spouse)}"
    assert revoke in responsible.get("/mon-compte/foyer/").content.decode()
    response = responsible.post(
        "/mon-compte/foyer/autorisation/", {"intent": "retirer", "password": family.responsible.password}
    )
    assert response.status_code == 302
    body = spouse.get("/mon-compte/").content.decode()
    assert "Derniers paiements" not in body and monthly_amount(family) not in body
    assert spouse.get("/mon-compte/foyer/").status_code == 404
    assert [e.action for e in JournalEntry.objects.filter(action__startswith="delegation.").order_by("id")] == [
        "delegation.granted",
        "delegation.revoked",
    ]


def test_delegated_spouse_renounces_from_the_page(family, deliver_messages):
    Member.objects.filter(pk=_spouse(family).pk).update(delegation_granted_at=timezone.now())
    spouse = _signed_in(family.spouse)
    response = spouse.post("/mon-compte/foyer/autorisation/", {"intent": "retirer", "password": family.spouse.password})
    assert response.status_code == 302 and response["Location"] == "/mon-compte/"
    assert _spouse(family).delegation_granted_at is None
    body = spouse.get("/mon-compte/").content.decode()
    assert "Vous avez renoncé" in body and "Derniers paiements" not in body


def test_delegated_spouse_cannot_grant_by_posting(family):
    spouse = _signed_in(family.spouse)
    # Without delegation, the page does not exist for him.
    assert (
        spouse.post(
            "/mon-compte/foyer/autorisation/", {"intent": "accorder", "password": family.spouse.password}
        ).status_code
        == 404
    )
    assert _spouse(family).delegation_granted_at is None


def test_wrong_password_is_refused_in_french_and_changes_nothing(family):
    responsible = _signed_in(family.responsible)
    response = responsible.post("/mon-compte/foyer/autorisation/", {"intent": "accorder", "password": "pas le bon"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Mot de passe incorrect." in body
    assert "pas le bon" not in body  # a password is never written back
    assert _spouse(family).delegation_granted_at is None
    response = responsible.post("/mon-compte/foyer/autorisation/", {"intent": "accorder", "password": ""})
    assert response.status_code == 400 and "Saisissez votre mot de passe." in response.content.decode()


def test_a_stale_page_does_not_do_the_opposite(family):
    Member.objects.filter(pk=_spouse(family).pk).update(delegation_granted_at=timezone.now())
    responsible = _signed_in(family.responsible)
    # The page was shown to grant; meanwhile the delegation was granted: posting "grant" does nothing.
    response = responsible.post(
        "/mon-compte/foyer/autorisation/", {"intent": "accorder", "password": family.responsible.password}
    )
    assert response.status_code == 302 and response["Location"] == "/mon-compte/foyer/autorisation/"
    assert _spouse(family).delegation_granted_at is not None


# Separation -------------------------------------------------------------------------------------


def test_separation_by_the_spouse_ends_their_view_in_every_open_session(family, deliver_messages):
    phone = _signed_in(family.spouse)  # an already open session on another device
    Member.objects.filter(pk=_spouse(family).pk).update(delegation_granted_at=timezone.now())
    assert "Derniers paiements" in phone.get("/mon-compte/").content.decode()

    laptop = _signed_in(family.spouse)
    page = laptop.get("/mon-compte/foyer/separation/")
    assert page.status_code == 200 and "Déclarer une séparation" in page.content.decode()
    # What comes next, children included: the Caf decides (moncompte/households/separations.py).
    assert "quels enfants y seront rattachés" in html.unescape(page.content.decode())
    day = timezone.localdate() - datetime.timedelta(days=10)
    response = laptop.post("/mon-compte/foyer/separation/", _separation_form(separated_on=day))
    assert response.status_code == 302 and response["Location"] == "/mon-compte/"

    body = phone.get("/mon-compte/").content.decode()
    assert f"Bonjour {name(family.spouse)}" in body  # the account still works, with its own data
    assert "Derniers paiements" not in body and "Mon rattachement" not in body
    # Their own separation, in the second person: the file's number is named there, and only there.
    assert "Vous avez déclaré votre séparation" in body
    assert f"plus accès au dossier n° {family.dossier.numero}" in body
    assert body.count(family.dossier.numero) == 2  # the notice's heading and its text
    assert escape(family.dossier.address_line1) not in body and name(family.responsible) not in body
    for path in ("/mon-compte/foyer/", "/mon-compte/foyer/autorisation/", "/mon-compte/foyer/separation/"):
        assert phone.get(path).status_code == 404
    assert "Votre séparation est déclarée" in laptop.get("/mon-compte/").content.decode()

    change = SituationChange.objects.get()
    assert change.effective_on == day and change.data["leaving_role"] == "conjoint"
    assert change.data["new_address"]["city"] == "Lyon"
    assert _spouse(family).ended_on == timezone.localdate() and _spouse(family).delegation_granted_at is None
    assert sorted(m.to[0] for m in mail.outbox) == sorted([email_of(family.responsible), email_of(family.spouse)])

    # The responsible person keeps the file, without the former spouse among the members.
    responsible_body = _signed_in(family.responsible).get("/mon-compte/foyer/").content.decode()
    assert f"<td>{name(family.spouse)}" not in responsible_body and f"<td>{name(family.child)}" in responsible_body
    # The declaration and its state, in the second person: who declared it, when, and that it waits.
    assert f"{name(family.spouse)} a déclaré votre séparation" in responsible_body
    assert "en attente de traitement par la Caf" in responsible_body


def test_separation_declared_by_the_responsible_person_with_the_spouse_leaving(family):
    responsible = _signed_in(family.responsible)
    spouse = _signed_in(family.spouse)
    response = responsible.post("/mon-compte/foyer/separation/", _separation_form(leaving="conjoint"))
    assert response.status_code == 302
    assert SituationChange.objects.get().data["leaving_role"] == "conjoint"
    assert spouse.get("/mon-compte/foyer/separation/").status_code == 404
    assert "Mon rattachement" not in spouse.get("/mon-compte/").content.decode()


def test_separation_future_date_is_refused_and_input_kept(family):
    responsible = _signed_in(family.responsible)
    future = timezone.localdate() + datetime.timedelta(days=5)
    response = responsible.post("/mon-compte/foyer/separation/", _separation_form(separated_on=future))
    assert response.status_code == 400
    body = response.content.decode()
    assert "La date de séparation ne peut pas être dans le futur." in body
    assert 'value="3 rue des Acacias"' in body and 'value="69003"' in body and f'value="{future.year}"' in body
    assert not SituationChange.objects.exists() and _spouse(family).ended_on is None


def test_separation_missing_address_and_confirmation_are_refused(family):
    responsible = _signed_in(family.responsible)
    response = responsible.post(
        "/mon-compte/foyer/separation/", _separation_form(city="", postal_code="6900", confirm=None)
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "Saisissez la commune." in body
    assert "Le code postal comporte 5 chiffres." in body
    assert "Cochez la case pour confirmer la déclaration." in body
    assert 'value="3 rue des Acacias"' in body
    assert not SituationChange.objects.exists() and _spouse(family).ended_on is None
    response = responsible.post("/mon-compte/foyer/separation/", _separation_form(leaving=None))
    assert response.status_code == 400 and "Indiquez qui quitte le logement." in response.content.decode()


# Refusals and the acting person, as the web maps them -----------------------------------------


def test_repeated_wrong_passwords_answer_429_on_the_password_field(family, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER = 1
    responsible = _signed_in(family.responsible)
    statuses = [
        responsible.post("/mon-compte/foyer/autorisation/", {"intent": "accorder", "password": "faux"}).status_code
        for _ in range(3)
    ]
    assert statuses[:2] == [400, 400] and statuses[2] == 429
    response = responsible.post(
        "/mon-compte/foyer/autorisation/", {"intent": "accorder", "password": family.responsible.password}
    )
    assert response.status_code == 429  # the right password waits too
    assert "Trop de tentatives" in response.content.decode()
    assert response.context["form"].errors["password"]
    assert _spouse(family).delegation_granted_at is None
    assert JournalEntry.objects.filter(action="reauth.failure").count() == 2


def test_a_refusal_of_the_service_after_the_page_shows_on_the_form(family, monkeypatch):
    """The policy said yes to the page, then no in the service (the standing changed between):
    the page says so, nothing changes."""
    from moncompte.households.services import DelegationNotAllowed
    from moncompte.web.household import views

    def refused(**kwargs):
        raise DelegationNotAllowed()

    monkeypatch.setitem(views._SERVICES, "grant", refused)
    response = _signed_in(family.responsible).post(
        "/mon-compte/foyer/autorisation/", {"intent": "accorder", "password": family.responsible.password}
    )
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == [
        "Vous ne pouvez pas modifier l'autorisation de gestion de ce dossier."
    ]
    assert _spouse(family).delegation_granted_at is None


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


def test_actor_of_a_signed_in_request(family, rf, settings):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore

    from moncompte.accounts.models import Account
    from moncompte.core.actors import Channel
    from moncompte.web.actors import actor_of

    settings.MONCOMPTE_TRUSTED_PROXY_COUNT = 0
    account = Account.objects.get(pk=family.responsible.account.pk)
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


# The separation told to both, and its date field (issue 9) ----------------------------------------


def test_the_spouse_who_left_is_told_in_the_second_person_and_sees_nothing_else(family):
    responsible = _signed_in(family.responsible)
    spouse = _signed_in(family.spouse)
    day = timezone.localdate() - datetime.timedelta(days=3)
    assert (
        responsible.post("/mon-compte/foyer/separation/", _separation_form(separated_on=day, leaving="conjoint"))[
            "Location"
        ]
        == "/mon-compte/"
    )
    body = spouse.get("/mon-compte/").content.decode()
    assert "La personne responsable du dossier a déclaré votre séparation" in body
    assert name(family.responsible) not in body  # not named: nothing of the file but the fact
    assert f"le {timezone.localdate().day}" in body and "en attente de traitement par la Caf" in body
    assert "la Caf vous contactera" not in body and "elle vous contactera pour ouvrir un dossier à votre nom" in body
    assert "Derniers paiements" not in body and escape(family.dossier.address_line1) not in body
    assert name(family.child) not in body and "Lyon" not in body  # the new address stays with the agents
    # Processed by an agent: both see the new state.
    SituationChange.objects.update(state=SituationChange.State.PROCESSED)
    assert "La Caf a traité ce changement de situation" in spouse.get("/mon-compte/").content.decode()
    responsible_body = responsible.get("/mon-compte/foyer/").content.decode()
    assert "Vous avez déclaré votre séparation" in responsible_body
    assert "La Caf a traité ce changement de situation" in responsible_body


def test_nobody_else_is_told_of_a_separation(family):
    other = make_household(caf=family.caf)
    _signed_in(family.responsible).post("/mon-compte/foyer/separation/", _separation_form(leaving="conjoint"))
    for member in (family.child, other.responsible, other.spouse):
        body = _signed_in(member).get("/mon-compte/").content.decode()
        assert "votre séparation" not in body and family.dossier.numero not in body


@pytest.mark.parametrize(
    "parts, message",
    [
        ({"separated_day": "", "separated_month": "", "separated_year": ""}, "Saisissez la date de la séparation"),
        ({"separated_year": ""}, "Date de la séparation incomplète : saisissez l'année."),
        ({"separated_day": "1er"}, "La date de la séparation ne s'écrit qu'avec des chiffres"),
        ({"separated_day": "99999999999999999999"}, "Vérifiez la date de la séparation : le jour et le mois en 2"),
        ({"separated_day": "31", "separated_month": "02"}, "Cette date n'existe pas"),
        ({"separated_year": "26"}, "L'année de la séparation s'écrit avec 4 chiffres"),
        ({"separated_year": "2999"}, "ne peut pas être dans le futur"),
    ],
)
def test_the_separation_date_is_three_fields_with_french_errors(family, parts, message):
    responsible = _signed_in(family.responsible)
    page = responsible.get("/mon-compte/foyer/separation/").content.decode()
    assert 'type="date"' not in page  # the browser's date field follows its locale (mm/dd/yyyy)
    for label in ("Jour", "Mois", "Année"):
        assert f">{label}<span" in page
    response = responsible.post("/mon-compte/foyer/separation/", _separation_form(**parts))
    assert response.status_code == 400
    body = response.content.decode()
    assert escape(message) in body and 'aria-describedby="id_separated_day-aide date-separation-erreur"' in body
    assert not SituationChange.objects.exists()


def test_the_separation_date_is_read_day_month_year_whatever_the_browser(family):
    responsible = _signed_in(family.responsible)
    data = _separation_form(leaving="conjoint", separated_day="3", separated_month="4", separated_year="2024")
    assert responsible.post("/mon-compte/foyer/separation/", data).status_code == 302
    assert SituationChange.objects.get().effective_on == datetime.date(2024, 4, 3)
