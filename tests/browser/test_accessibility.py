"""Every page a person can reach, in each state, checked by axe-core (WCAG 2.1 A and AA) and for
horizontal overflow at 320 px, in Chromium (issue 9, point 7; docs/accessibility.md).

The pages and states are listed in tests/browser/pages.py; the crawler reaches each one for real
on the live server (the earlier steps of a flow driven through their forms, each person signed in
through the sign-in form in a browser context of their own) and checks it there. A crawl keeps
going past a page that fails, so that one run lists every violation of every page; it then fails
with the whole list, and with the listed states it could not reach.

axe-core is the npm package pinned in package.json (`npm ci`); its script is injected in the
page (the context bypasses the Content Security Policy for that script only: the pages' own
policy is tested by tests/browser/test_signin_browser.py).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import NoReverseMatch, reverse

from moncompte.core.actors import Actor, Channel, ContactChannel
from moncompte.households.invitations import invitation_send
from moncompte.households.models import Role
from moncompte.identity.models import IdentityCheck
from tests.browser.pages import ONBOARDING_STEPS, PATHS, SIGNED_IN_PAGES, checks_of
from tests.browser.test_franceconnect_browser import franceconnect_site  # noqa: F401
from tests.browser.test_signin_browser import browser, chromium, live_site  # noqa: F401
from tests.factories import DEFAULT_PASSWORD, AccountFactory, MemberFactory, PersonFactory, make_household
from tests.identity.test_document_parsing import png
from tests.integration.test_franceconnect_flow import claims_of
from tests.support.services import axe_script_path, require_or_skip
from tests.web.date_parts import date_parts
from tests.web.test_signup_pages import identity_data

pytestmark = [pytest.mark.browser]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_RUN = """async (tags) => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return results.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((node) => node.target.join(" ")),
  }));
}"""
# The widest element when the page is wider than the viewport: where the overflow comes from.
OVERFLOW = """(limit) => {
  const width = document.documentElement.scrollWidth;
  if (width <= limit) return null;
  // Inside a box that scrolls or clips, an element does not widen the page: left out.
  const clipped = (e) => {
    for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== "visible") return true;
    }
    return false;
  };
  let widest = null, right = 0;
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.right > right + 0.5 && clipped(element)) continue;
    if (box.right > right + 0.5) { right = box.right; widest = element; }
  }
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
    + (typeof e.className === "string" && e.className.trim() ? "." + e.className.trim().split(/\\s+/).join(".") : "");
  const path = [];
  for (let e = widest; e && e !== document.body && path.length < 4; e = e.parentElement) path.unshift(name(e));
  return {width, right: Math.round(right), widest: path.join(" > "),
          text: widest ? (widest.textContent || "").trim().slice(0, 60) : ""};
}"""
NEXT_FRAME = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
ERROR_SHOWN = ".fr-error-text, .fr-alert--error, [aria-invalid='true'], .fr-message--error"
SUBMIT = "button[type=submit], button:not([type]), input[type=submit]"
DESKTOP = {"width": 1280, "height": 900}
SMALL = {"width": 320, "height": 720}
PASSWORD = "Marronniers et 41 pivoines"
SIGNUP_PASSWORD = "Tilleuls et 30 cerisiers"


@pytest.fixture
def axe():
    path = axe_script_path()
    if path is None:
        require_or_skip("axe-core is not installed (npm ci, at the repository's root)")
    return path


def _last_code(address: str) -> str:
    bodies = [m.body for m in mail.outbox if address in m.to]
    assert bodies, f"no message to {address}"
    return re.search(r"\b(\d{6})\b", bodies[-1]).group(1)


class Crawler:
    """Checks pages as it goes and keeps every problem for one report at the end."""

    def __init__(self, chromium_browser, base: str, axe: str, group: str):
        self.browser, self.base, self.axe, self.group = chromium_browser, base, axe, group
        self.expected = checks_of(group)
        self.checked: set[tuple[str, str, str]] = set()
        self.problems: list[str] = []
        self.contexts = []

    def page(self, *, javascript: bool = True):
        context = self.browser.new_context(locale="fr-FR", viewport=DESKTOP, bypass_csp=True)
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()

    def url(self, name: str, **kwargs) -> str:
        return self.base + reverse(name, kwargs=kwargs or None)

    # --- Steps -------------------------------------------------------------------------------

    def step(self, label: str, action) -> bool:
        """Run one step of a crawl; a failure is noted and the crawl of this path stops."""
        try:
            action()
            return True
        except Exception as error:  # noqa: BLE001 - every failure goes in the report
            self.problems.append(f"{label}: {type(error).__name__}: {' | '.join(str(error).splitlines()[:8])[:900]}")
            return False

    def open(self, page, name: str, *, refusal: bool = False, **kwargs):
        response = page.goto(self.url(name, **kwargs))
        status = response.status if response else None
        # A page that is not the person's answers 404 (docs/access.md): that page is checked then.
        if status is None or (status == 404 and not refusal) or status >= 500:
            raise AssertionError(f"GET {PATHS.get(name, name)} answered {status}")
        return response

    def fill(self, page, values: dict[str, str], form: str = "main form[method=post]") -> None:
        scope = page.locator(form).first
        for field, value in values.items():
            inputs = scope.locator(f"[name='{field}']")
            if inputs.count() == 0:
                continue
            first = inputs.first
            kind = (first.get_attribute("type") or first.evaluate("e => e.tagName")).lower()
            if kind in ("radio", "checkbox"):
                # A DSFR radio is drawn by its label, which takes the click.
                choice = scope.locator(f"[name='{field}'][value='{value}']")
                if not choice.is_checked():
                    page.locator(f"label[for='{choice.get_attribute('id')}']").click()
            elif kind == "select":
                first.select_option(value)
            elif kind == "file":
                first.set_input_files(value)
            else:
                first.fill(value)

    def submit(self, page, values: dict | None = None, form: str = "main form[method=post]"):
        if values:
            self.fill(page, values, form)
        with page.expect_navigation():
            page.locator(form).first.locator(SUBMIT).first.click()
        return page

    def sign_in(self, page, identifier: str, password: str) -> None:
        self.open(page, "web:signin")
        self.submit(page, {"identifier": identifier, "password": password})
        if urlsplit(page.url).path == reverse("web:signin"):
            raise AssertionError(f"the sign-in of {identifier} failed")

    # --- The checks --------------------------------------------------------------------------

    def check(self, page, name: str, state: str, role: str = "anonymous", *, errors: bool = False) -> None:
        key = (name, state, role)
        where = f"{name} [{state}] as {role} ({urlsplit(page.url).path})"
        if key not in self.expected:
            self.problems.append(f"{where}: not listed in tests/browser/pages.py ({self.group})")
        self.checked.add(key)
        if errors and page.locator(ERROR_SHOWN).count() == 0:
            self.problems.append(f"{where}: no error shown after the submission")
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=self.axe)
        for violation in page.evaluate(AXE_RUN, WCAG_TAGS):
            targets = "; ".join(violation["targets"][:8])
            self.problems.append(
                f"{where}: axe {violation['id']} ({violation['impact']}): {violation['help']} -> {targets}"
            )
        page.set_viewport_size(SMALL)
        page.evaluate(NEXT_FRAME)
        overflow = page.evaluate(OVERFLOW, SMALL["width"])
        page.set_viewport_size(DESKTOP)
        if overflow:
            self.problems.append(
                f"{where}: {overflow['width']} px wide at 320 px; widest: {overflow['widest']} "
                f"(right edge {overflow['right']} px, {overflow['text']!r})"
            )

    def visit(self, page, name: str, state: str = "empty", role: str = "anonymous", refusal=False, **kwargs) -> bool:
        return self.step(
            f"{name} [{state}] as {role}",
            lambda: (self.open(page, name, refusal=refusal, **kwargs), self.check(page, name, state, role)),
        )

    def submitted_empty(self, page, name: str, state: str = "submitted empty", role: str = "anonymous", **kw) -> bool:
        return self.step(
            f"{name} [{state}] as {role}",
            lambda: (self.submit(page, **kw), self.check(page, name, state, role, errors=True)),
        )

    def finish(self) -> None:
        self.close()
        missing = sorted(self.expected - self.checked)
        report = list(self.problems)
        report += [f"{name} [{state}] as {role}: listed but not reached" for name, state, role in missing]
        assert not report, f"{len(report)} accessibility problems:\n" + "\n".join(report)


@pytest.fixture
def crawler(request, browser, live_site, axe):  # noqa: F811
    def make(group: str) -> Crawler:
        return Crawler(browser, live_site, axe, group)

    return make


# --- Public pages, anonymous ------------------------------------------------------------------


@pytest.fixture
def public_data(live_site):  # noqa: F811
    """Built before the browser starts (see tests.browser.test_signin_browser.site_family)."""
    return make_household()


def test_public_pages(public_data, crawler):
    family = public_data
    c = crawler("public")
    page = c.page()

    c.step("web:root", lambda: (page.goto(c.base + "/"), c.check(page, "web:root", "redirected to the sign-in")))
    if c.visit(page, "web:signin"):
        c.submitted_empty(page, "web:signin")
        c.step(
            "web:signin [wrong password]",
            lambda: (
                c.submit(page, {"identifier": family.responsible.identifier, "password": "PasLeBonMotDePasse1"}),
                c.check(page, "web:signin", "wrong password", errors=True),
            ),
        )

    def csrf_expired():
        c.open(page, "web:signin")
        page.context.clear_cookies()
        c.submit(page, {"identifier": family.responsible.identifier, "password": family.responsible.password})
        c.check(page, "web:signin", "form expired (CSRF page)")

    c.step("web:signin [form expired]", csrf_expired)
    if c.visit(page, "web:signin_unlock"):
        c.submitted_empty(page, "web:signin_unlock")
    c.visit(page, "web:first_connection")
    if c.visit(page, "web:first_connection_file"):
        c.submitted_empty(page, "web:first_connection_file")
        c.step(
            "web:first_connection_file [invalid values]",
            lambda: (
                c.submit(page, {"place": "ABC", "numero": "12", "code": "1"}),
                c.check(page, "web:first_connection_file", "invalid values", errors=True),
            ),
        )
    if c.visit(page, "web:password_reset"):
        c.submitted_empty(page, "web:password_reset")
    if c.visit(page, "web:signup"):
        c.submitted_empty(page, "web:signup")
        huge = identity_data(birth_day="99999999999", birth_month="0", birth_year="1" + "0" * 30)
        c.step(
            "web:signup [invalid values]",
            lambda: (c.submit(page, huge), c.check(page, "web:signup", "invalid values", errors=True)),
        )
    if c.visit(page, "web:invitation"):
        c.submitted_empty(page, "web:invitation")
    c.step(
        "web:invitation_old_link",
        lambda: (
            page.goto(c.base + "/invitation/ancien-lien-abcdef"),
            c.check(page, "web:invitation_old_link", "old link refused"),
        ),
    )
    member = family.responsible
    sent = {
        "identifier": member.identifier,
        "numero": family.dossier.numero,
        **date_parts(member.person.birth_date),
    }
    for name in ("web:identifier_reminder", "web:invitation_request"):
        if c.visit(page, name):
            c.submitted_empty(page, name)
            c.step(
                f"{name} [sent]",
                lambda name=name: (c.open(page, name), c.submit(page, sent), c.check(page, name, "sent")),
            )
    for name in (
        "web:help",
        "web:accessibility",
        "web:legal_notice",
        "web:personal_data",
        "web:cookies",
        "web:sitemap",
    ):
        c.visit(page, name)

    def not_found():
        response = page.goto(c.base + PATHS["404"])
        assert response.status == 404, f"answered {response.status}"
        c.check(page, "404", "not found")

    c.step("404", not_found)
    c.finish()


# --- The multi-step flows, driven for real ------------------------------------------------------


@pytest.fixture
def flows_data(live_site, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    newcomer = make_household(accounts=False, legacy_code="12345678")
    reset = make_household()
    unlock = make_household()
    invited_family = make_household()
    invited = MemberFactory(dossier=invited_family.dossier, role=Role.ENFANT, person__age=17)
    inviter = Actor.visitor(channel=Channel.WEB).signed_in_as(invited_family.responsible.account, session_key=None)
    invitation = invitation_send(
        actor=inviter, member=invited, channel=ContactChannel.EMAIL, destination="invite@example.fr"
    )
    document = tmp_path / "piece-identite.png"
    document.write_bytes(png())
    return {
        "newcomer": newcomer,
        "reset": (reset.responsible, reset.responsible.account.contacts.get().value),
        "unlock": (unlock.responsible, unlock.responsible.account.contacts.get().value),
        "invitation": (invitation.code, invited.person.raw_identifier, invited.person.birth_date),
        "document": str(document),
    }


def test_flows(flows_data, crawler):
    c = crawler("flows")

    # First connection: dossier, NIR, password, then the contact, as the newcomer.
    family = flows_data["newcomer"]
    page = c.page()

    def first_connection():
        c.open(page, "web:first_connection_file")
        c.submit(page, {"place": family.caf.departement, "numero": family.dossier.numero, "code": "12345678"})
        c.check(page, "web:first_connection_nir", "empty")

    if (
        c.step("web:first_connection_nir", first_connection)
        and c.submitted_empty(page, "web:first_connection_nir")
        and c.step(
            "web:first_connection_password",
            lambda: (
                c.submit(page, {"identifier": family.responsible.identifier}),
                c.check(page, "web:first_connection_password", "empty"),
            ),
        )
        and c.submitted_empty(page, "web:first_connection_password")
        and c.step(
            "web:contact_validate [newcomer]",
            lambda: (
                c.submit(page, {"password": PASSWORD, "password_confirm": PASSWORD}),
                c.check(page, "web:contact_validate", "contact choice", "newcomer"),
            ),
        )
    ):
        _contact_steps(c, page, "web:contact_validate", "newcomer", "nouveau@example.fr", "contact choice")
        # The account is usable now: the first-connection screens come first, then the home page.
        c.step(
            "web:onboarding [newcomer]",
            lambda: (
                c.submit(page, {"code": _last_code("nouveau@example.fr")}),
                c.check(page, "web:onboarding", "first visit", "newcomer"),
            ),
        )
        for step in ONBOARDING_STEPS:
            c.visit(page, "web:onboarding_step", f"step {step}", "newcomer", step=step)
        c.visit(page, "web:home", "first visit", "newcomer")

    # Signup: identity, contact, code, password, provisional identifier, document.
    page = c.page()
    if c.step(
        "web:signup_contact",
        lambda: (
            c.open(page, "web:signup"),
            c.submit(page, identity_data()),
            c.check(page, "web:signup_contact", "contact choice"),
        ),
    ) and _contact_steps(c, page, "web:signup_contact", "anonymous", "ines@example.fr", "contact choice"):
        if (
            c.step(
                "web:signup_password",
                lambda: (
                    c.submit(page, {"code": _last_code("ines@example.fr")}),
                    c.check(page, "web:signup_password", "empty"),
                ),
            )
            and c.submitted_empty(page, "web:signup_password")
            and c.step(
                "web:signup_provisional",
                lambda: (
                    c.submit(page, {"password": SIGNUP_PASSWORD, "password_confirm": SIGNUP_PASSWORD}),
                    c.check(page, "web:signup_provisional", "shown once", "P"),
                ),
            )
            and c.visit(page, "web:signup_document", "empty", "P")
            and c.submitted_empty(page, "web:signup_document", role="P")
        ):

            def send_document():
                kind = page.locator("main form [name='kind']").first.get_attribute("value")
                c.submit(page, {"kind": kind, "document": flows_data["document"]})
                c.check(page, "web:signup_document_done", "sent", "P")

            c.step("web:signup_document_done", send_document)

    # Password reset: request, code, new password.
    person, address = flows_data["reset"]
    page = c.page()
    if (
        c.step(
            "web:password_reset_code",
            lambda: (
                c.open(page, "web:password_reset"),
                c.submit(page, {"identifier": person.identifier}),
                c.check(page, "web:password_reset_code", "empty"),
            ),
        )
        and c.submitted_empty(page, "web:password_reset_code")
        and c.step(
            "web:password_reset_password",
            lambda: (
                c.submit(page, {"code": _last_code(address)}),
                c.check(page, "web:password_reset_password", "empty"),
            ),
        )
    ):
        c.submitted_empty(page, "web:password_reset_password")

    # Invitation: the code and the identity, then the password.
    code, identifier, birth_date = flows_data["invitation"]
    page = c.page()
    if c.step(
        "web:invitation_password",
        lambda: (
            c.open(page, "web:invitation"),
            c.submit(page, {"code": code, "identifier": identifier, **date_parts(birth_date)}),
            c.check(page, "web:invitation_password", "empty"),
        ),
    ):
        c.submitted_empty(page, "web:invitation_password")

    # Sign-in unlock by a code sent to the validated contact.
    person, address = flows_data["unlock"]
    page = c.page()
    if c.step(
        "web:signin_unlock_code",
        lambda: (
            c.open(page, "web:signin_unlock"),
            c.submit(page, {"identifier": person.identifier, "password": person.password}),
            c.check(page, "web:signin_unlock_code", "empty"),
        ),
    ):
        c.submitted_empty(page, "web:signin_unlock_code")
    c.finish()


def _contact_steps(
    c: Crawler, page, name: str, role: str, address: str, choice: str, extra: dict | None = None
) -> bool:
    """From the contact choice (checked already): submitted empty, the code page, submitted empty."""
    return (
        c.submitted_empty(page, name, f"{choice} submitted empty", role)
        and c.step(
            f"{name} [code] as {role}",
            lambda: (
                c.submit(page, {"channel": "email", "email": address, **(extra or {})}),
                c.check(page, name, "code", role),
            ),
        )
        and c.submitted_empty(page, name, "code submitted empty", role)
    )


# --- Signed-in pages, as each role ------------------------------------------------------------


@pytest.fixture
def people(live_site):  # noqa: F811
    """Every role of tests/browser/pages.py, with an account, and their credentials."""
    family = make_household()
    MemberFactory(dossier=family.dossier, role=Role.ENFANT, person__age=17)  # one to invite
    delegated = make_household(delegated=True)
    former = MemberFactory(dossier=family.dossier, spouse=True, ended=True)
    AccountFactory(person=former.person)
    provisional = PersonFactory(provisional=True)
    AccountFactory(person=provisional)
    IdentityCheck.objects.create(person=provisional)
    stranger = AccountFactory()
    # The responsible person's contact, for the page that confirms its removal.
    contact = family.responsible.account.contacts.order_by("pk").first().pk
    return {
        "contact_id": contact,
        "R": family.responsible.credentials,
        "S": family.spouse.credentials,
        "S+": delegated.spouse.credentials,
        "M17": family.child.credentials,
        "former": (former.person.raw_identifier, DEFAULT_PASSWORD),
        "P": (provisional.raw_identifier, DEFAULT_PASSWORD),
        "stranger": (stranger.person.raw_identifier, DEFAULT_PASSWORD),
    }


def test_signed_in_pages(people, crawler):
    c = crawler("signed-in")
    contact_id = people.pop("contact_id")
    for role, credentials in people.items():
        page = c.page()
        if not c.step(f"sign-in as {role}", lambda page=page, credentials=credentials: c.sign_in(page, *credentials)):
            continue
        for name in SIGNED_IN_PAGES:
            # The responsible person may open every page; the others may be refused some.
            c.visit(page, name, "empty", role, refusal=role != "R")
        if role == "R":
            c.visit(page, "web:contact_remove", "confirmation", "R", contact_id=contact_id)
            _responsible_states(c, page, credentials[1])
    c.finish()


def _responsible_states(c: Crawler, page, password: str) -> None:
    """The responsible person's forms with errors, the contact change, and the 405 pages."""
    for name in ("web:household_delegation", "web:household_separation", "web:household_invite", "web:password_change"):
        if c.step(f"{name} as R", lambda name=name: c.open(page, name)):
            c.submitted_empty(page, name, role="R")
    if c.step("web:own_data as R", lambda: c.open(page, "web:own_data")):
        rectification = f"main form[action='{reverse('web:own_data_rectification')}']"
        state = "submitted empty (errors on web:own_data)"
        c.submitted_empty(page, "web:own_data_rectification", state, "R", form=rectification)
    if c.step("web:contact_validate as R", lambda: c.open(page, "web:contact_validate")):
        extra = {"current_password": password}
        _contact_steps(c, page, "web:contact_validate", "R", "autre@example.fr", "contact choice", extra)
    for name, kwargs in (
        ("web:session_end", {"session_id": 1}),
        ("web:sessions_end_all", {}),
        ("web:own_data_rectification", {}),
        ("web:signout", {}),
    ):

        def not_allowed(name=name, kwargs=kwargs):
            try:
                url = c.url(name, **kwargs)
            except NoReverseMatch as error:
                raise AssertionError(f"no URL {name}") from error
            response = page.goto(url)
            assert response.status == 405, f"GET {url} answered {response.status}"
            c.check(page, name, "opened by a GET (405 page)", "R")

        c.step(f"{name} [405]", not_allowed)


