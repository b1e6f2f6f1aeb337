"""The agents' console in Chromium (issue 12): the acceptance scenario, the console without
JavaScript, and the accessibility crawl of the console's pages and of the usagers' new pages
(tests/browser/pages.py, groups "console" and "phone-and-assisted"; the crawler of
tests/browser/test_accessibility.py).

The scenario: an agent of the Martin file's Caf (counter and identity checker) signs in with
their password and their TOTP code, finds the file by its numéro allocataire, identifies the
spouse without the delegation and is shown no payment, ends the service, identifies the
responsible person and is shown the payments, then accepts the identity check of a person who
signed up alone, who can then sign in with their NIR.

Every piece of data is built before the browser starts (see tests.browser.test_signin_browser's
``site_family``); the only ORM call made once Playwright runs is ``totp_now``, the agent's code
at the moment it is typed, through ``_totp_now``, which closes the connection it opened.
"""

from __future__ import annotations

import base64
import datetime
import re
import types

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp

from moncompte.access.agents import AgentRole
from moncompte.core.actors import Actor, Channel
from moncompte.households.models import Payment
from moncompte.households.services import separation_declare
from moncompte.identity.models import RectificationField
from moncompte.identity.own_data import rectification_request
from moncompte.web.templatetags.money import euros
from tests.accounts.test_signup import PASSWORD as SIGNUP_PASSWORD
from tests.accounts.test_signup import nir
from tests.browser.test_accessibility import Crawler, axe, crawler  # noqa: F401
from tests.browser.test_signin_browser import _open_page, _sign_in, browser, chromium, live_site  # noqa: F401
from tests.factories import (
    AGENT_PASSWORD,
    AgentFactory,
    CafFactory,
    CafRequestAnswerFactory,
    CafRequestFactory,
    MemberFactory,
    make_household,
    totp_now,
)
from tests.identity_checks.helpers import document_for, signup

pytestmark = [pytest.mark.browser]

SIGNIN = "/agents/connexion/"
EMAIL_LABEL = "Adresse électronique professionnelle"
CODE_LABEL = "Code à 6 chiffres"
# The NIR a person who signed up alone typed (Inès LEFÈVRE of tests.accounts.test_signup: a
# woman born in May 1991 in Lyon 3e); it signs her in only once her identity check is accepted.
SIGNED_UP_NIR = "2 91 05 69 383 017"
SPOUSE_HIDDEN = "Conjoint ou conjointe sans autorisation de gestion : aucune information sur le dossier."
CHECK_ACCEPTED = "Vérification d'identité acceptée : le compte est ouvert et la personne est prévenue."


def _totp_now(agent) -> str:
    """``totp_now(agent)`` once Playwright's event loop runs in this thread: the ORM then uses a
    connection of its own, closed here (else PostgreSQL could not drop the test database)."""
    try:
        return totp_now(agent)
    finally:
        connections.close_all()


def _totp_of_secret(secret: str) -> str:
    """The code an authenticator app shows for the key displayed at the activation (base32, in
    groups of four), with the console's parameters (30-second steps, 6 digits)."""
    compact = secret.replace(" ", "")
    key = base64.b32decode(compact + "=" * (-len(compact) % 8))
    return f"{totp(key, step=30, t0=0, digits=6, drift=0):06d}"


def _agent_sign_in(page, base_url: str, agent) -> None:
    """The console's sign-in: email and password, then the TOTP code computed at that moment."""
    from playwright.sync_api import expect

    response = page.goto(base_url + SIGNIN)
    assert response is not None and response.status == 200, f"{SIGNIN} answered {response and response.status}"
    page.get_by_label(EMAIL_LABEL).fill(agent.email)
    page.get_by_label("Mot de passe").fill(AGENT_PASSWORD)
    page.get_by_role("button", name="Se connecter", exact=True).click()
    expect(page).to_have_url(re.compile(r"/agents/connexion/code/$"))
    page.get_by_label(CODE_LABEL).fill(_totp_now(agent))
    page.get_by_role("button", name="Valider", exact=True).click()
    expect(page).to_have_url(re.compile(r"/agents/$"))


