"""The first-connection screens (/mon-compte/bienvenue/, moncompte.web.onboarding): shown after a
sign-in once per version, the target kept, four screens, what the policy allows shown only to
whom it allows it."""

import re

import pytest
from django.core import mail
from django.test import Client

from moncompte.accounts.models import Account
from tests.conftest import sign_in
from tests.factories import AccountFactory, make_household
from tests.web.test_signin_next import _refuse_journal_action

pytestmark = pytest.mark.django_db

WELCOME = "/mon-compte/bienvenue/"
HOME = "/mon-compte/"
HOUSEHOLD = "/mon-compte/foyer/"
INVITE = "/mon-compte/foyer/inviter/"
SKIP = "Passer la présentation"


def _new(household_person) -> None:
    """This person has not seen the screens yet (the factories' accounts have)."""
    Account.objects.filter(pk=household_person.account.pk).update(onboarding_version_seen=0)


def _seen(household_person) -> int:
    return Account.objects.values_list("onboarding_version_seen", flat=True).get(pk=household_person.account.pk)


def _main(response) -> str:
    body = response.content.decode()
    return body[body.index("<main") : body.index("</main>")]


def _href(page: str, text: str) -> str:
    """The address of the link whose text is ``text``."""
    match = re.search(r'<a [^>]*href="([^"]*)"[^>]*>' + re.escape(text) + "</a>", page)
    assert match, f"no link {text!r}"
    return match.group(1)


def _signed_in(household_person) -> Client:
    client = Client()
    response = sign_in(client, *household_person.credentials)
    assert response.status_code == 302
    return client


# When the screens are shown --------------------------------------------------------------------


def test_the_first_sign_in_shows_the_screens_once_then_goes_straight_home(family):
    _new(family.responsible)
    client = Client()

    response = sign_in(client, *family.responsible.credentials)
    assert response.status_code == 302 and response["Location"] == WELCOME
    assert _seen(family.responsible) == 1
    page = client.get(WELCOME)
    assert page.status_code == 200
    assert _href(_main(page), SKIP) == HOME

    client.post("/deconnexion/")
    again = sign_in(Client(), *family.responsible.credentials)
    assert again.status_code == 302 and again["Location"] == HOME


def test_the_target_asked_for_is_kept_for_skip_and_for_the_last_screen(family):
    _new(family.responsible)
    client = Client()

    response = client.post(
        "/connexion/?next=/mon-compte/appareils/",
        {"identifier": family.responsible.identifier, "password": family.responsible.password},
    )
    assert response["Location"] == WELCOME
    for step in ("", "2/", "3/", "4/"):
        assert _href(_main(client.get(WELCOME + step)), SKIP) == "/mon-compte/appareils/"
    assert _href(_main(client.get(WELCOME + "4/")), "Terminer la présentation") == "/mon-compte/appareils/"


def test_a_new_version_shows_the_screens_once_more(family, settings):
    assert sign_in(Client(), *family.responsible.credentials)["Location"] == HOME

    settings.MONCOMPTE_ONBOARDING_VERSION = 2
    assert sign_in(Client(), *family.responsible.credentials)["Location"] == WELCOME
    assert _seen(family.responsible) == 2
    assert sign_in(Client(), *family.responsible.credentials)["Location"] == HOME


def test_the_code_sign_in_shows_the_screens_too_with_its_target(deliver_messages, settings):
    settings.MONCOMPTE_SIGNIN_UNLOCK_MIN_SECONDS = 0
    account = AccountFactory(onboarding_version_seen=0)
    client = Client()
    client.post(
        "/connexion/code/",
        {
            "identifier": account.person.raw_identifier,
            "password": account.raw_password,
            "next": "/mon-compte/appareils/",
        },
    )
    address = account.contacts.get().value
    code = re.search(r"\b(\d{6})\b", [m.body for m in mail.outbox if m.to == [address]][-1]).group(1)

    response = client.post("/connexion/code/saisie/", {"code": code})
    assert response.status_code == 302 and response["Location"] == WELCOME
    assert _href(_main(client.get(WELCOME)), SKIP) == "/mon-compte/appareils/"


def test_a_sign_in_that_fails_leaves_the_screens_due(family):
    """The record shares the session's transaction: nothing shown, nothing recorded."""
    _new(family.responsible)
    _refuse_journal_action("signin.success")
    response = sign_in(Client(raise_request_exception=False), *family.responsible.credentials)
    assert response.status_code == 503
    assert _seen(family.responsible) == 0


def test_a_target_planted_in_the_session_is_checked_again(family):
    client = _signed_in(family.responsible)
    session = client.session
    session["moncompte_onboarding_next"] = "//evil.example/"
    session.save()
    assert _href(_main(client.get(WELCOME)), SKIP) == HOME


# The screens -----------------------------------------------------------------------------------