def test_the_checks_catch_a_missing_label_and_an_overflow(browser, live_site, axe):  # noqa: F811
    """The crawler's own checks, on a page made wrong on purpose: they must not pass everything."""
    c = Crawler(browser, live_site, axe, "none")
    page = c.page()
    page.set_content(
        '<html lang="fr"><head><title>Essai</title></head><body><main><h1>Essai</h1>'
        '<input type="text" name="x"><div id="large" style="width: 600px">trop large</div></main></body></html>'
    )
    c.check(page, "essai", "wrong on purpose")
    c.close()
    problems = "\n".join(c.problems)
    assert "axe label (critical)" in problems, problems
    assert "608 px wide at 320 px; widest: main > div#large" in problems, problems  # 600 + body margins


# --- The Caf's requests (docs/caf-requests.md) -------------------------------------------------


@pytest.fixture
def caf_data(live_site, settings, tmp_path):  # noqa: F811
    """A family with requests in every state (one answered with a file), built before the browser."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from moncompte.caf_requests.services import caf_request_answer
    from tests.factories import CafRequestFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    family = make_household()
    stranger = AccountFactory()
    waiting = CafRequestFactory(dossier=family.dossier, title="Justificatif de domicile")
    late = CafRequestFactory(dossier=family.dossier, late=True, title="Avis d'imposition")
    answered = CafRequestFactory(dossier=family.dossier, title="Attestation de l'employeur")
    actor = Actor(channel=Channel.WEB, account=family.responsible.account)
    caf_request_answer(
        actor=actor, request=answered, text="Voici l'attestation.", files=[SimpleUploadedFile("attestation.png", png())]
    )
    closed = CafRequestFactory(dossier=family.dossier, closed=True, title="Relevé d'identité bancaire")
    to_spouse = CafRequestFactory(dossier=family.dossier, addressed_to=family.spouse.person, title="Certificat")
    disguised = tmp_path / "faux.pdf"
    disguised.write_bytes(b"<html><body>pas un PDF</body></html>")
    return {
        "R": family.responsible.credentials,
        "S": family.spouse.credentials,
        "M17": family.child.credentials,
        "stranger": (stranger.person.raw_identifier, DEFAULT_PASSWORD),
        "pk": {"waiting": waiting.pk, "late": late.pk, "answered": answered.pk, "closed": closed.pk},
        "to_spouse": to_spouse.pk,
        "disguised": str(disguised),
    }


def test_caf_request_pages(caf_data, crawler):
    c = crawler("caf-requests")
    pk = caf_data["pk"]
    page = c.page()
    if c.step("sign-in as stranger", lambda: c.sign_in(page, *caf_data["stranger"])):
        c.visit(page, "web:caf_requests", "no request", "stranger")
    page = c.page()
    if c.step("sign-in as R", lambda: c.sign_in(page, *caf_data["R"])):
        c.visit(page, "web:caf_requests", "waiting, late and answered requests", "R")
        if c.visit(page, "web:caf_request", "waiting, no answer", "R", pk=pk["waiting"]):
            c.submitted_empty(page, "web:caf_request", role="R")
            c.step(
                "web:caf_request [refused file] as R",
                lambda: (
                    c.submit(page, {"text": "Mon document", "files": caf_data["disguised"]}),
                    c.check(page, "web:caf_request", "refused file", "R", errors=True),
                ),
            )
        c.visit(page, "web:caf_request", "answered (history with a file)", "R", pk=pk["answered"])
        c.visit(page, "web:caf_request", "late", "R", pk=pk["late"])
        c.visit(page, "web:caf_request", "closed", "R", pk=pk["closed"])
    page = c.page()
    if c.step("sign-in as S", lambda: c.sign_in(page, *caf_data["S"])):
        c.visit(page, "web:caf_requests", "a request addressed to them", "S")
        c.visit(page, "web:caf_request", "addressed to them", "S", pk=caf_data["to_spouse"])
    page = c.page()
    if c.step("sign-in as M17", lambda: c.sign_in(page, *caf_data["M17"])):
        c.visit(page, "web:caf_request", "another member's request (404 page)", "M17", refusal=True, pk=pk["waiting"])
    c.finish()


def test_caf_request_answered_without_javascript(caf_data, browser, live_site, tmp_path):  # noqa: F811
    """The answer form works without JavaScript: a text and two files sent, the history shows them."""
    first, second = tmp_path / "bail.png", tmp_path / "quittance.png"
    first.write_bytes(png())
    second.write_bytes(png((40, 60)))
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(live_site + reverse("web:signin"))
        page.fill("[name='identifier']", caf_data["R"][0])
        page.fill("[name='password']", caf_data["R"][1])
        with page.expect_navigation():
            page.locator("main form[method=post]").first.locator(SUBMIT).first.click()
        url = live_site + reverse("web:caf_request", kwargs={"pk": caf_data["pk"]["waiting"]})
        page.goto(url)
        page.fill("[name='text']", "Le bail et la quittance.")
        page.set_input_files("[name='files']", [str(first), str(second)])
        with page.expect_navigation():
            page.locator("main form[method=post]").first.locator(SUBMIT).first.click()
        assert page.url == url
        text = page.inner_text("main")
        assert "Votre réponse a bien été envoyée à la Caf." in text
        assert "Le bail et la quittance." in text and "bail.png" in text and "quittance.png" in text
    finally:
        context.close()


# --- FranceConnect (docs/franceconnect.md), against the local provider ---------------------------


@pytest.fixture
def franceconnect_people(franceconnect_site):  # noqa: F811
    """The persons FranceConnect recognises, or not, and their claims; built before the browser."""
    family = make_household()
    newcomer = make_household(accounts=False).responsible.person
    child = MemberFactory(dossier=family.dossier, role=Role.ENFANT, person__age=13).person
    return {
        "provider": franceconnect_site,
        "account holder": claims_of(family.responsible.person),
        "without an account": claims_of(newcomer),
        "under 16": claims_of(child),
        "unknown": franceconnect_site.identity("inconnu"),
    }


FRANCECONNECT_FORM = "main form[action='/franceconnect/connexion/']"


def test_franceconnect_pages(franceconnect_people, crawler):
    provider = franceconnect_people["provider"]
    c = crawler("franceconnect")

    def through_franceconnect(page, who: str | None, *, start: str = "web:signin") -> None:
        """From the page's button through the provider (the identity told to it) and back."""
        if who is not None:
            provider.next_identity(franceconnect_people[who])
        c.open(page, start)
        c.submit(page, form=FRANCECONNECT_FORM)

    def back(page, name: str, state: str, who: str | None, mode: str = "none", role: str = "anonymous") -> bool:
        def action():
            provider.misbehave(mode)
            try:
                through_franceconnect(page, who)
            finally:
                provider.misbehave("none")
            c.check(page, name, state, role)

        return c.step(f"{name} [{state}]", action)

    # The button, then cancelled on the provider's own page (no identity told: its choice page).
    page = c.page()
    if c.visit(page, "web:signin", "with the FranceConnect button"):

        def cancelled():
            c.submit(page, form=FRANCECONNECT_FORM)
            with page.expect_navigation():
                page.get_by_role("button", name="Annuler et revenir sur le service").click()
            c.check(page, "web:franceconnect_callback", "cancelled on the provider's page")

        c.step("web:franceconnect_callback [cancelled]", cancelled)
    c.visit(page, "web:signup", "with the FranceConnect button")

    # What a browser brings that it did not start: refused before FranceConnect is asked.
    def unknown_state():
        page.goto(c.url("web:franceconnect_callback") + "?state=inconnu&code=inconnu")
        c.check(page, "web:franceconnect_callback", "state unknown (expired page)")

    c.step("web:franceconnect_callback [state unknown]", unknown_state)
    c.visit(page, "web:franceconnect_confirm", "nothing to confirm (expired page)")
    c.visit(page, "web:franceconnect_logout_return", "a return not asked for (400 page)")

    # The ways back that sign nobody in.
    back(page, "web:franceconnect_callback", "a check of the id_token failed", "account holder", "wrong_nonce")
    back(page, "web:franceconnect_callback", "refused (under 16)", "under 16")
    if back(page, "web:franceconnect_not_recognised", "nobody recognised", "unknown"):
        c.step(
            "web:signup [prefilled from FranceConnect]",
            lambda: (
                page.get_by_role("link", name="Créer mon compte avec vérification d'identité").click(),
                page.wait_for_url(c.url("web:signup")),
                c.check(page, "web:signup", "prefilled from FranceConnect"),
            ),
        )

    # An account holder: the confirmation, signed in, then signed out through the session end.
    page = c.page()
    if back(page, "web:franceconnect_confirm", "an account holder recognised", "account holder"):

        def signed_out():
            c.submit(page)  # "Oui, c'est bien moi"
            c.submit(page, form="header form[action='/deconnexion/']")
            page.wait_for_url(c.url("web:signin") + "?deconnecte=1")
            c.check(page, "web:signin", "signed out through FranceConnect's session end")

        c.step("web:signin [signed out through FranceConnect]", signed_out)

    # A person without an account: the confirmation, then the optional password.
    page = c.page()
    if back(page, "web:franceconnect_confirm", "a person without an account recognised", "without an account"):
        if c.step(
            "web:franceconnect_password",
            lambda: (c.submit(page), c.check(page, "web:franceconnect_password", "empty", "FC-newcomer")),
        ):
            c.submitted_empty(page, "web:franceconnect_password", role="FC-newcomer")
    c.finish()