def _search_by_numero(page, base_url: str, numero: str) -> None:
    from playwright.sync_api import expect

    page.goto(base_url + "/agents/accueil/")
    page.get_by_label("À l'accueil").check(force=True)  # DSFR draws the label over the radio
    page.get_by_label("Numéro allocataire").fill(numero)
    page.get_by_role("button", name="Rechercher").click()
    expect(page).to_have_url(re.compile(r"/agents/accueil/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Identifier la personne reçue")


def _identify_with_a_document(page, name: str, role: str) -> None:
    """Identify the member ``name`` (``role``: their role's label, two members may share a name)."""
    from playwright.sync_api import expect

    row = (
        page.get_by_role("row")
        .filter(has=page.get_by_role("cell", name=name, exact=True))
        .filter(has=page.get_by_role("cell", name=role, exact=True))
    )
    row.get_by_label("Document d'identité présenté").select_option(label="Carte nationale d'identité")
    row.get_by_role("button", name=f"Identifier cette personne : {name}, avec ce document").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Personne reçue : {name}")


@pytest.fixture
def counter_day(live_site, settings, tmp_path):  # noqa: F811
    """The Martin file of the Caf du Rhône, the agent, and a person who signed up alone in Lyon
    whose identity check waits with its document; built before the browser starts."""
    settings.MEDIA_ROOT = tmp_path / "media"
    lyon = CafFactory(departement="69", name="Caf du Rhône")
    # make_household() takes no first names: Claire and Marc are whatever the factory drew.
    martin = make_household(caf=lyon, birth_name="MARTIN")
    agent = AgentFactory(caf=lyon, roles=[AgentRole.COUNTER.value, AgentRole.IDENTITY_CHECKER.value])
    signed_up = signup(identifier=nir(SIGNED_UP_NIR), email="ines@example.fr")
    document_for(signed_up.identity_check)
    amounts = [euros(payment.amount_cents) for payment in Payment.objects.filter(dossier=martin.dossier)]
    amounts += [euros(benefit.monthly_amount_cents) for benefit in martin.dossier.benefits.all()]
    assert len(amounts) == 3
    return types.SimpleNamespace(
        agent=agent,
        numero=martin.dossier.numero,
        claire=martin.responsible.person.display_name,
        marc=martin.spouse.person.display_name,
        amounts=amounts,
        signed_up_name=signed_up.person.display_name,
        signed_up_nir=nir(SIGNED_UP_NIR).display(),
    )


def test_an_agent_serves_marc_then_claire_and_accepts_an_identity_check(counter_day, browser, live_site):  # noqa: F811
    from playwright.sync_api import expect

    day = counter_day
    context, page, problems = _open_page(browser, viewport={"width": 1280, "height": 900})
    person_context = None
    try:
        _agent_sign_in(page, live_site, day.agent)
        expect(page.get_by_role("heading", level=1)).to_have_text("Espace agents")

        # Marc, the spouse without the delegation: nothing of the file, and why.
        _search_by_numero(page, live_site, day.numero)
        _identify_with_a_document(page, day.marc, "Conjoint ou conjointe")
        main = page.get_by_role("main")
        expect(main).to_contain_text(SPOUSE_HIDDEN)
        expect(main).to_contain_text("Informations à ne pas communiquer")
        shown = main.inner_text()
        assert [amount for amount in day.amounts if amount in shown] == [], shown
        assert "Derniers paiements" not in shown and "Prestations en cours" not in shown
        page.get_by_role("button", name="Terminer").click()
        expect(page).to_have_url(re.compile(r"/agents/accueil/$"))
        expect(page.get_by_role("main")).to_contain_text("L'accueil est terminé.")

        # Claire, the responsible person: the whole file, payments included.
        _search_by_numero(page, live_site, day.numero)
        _identify_with_a_document(page, day.claire, "Responsable du dossier")
        main = page.get_by_role("main")
        expect(main).not_to_contain_text("Informations à ne pas communiquer")
        payments = page.get_by_role("table", name="Derniers paiements")
        for amount in day.amounts[:2]:
            expect(payments).to_contain_text(amount)
        expect(main).to_contain_text(day.amounts[2])  # the benefit's monthly amount

        # The identity checks' queue: the person who signed up alone is accepted.
        page.get_by_role("navigation", name="Menu de la console").get_by_role(
            "link", name="Vérifications d'identité"
        ).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Vérifications d'identité")
        page.get_by_role("link", name=f"Traiter la vérification de {day.signed_up_name}").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(f"Vérification d'identité de {day.signed_up_name}")
        page.get_by_role("button", name="Accepter la vérification").click()
        expect(page).to_have_url(re.compile(r"/agents/verifications-identite/$"))
        expect(page.get_by_role("main")).to_contain_text(CHECK_ACCEPTED)
        expect(page.get_by_role("main")).not_to_contain_text(f"Traiter la vérification de {day.signed_up_name}")

        # In a browser of their own, that person signs in with the NIR they typed.
        person_context, person, _ = _open_page(browser)
        _sign_in(person, live_site, day.signed_up_nir, SIGNUP_PASSWORD)
        expect(person).to_have_url(re.compile(r"/mon-compte/"))
        person.goto(live_site + "/mon-compte/")
        expect(person.get_by_role("heading", level=1)).to_have_text(f"Bonjour {day.signed_up_name}")
        expect(person.get_by_role("main")).not_to_contain_text("Vérification de votre identité en cours")
        assert [p for p in problems if "Content Security Policy" in p] == [], problems
    finally:
        context.close()
        if person_context is not None:
            person_context.close()


def test_the_console_signs_in_and_searches_without_javascript(counter_day, browser, live_site):  # noqa: F811
    from playwright.sync_api import expect

    context, page, _ = _open_page(browser, java_script_enabled=False)
    try:
        _agent_sign_in(page, live_site, counter_day.agent)
        expect(page.get_by_role("heading", level=1)).to_have_text("Espace agents")
        _search_by_numero(page, live_site, counter_day.numero)
        expect(page.get_by_role("table", name=re.compile("Membres du dossier"))).to_contain_text(counter_day.marc)
    finally:
        context.close()


# --- The accessibility crawl of the console (tests/browser/pages.py, group "console") -----------


def _console_sign_in(c, page, agent, role: str, *, check_second_factor: bool = False) -> None:
    """The console's sign-in through its forms; ``check_second_factor``: the second factor's
    and the recovery code's pages are checked on the way, empty and submitted empty."""
    c.open(page, "backoffice:signin")
    c.submit(page, {"email": agent.email, "password": AGENT_PASSWORD})
    if check_second_factor:
        c.check(page, "backoffice:second_factor", "empty", role)
        c.submit(page)
        c.check(page, "backoffice:second_factor", "submitted empty", role, errors=True)
        c.open(page, "backoffice:recovery_code")
        c.check(page, "backoffice:recovery_code", "empty", role)
        c.submit(page)
        c.check(page, "backoffice:recovery_code", "submitted empty", role, errors=True)
        c.open(page, "backoffice:second_factor")
    c.submit(page, {"code": _totp_now(agent)})
    if not page.url.endswith("/agents/"):
        raise AssertionError(f"the console's sign-in of {agent.email} failed ({page.url})")


def _not_allowed(c, page, name: str, role: str, **kwargs):
    """A POST-only address opened by a GET (a bookmark, a reloaded page): the 405 page."""

    def action():
        response = page.goto(c.url(name, **kwargs))
        assert response.status == 405, f"GET {c.url(name, **kwargs)} answered {response.status}"
        c.check(page, name, "opened by a GET (405 page)", role)

    return c.step(f"{name} [405] as {role}", action)


def _state(c, page, label: str, name: str, state: str, role: str, action, *, errors=False, shows=None) -> bool:
    """One step of a crawl (``action`` brings the page) and the check of the state it reaches;
    ``shows``: a text the page must show, the proof that the state is the one named."""

    def reach():
        action()
        # The text as written (a DSFR badge is drawn in capitals), spaces folded.
        if shows is not None and shows not in " ".join(page.get_by_role("main").text_content().split()):
            raise AssertionError(f"{name} [{state}]: {shows!r} is not on the page ({page.url})")
        c.check(page, name, state, role, errors=errors)

    return c.step(label, reach)


@pytest.fixture
def console_data(live_site, settings, tmp_path):  # noqa: F811
    """Everything the console's sections show, in one Caf, built before the browser starts."""
    settings.MEDIA_ROOT = tmp_path / "media"
    lyon = CafFactory(departement="69", name="Caf du Rhône")
    martin = make_household(caf=lyon, birth_name="MARTIN")
    # A child on a second file of the Caf: the NIR search asks which file.
    second = make_household(caf=lyon)
    MemberFactory(dossier=second.dossier, person=martin.child.person, role="autre")
    separated = make_household(caf=lyon)
    web = Actor(channel=Channel.WEB, account=separated.responsible.account, session_key="k", client_address="192.0.2.7")
    separation = separation_declare(
        actor=web,
        dossier=separated.dossier,
        separated_on=timezone.localdate() - datetime.timedelta(days=3),
        leaving_person=separated.spouse.person,
        new_address={"address_line1": "3 rue des Acacias", "address_line2": "", "postal_code": "69003", "city": "Lyon"},
    )
    CafRequestFactory(dossier=martin.dossier, title="Justificatif de domicile")
    answered = CafRequestFactory(dossier=martin.dossier, title="Avis d'imposition", answered=True)
    CafRequestAnswerFactory(request=answered, author=martin.responsible.person)
    claire = Actor(channel=Channel.WEB, account=martin.responsible.account, session_key="k", client_address="192.0.2.7")
    rectification = rectification_request(
        actor=claire, field=RectificationField.BIRTH_NAME, message="Mon nom de naissance s'écrit avec un accent."
    )
    pending = signup(identifier=nir("2 91 05 69 383 025"), email="ines@example.fr")
    document_for(pending.identity_check)
    provisional = signup(email="louise@example.fr", first_names="Louise", birth_name="Garnier")
    return types.SimpleNamespace(
        counter=AgentFactory(caf=lyon, roles=[AgentRole.COUNTER.value]),
        checker=AgentFactory(caf=lyon, roles=[AgentRole.IDENTITY_CHECKER.value]),
        admin=AgentFactory(caf=lyon, roles=[AgentRole.ADMINISTRATOR.value]),
        spare=AgentFactory(caf=lyon, roles=[AgentRole.COUNTER.value]),
        numero=martin.dossier.numero,
        claire=martin.responsible.person.display_name,
        marc=martin.spouse.person.display_name,
        several_nir=martin.child.identifier,
        separation=separation.pk,
        answered=answered.pk,
        rectification=rectification.pk,
        check=pending.identity_check.pk,
        rekey=(provisional.provisional_identifier.display(), nir("2 91 05 69 383 031").display()),
    )


NEW_AGENT_PASSWORD = "Cèdres et 44 glycines du quai"


def test_console_pages(console_data, crawler):  # noqa: F811
    data = console_data
    c: Crawler = crawler("console")
    counter, checker, admin, new = "counter-agent", "checker", "agent-admin", "new-agent"

    # Not signed in: the sign-in with its errors, the activation's first step.
    page = c.page()
    if c.visit(page, "backoffice:signin"):
        c.submitted_empty(page, "backoffice:signin")
        _state(
            c,
            page,
            "backoffice:signin [wrong password]",
            "backoffice:signin",
            "wrong password",
            "anonymous",
            lambda: c.submit(page, {"email": data.counter.email, "password": "PasLeBonMotDePasse1"}),
            errors=True,
        )
    if c.visit(page, "backoffice:activate", "activation code, empty"):
        c.submitted_empty(page, "backoffice:activate", "activation code submitted empty")

    # The counter agent: the second factor's pages, the counter, the separations, the Caf's requests.
    page = c.page()
    if c.step(
        "sign-in as counter-agent",
        lambda: _console_sign_in(c, page, data.counter, counter, check_second_factor=True),
    ):
        c.check(page, "backoffice:home", "counter sections", counter)
        _counter_states(c, page, data)
        if c.visit(page, "backoffice:separations", "one to process", counter):
            c.visit(page, "backoffice:separation", "declared, to process", counter, change_id=data.separation)
            c.submitted_empty(page, "backoffice:separation", role=counter)
        c.visit(page, "backoffice:caf_requests", "waiting and answered requests", counter)
        c.visit(page, "backoffice:caf_request", "answered", counter, request_id=data.answered)
        if c.visit(page, "backoffice:caf_request_create", "find the file, empty", counter):
            c.submitted_empty(page, "backoffice:caf_request_create", "find the file submitted empty", counter)
            if _state(
                c,
                page,
                "backoffice:caf_request_create [file found]",
                "backoffice:caf_request_create",
                "file found: the request's form",
                counter,
                lambda: c.submit(page, {"numero": data.numero}),
                shows="Créer la demande",
            ):
                c.submitted_empty(page, "backoffice:caf_request_create", "the request's form submitted empty", counter)
        if c.visit(page, "backoffice:recovery_codes", "empty", counter):
            c.submitted_empty(page, "backoffice:recovery_codes", role=counter)
            _state(
                c,
                page,
                "backoffice:recovery_codes [new codes]",
                "backoffice:recovery_codes",
                "new codes shown once",
                counter,
                lambda: c.submit(page, {"password": AGENT_PASSWORD}),
                shows="Vos nouveaux codes de secours",
            )
        if c.visit(page, "backoffice:password_change", "empty", counter):
            c.submitted_empty(page, "backoffice:password_change", role=counter)
        _not_allowed(c, page, "backoffice:signout", counter)

    # The identity checker: the checks' queue, a check, the re-keying, the rectifications.
    page = c.page()
    if c.step("sign-in as checker", lambda: _console_sign_in(c, page, data.checker, checker)):
        c.check(page, "backoffice:home", "identity checker sections", checker)
        c.visit(page, "backoffice:identity_checks", "pending checks", checker)
        if c.visit(
            page,
            "backoffice:identity_check",
            "pending, with a document and a claimed number",
            checker,
            check_id=data.check,
        ):
            refusal = "main form:has(input[name='decision'][value='reject'])"
            c.submitted_empty(page, "backoffice:identity_check", "refusal submitted empty", checker, form=refusal)
        if c.visit(page, "backoffice:identifier_rekey", "empty", checker):
            c.submitted_empty(page, "backoffice:identifier_rekey", role=checker)
            current, attributed = data.rekey
            _state(
                c,
                page,
                "backoffice:identifier_rekey [confirmation]",
                "backoffice:identifier_rekey",
                "confirmation (whose identifier)",
                checker,
                lambda: c.submit(page, {"current": current, "new": attributed}),
                shows="Confirmer le remplacement",
            )
        if c.visit(page, "backoffice:rectifications", "one to process", checker):
            c.visit(page, "backoffice:rectification", "to process", checker, request_id=data.rectification)
            c.submitted_empty(page, "backoffice:rectification", role=checker)

    # The administrator: the agents, a new one (whose activation follows), another one's page.
    page = c.page()
    created = {}
    if c.step("sign-in as agent-admin", lambda: _console_sign_in(c, page, data.admin, admin)):
        c.check(page, "backoffice:home", "administrator sections", admin)
        c.visit(page, "backoffice:agents", "the Caf's agents", admin)
        if c.visit(page, "backoffice:agent_create", "empty", admin):
            c.submitted_empty(page, "backoffice:agent_create", role=admin)

            def create():
                values = {"email": "nouvel.agent@caf.example.fr", "first_names": "Yasmine", "last_name": "Haddad"}
                c.submit(page, {**values, "roles": AgentRole.COUNTER.value})
                c.check(page, "backoffice:agent_create", "activation code shown once", admin)
                created["code"] = page.locator("code.moncompte-activation-code").inner_text().strip()

            c.step("backoffice:agent_create [code]", create)
        c.visit(page, "backoffice:agent_detail", "their own account", admin, agent_id=data.admin.pk)
        if c.visit(page, "backoffice:agent_detail", "an agent of the Caf", admin, agent_id=data.spare.pk):
            roles = f"main form[action='{reverse('backoffice:agent_roles', kwargs={'agent_id': data.spare.pk})}']"

            def without_roles():
                page.locator(
                    f"{roles} label[for='{page.locator(roles + ' input:checked').first.get_attribute('id')}']"
                ).click()
                c.submit(page, form=roles)

            _state(
                c,
                page,
                "backoffice:agent_roles [no role]",
                "backoffice:agent_roles",
                "submitted without a role (errors on the agent's page)",
                admin,
                without_roles,
                errors=True,
            )
        reset = (
            f"main form[action='{reverse('backoffice:agent_second_factor_reset', kwargs={'agent_id': data.spare.pk})}']"
        )
        deactivate = f"main form[action='{reverse('backoffice:agent_deactivate', kwargs={'agent_id': data.spare.pk})}']"
        _state(
            c,
            page,
            "backoffice:agent_second_factor_reset",
            "backoffice:agent_second_factor_reset",
            "new activation code shown once",
            admin,
            lambda: (c.open(page, "backoffice:agent_detail", agent_id=data.spare.pk), c.submit(page, form=reset)),
            shows="Second facteur réinitialisé",
        )
        _state(
            c,
            page,
            "backoffice:agent_deactivate",
            "backoffice:agent_detail",
            "deactivated",
            admin,
            lambda: (c.open(page, "backoffice:agent_detail", agent_id=data.spare.pk), c.submit(page, form=deactivate)),
            shows="est désactivé(e)",
        )
        reactivate = f"main form[action='{reverse('backoffice:agent_reactivate', kwargs={'agent_id': data.spare.pk})}']"
        _state(
            c,
            page,
            "backoffice:agent_reactivate",
            "backoffice:agent_reactivate",
            "reactivated: new activation code shown once",
            admin,
            lambda: c.submit(page, form=reactivate),
            shows="Agent réactivé",
        )
        for name in (
            "backoffice:agent_roles",
            "backoffice:agent_deactivate",
            "backoffice:agent_reactivate",
            "backoffice:agent_second_factor_reset",
        ):
            _not_allowed(c, page, name, admin, agent_id=data.spare.pk)

    # The new agent activates their account with the administrator's code.
    if "code" in created:
        page = c.page()
        secret = {}

        def to_the_password():
            c.open(page, "backoffice:activate")
            c.submit(page, {"email": "nouvel.agent@caf.example.fr", "code": created["code"]})

        def to_the_app():
            c.submit(page, {"password": NEW_AGENT_PASSWORD, "password_confirm": NEW_AGENT_PASSWORD})
            secret["key"] = page.locator("code.moncompte-totp-secret").inner_text()

        if (
            _state(
                c,
                page,
                "backoffice:activate [password]",
                "backoffice:activate",
                "password, empty",
                new,
                to_the_password,
                shows="Choisissez votre mot de passe",
            )
            and c.submitted_empty(page, "backoffice:activate", "password submitted empty", new)
            and _state(
                c,
                page,
                "backoffice:activate [app]",
                "backoffice:activate",
                "authenticator app, empty",
                new,
                to_the_app,
                shows="Ou saisir la clé",
            )
            and c.submitted_empty(page, "backoffice:activate", "authenticator app submitted empty", new)
        ):
            _state(
                c,
                page,
                "backoffice:activate [done]",
                "backoffice:activate",
                "activated: recovery codes shown once",
                new,
                lambda: c.submit(page, {"code": _totp_of_secret(secret["key"])}),
                shows="Votre compte d'agent est activé",
            )
    c.finish()


def _counter_states(c, page, data) -> None:
    """The counter's search and a service, before and after the identification of each person."""
    counter = "counter-agent"
    if not c.visit(page, "backoffice:counter_search", "empty", counter):
        return
    c.submitted_empty(page, "backoffice:counter_search", role=counter)
    _state(
        c,
        page,
        "backoffice:counter_search [not found]",
        "backoffice:counter_search",
        "file not found",
        counter,
        lambda: c.submit(page, {"channel": "counter", "numero": "0000001"}),
        errors=True,
    )
    _state(
        c,
        page,
        "backoffice:counter_search [several]",
        "backoffice:counter_search",
        "a NIR on several files (the choice)",
        counter,
        lambda: (
            c.open(page, "backoffice:counter_search"),
            c.submit(page, {"channel": "counter", "identifier": data.several_nir}),
        ),
        shows="Plusieurs dossiers",
    )
    service = {}

    def search(channel: str):
        c.open(page, "backoffice:counter_search")
        c.submit(page, {"channel": channel, "numero": data.numero})
        service["id"] = int(re.search(r"/agents/accueil/(\d+)/$", page.url).group(1))

    if _state(
        c,
        page,
        "backoffice:counter_service [before]",
        "backoffice:counter_service",
        "before identification, at the counter",
        counter,
        lambda: search("counter"),
    ):
        # The first proof form of the first member (the first form of the page ends the service).
        proof = "main form[action$='/identifier/']"
        c.submitted_empty(
            page, "backoffice:counter_identify", "submitted empty (errors on the service page)", counter, form=proof
        )
        for name, role, state, shown in (
            (
                data.marc,
                "Conjoint ou conjointe",
                "identified: spouse without the delegation (nothing shown)",
                SPOUSE_HIDDEN,
            ),
            (
                data.claire,
                "Responsable du dossier",
                "identified: responsible person (the whole file)",
                "Derniers paiements",
            ),
        ):
            _state(
                c,
                page,
                f"backoffice:counter_service [{state}]",
                "backoffice:counter_service",
                state,
                counter,
                lambda name=name, role=role: (search("counter"), _identify_with_a_document(page, name, role)),
                shows=shown,
            )
        _not_allowed(c, page, "backoffice:counter_identify", counter, service_id=service["id"])
        _not_allowed(c, page, "backoffice:counter_close", counter, service_id=service["id"])
    _state(
        c,
        page,
        "backoffice:counter_service [phone]",
        "backoffice:counter_service",
        "before identification, on the phone",
        counter,
        lambda: search("phone"),
        shows="Référence de l'authentification téléphonique",
    )


# --- The usagers' pages of issue 12 (group "phone-and-assisted") --------------------------------

ASSISTED_PASSWORD = "Quai de Seine 47 lumieres"


@pytest.fixture
def assisted_data(live_site):  # noqa: F811
    """A file nobody has an account for and a counter agent of its Caf; a family whose responsible
    person asks for a phone code. Built before the browser starts."""
    newcomers = make_household(accounts=False)
    family = make_household()
    return types.SimpleNamespace(
        agent=AgentFactory(caf=newcomers.caf, roles=[AgentRole.COUNTER.value]),
        numero=newcomers.dossier.numero,
        newcomer=newcomers.responsible.person.display_name,
        R=family.responsible.credentials,
    )


def test_phone_code_and_assisted_pages(assisted_data, crawler):  # noqa: F811
    data = assisted_data
    c: Crawler = crawler("phone-and-assisted")
    counter, person = "counter-agent", "assisted-newcomer"

    # The phone code, on the responsible person's own page.
    page = c.page()
    if c.step("sign-in as R", lambda: c.sign_in(page, *data.R)) and c.visit(page, "web:phone_code", "empty", "R"):
        _state(
            c,
            page,
            "web:phone_code [code]",
            "web:phone_code",
            "a code shown once",
            "R",
            lambda: c.submit(page),
            shows="Votre code téléphone",
        )

    # The agent identifies a person without an account and starts the assisted first connection.
    agent = c.page()
    service, codes = {}, []

    def identified():
        _search_by_numero(agent, c.base, data.numero)
        _identify_with_a_document(agent, data.newcomer, "Responsable du dossier")
        service["service_id"] = int(re.search(r"/agents/accueil/(\d+)/$", agent.url).group(1))

    def start():
        c.submit(agent, form=f"main form[action='{reverse('backoffice:assisted_start', kwargs=service)}']")
        codes.append(agent.locator("#code-remise-valeur").inner_text().strip())

    def reload():
        c.open(agent, "backoffice:assisted_start", **service)

    if not (
        c.step("sign-in as counter-agent", lambda: _console_sign_in(c, agent, data.agent, counter))
        and _state(
            c,
            agent,
            "backoffice:counter_service [without an account]",
            "backoffice:counter_service",
            "identified: a person without an account (assisted first connection offered)",
            counter,
            identified,
            shows="Première connexion accompagnée",
        )
        and _state(
            c,
            agent,
            "backoffice:assisted_start [code]",
            "backoffice:assisted_start",
            "code shown once",
            counter,
            start,
            shows="Code à donner à la personne",
        )
    ):
        c.finish()
        return
    _state(
        c,
        agent,
        "backoffice:assisted_start [waiting]",
        "backoffice:assisted_start",
        "waiting for the person",
        counter,
        reload,
        shows="En attente",
    )

    # On the counter's terminal: the code page, its errors, then a person who is not the one named.
    terminal = c.page()

    def claim(code: str):
        c.open(terminal, "web:assisted_claim")
        c.submit(terminal, {"code": code})

    if c.visit(terminal, "web:assisted_claim"):
        c.submitted_empty(terminal, "web:assisted_claim")
        _state(
            c,
            terminal,
            "web:assisted_claim [unknown]",
            "web:assisted_claim",
            "unknown code",
            "anonymous",
            lambda: claim("ABCD-EFGH"),
            errors=True,
        )
    declined = _state(
        c,
        terminal,
        "web:assisted_password [not me]",
        "web:assisted_password",
        "declined (not me)",
        person,
        lambda: (claim(codes[0]), c.submit(terminal, form="main form:has(input[name='action'][value='pas_moi'])")),
        shows="Aucun compte n'a été créé",
    )
    # The agent gives a new code; the person chooses their password with it.
    if declined and _state(
        c,
        agent,
        "backoffice:assisted_start [declined]",
        "backoffice:assisted_start",
        "declined: a new code may be given",
        counter,
        reload,
        shows="Donner un nouveau code",
    ):
        password_form = "main form:not(:has(input[name='action']))"
        if c.step("backoffice:assisted_start [new code]", start) and _state(
            c,
            terminal,
            "web:assisted_password",
            "web:assisted_password",
            "empty",
            person,
            lambda: claim(codes[1]),
            shows=f"Vous êtes bien {data.newcomer} ?",
        ):
            c.submitted_empty(terminal, "web:assisted_password", role=person, form=password_form)
            if c.step(
                "web:assisted_password [chosen]",
                lambda: c.submit(
                    terminal, {"password": ASSISTED_PASSWORD, "password_confirm": ASSISTED_PASSWORD}, form=password_form
                ),
            ):
                _state(
                    c,
                    agent,
                    "backoffice:assisted_start [done]",
                    "backoffice:assisted_start",
                    "password created",
                    counter,
                    reload,
                    shows="Mot de passe créé",
                )
    c.finish()