SCREENS = {
    1: "Ce qui change pour vous connecter",
    2: "Les membres de votre foyer peuvent avoir leur compte",
    3: "L&#x27;autorisation de gestion",
    4: "Besoin d&#x27;aide ?",
}


@pytest.mark.parametrize("step", SCREENS)
def test_each_screen_has_its_title_step_image_and_links(family, step):
    client = _signed_in(family.responsible)
    url = WELCOME if step == 1 else f"{WELCOME}{step}/"
    response = client.get(url)
    assert response.status_code == 200
    page = _main(response)

    headings = re.findall(r"<h([1-6])", page)
    assert headings[:2] == ["1", "2"] and all(
        int(b) - int(a) <= 1 for a, b in zip(headings, headings[1:], strict=False)
    )
    assert re.search(r'<h2 class="fr-stepper__title">' + re.escape(SCREENS[step]), page)
    assert f"Étape {step} sur 4" in page
    images = re.findall(r"<img [^>]*>", page)
    assert len(images) == 1
    alt = re.search(r'alt="([^"]*)"', images[0]).group(1)
    assert len(alt) > 20, alt  # says what the picture shows
    assert re.search(r'src="/static/web/onboarding/[a-z]+\.svg"', images[0])
    assert SKIP in page
    assert ("Précédent" in page) == (step > 1)
    assert ("Suivant</a>" in page) == (step < 4)
    if step < 4:
        assert _href(page, "Suivant") == f"{WELCOME}{step + 1}/"
    if step > 1:
        assert _href(page, "Précédent") == (WELCOME if step == 2 else f"{WELCOME}{step - 1}/")
    assert "<script" not in page  # plain links: nothing needs JavaScript
    # Nothing personal but the first name.
    person = family.responsible.person
    assert person.birth_name not in page
    assert family.dossier.numero not in page
    assert person.first_names.split()[0] in page or step > 1


def test_the_first_screen_says_what_changed(family):
    page = _main(_signed_in(family.responsible).get(WELCOME))
    assert "numéro de sécurité sociale" in page and "carte Vitale" in page
    assert "numéro allocataire et votre ancien code confidentiel" in page
    assert 'href="/aide/#nouvelle-connexion"' in page


def test_the_help_screen_links_the_help_and_the_number(family):
    page = _main(_signed_in(family.responsible).get(WELCOME + "4/"))
    assert _href(page, "Consulter l'aide") == "/aide/"
    assert _href(page, "09 69 32 52 52") == "tel:+33969325252"


@pytest.mark.parametrize(
    ("who", "delegated", "may_invite"),
    [
        ("responsible", False, True),
        ("spouse", True, True),
        ("spouse", False, False),
        ("child", False, False),
    ],
)
def test_the_invitation_is_offered_only_to_who_may_invite(db, who, delegated, may_invite):
    household = make_household(delegated=delegated)
    page = _main(_signed_in(getattr(household, who)).get(WELCOME + "2/"))
    assert (f'href="{INVITE}"' in page) == may_invite
    assert ("Inviter un membre du foyer" in page) == may_invite


@pytest.mark.parametrize(
    ("who", "delegated", "says"),
    [
        ("responsible", False, "vous pouvez accorder ou retirer cette autorisation"),
        ("spouse", True, "Vous êtes autorisé(e) à gérer le dossier"),
        ("spouse", False, "Vous n'avez pas l'autorisation de gérer le dossier"),
        ("child", False, "elle ne change rien à votre compte"),
    ],
)
def test_the_delegation_screen_speaks_to_each_person(db, who, delegated, says):
    household = make_household(delegated=delegated)
    page = _main(_signed_in(getattr(household, who)).get(WELCOME + "3/"))
    assert says in page
    others = {
        "vous pouvez accorder ou retirer cette autorisation",
        "Vous êtes autorisé(e) à gérer le dossier",
        "Vous n'avez pas l'autorisation de gérer le dossier",
        "elle ne change rien à votre compte",
    } - {says}
    assert not [other for other in others if other in page]
    assert ('href="/mon-compte/foyer/"' in page) == (who != "child" and not (who == "spouse" and not delegated))


@pytest.mark.parametrize("step", ["0", "5", "6", "99999999999999999999999"])
def test_an_unknown_screen_is_the_french_404(family, step):
    response = _signed_in(family.responsible).get(f"{WELCOME}{step}/")
    assert response.status_code == 404
    assert "Page non trouvée" in response.content.decode()


@pytest.mark.parametrize("url", [WELCOME, WELCOME + "2/", WELCOME + "5/"])
def test_the_screens_are_for_signed_in_people_only(db, url):
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith("/connexion/")


def test_the_screens_answer_get_only(family):
    response = _signed_in(family.responsible).post(WELCOME)
    assert response.status_code == 405
