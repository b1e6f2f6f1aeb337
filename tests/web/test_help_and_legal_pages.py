"""The help page, the legal pages, the site map, and the DSFR header and footer every page carries
(issue 9, points 4 and 5 and the 404 under ``make run``)."""

import ast
import importlib
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.test import Client
from django.urls import reverse

from moncompte.web import errors
from moncompte.web.pages.views import cookies_in_use
from tests.conftest import sign_in
from tests.support.server import free_port

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TEL = 'href="tel:+33969325252"'

# Each public page of moncompte.web.pages and its title (h1).
PAGES = {
    "web:help": "Aide",
    "web:accessibility": "Déclaration d'accessibilité",
    "web:legal_notice": "Mentions légales",
    "web:personal_data": "Données personnelles",
    "web:cookies": "Gestion des cookies",
    "web:sitemap": "Plan du site",
}

# The anchors of /aide/ other pages and messages link to (the shared brief of issue 9).
HELP_ANCHORS = [
    "nouvelle-connexion",
    "numero-securite-sociale",
    "premiere-connexion",
    "sans-courriel-ni-mobile",
    "mot-de-passe-oublie",
    "identifiant-oublie",
    "membres-du-foyer",
    "autorisation-de-gestion",
    "nous-contacter",
]


def _footer(body: str) -> str:
    found = re.search(r'<footer class="fr-footer".*?</footer>', body, re.S)
    assert found, "no DSFR footer"
    return found.group(0)


def _links_of(html: str, list_class: str) -> dict[str, str]:
    """The links of the <ul class=list_class>: href -> text."""
    found = re.search(rf'<ul class="{list_class}">(.*?)</ul>', html, re.S)
    assert found, f"no {list_class}"
    return {
        href: re.sub(r"\s+", " ", text).strip()
        for href, text in re.findall(r'href="([^"]+)"[^>]*>(.*?)</a>', found.group(1), re.S)
    }


def assert_mandatory_footer(body: str) -> None:
    footer = _footer(body)
    content = _links_of(footer, "fr-footer__content-list")
    for site in ("legifrance.gouv.fr", "gouvernement.fr", "service-public.fr", "data.gouv.fr"):
        assert any(re.match(rf"https://(www\.)?{re.escape(site)}/?$", href) for href in content), site
    bottom = _links_of(footer, "fr-footer__bottom-list")
    assert bottom.get(reverse("web:sitemap")) == "Plan du site"
    assert bottom.get(reverse("web:accessibility")) == "Accessibilité : non conforme"
    assert bottom.get(reverse("web:legal_notice")) == "Mentions légales"
    assert bottom.get(reverse("web:personal_data")) == "Données personnelles"
    assert bottom.get(reverse("web:cookies")) == "Gestion des cookies"
    assert re.search(r'class="fr-footer__bottom-copy">.*licence etalab-2\.0', footer, re.S)
    assert TEL in footer and "prix d'un appel" in footer


def assert_header_help_link(body: str) -> None:
    tools = re.search(r'<div class="fr-header__tools-links">(.*?)</div>', body, re.S).group(1)
    assert re.search(rf'class="fr-btn fr-icon-question-line" href="{reverse("web:help")}">Aide</a>', tools)


def _is_french_page(response, title: str) -> str:
    body = response.content.decode()
    assert response.status_code == 200, response.status_code
    assert '<html lang="fr"' in body
    assert f"<h1>{title}</h1>" in body
    # Phones may dial the help number: format-detection no longer turns telephone off.
    assert "telephone=no" not in body
    return body


@pytest.fixture
def signed_in(family):
    client = Client()
    assert sign_in(client, *family.responsible.credentials).status_code == 302
    return client


@pytest.mark.parametrize("name", PAGES)
def test_each_page_answers_in_french_to_anyone(client, name):
    body = _is_french_page(client.get(reverse(name)), PAGES[name])
    assert_mandatory_footer(body)
    assert_header_help_link(body)
    assert "Se connecter" in body and "Se déconnecter" not in body


@pytest.mark.parametrize("name", PAGES)
def test_each_page_answers_in_french_to_a_signed_in_person(signed_in, family, name):
    body = _is_french_page(signed_in.get(reverse(name)), PAGES[name])
    assert_mandatory_footer(body)
    assert family.responsible.person.display_name in body and "Se déconnecter" in body


def test_the_pages_are_get_only(client):
    for name in PAGES:
        response = client.post(reverse(name))
        assert response.status_code == 405 and "Adresse à ne pas ouvrir directement" in response.content.decode()


def test_the_service_pages_carry_the_footer_and_the_help_link(client, signed_in):
    for browser, path in ((client, "/connexion/"), (client, "/premiere-connexion/"), (signed_in, "/mon-compte/")):
        response = browser.get(path)
        assert response.status_code == 200, path
        assert_mandatory_footer(response.content.decode())
        assert_header_help_link(response.content.decode())


def test_the_error_pages_carry_the_footer_without_anything_personal(signed_in, family, rf):
    bodies = [
        signed_in.get("/nulle-part/").content.decode(),
        signed_in.get("/deconnexion/").content.decode(),  # 405
        errors.server_error(rf.get("/")).content.decode(),
        errors.bad_request(rf.get("/")).content.decode(),
        errors.csrf_failure(rf.get("/")).content.decode(),
    ]
    for body in bodies:
        assert_mandatory_footer(body)
        assert_header_help_link(body)
        assert family.responsible.person.display_name not in body
        assert "Se déconnecter" not in body and "csrfmiddlewaretoken" not in body


def test_the_help_page_has_every_anchor_as_a_titled_section(client):
    body = client.get(reverse("web:help")).content.decode()
    for anchor in HELP_ANCHORS:
        section = re.search(rf'<section id="{anchor}"[^>]*>\s*<h2 id="titre-{anchor}">[^<]+</h2>', body)
        assert section, anchor
        assert f'href="#{anchor}"' in body, f"{anchor} missing from the summary"
    assert body.count(TEL) >= 3  # footer, contact section and the other sections that give it


def test_the_help_page_links_every_way_in(client):
    body = client.get(reverse("web:help")).content.decode()
    for name in (
        "web:first_connection",
        "web:password_reset",
        "web:identifier_reminder",
        "web:invitation_request",
        "web:invitation",
        "web:signup",
    ):
        assert f'href="{reverse(name)}"' in body, name
    for image in ("carte-vitale", "premiere-connexion-1", "premiere-connexion-2", "premiere-connexion-3"):
        img = re.search(rf'<img [^>]*src="[^"]*web/help/{image}\.svg"[^>]*>', body)
        assert img and re.search(r'alt="[^"]{20,}"', img.group(0)), image


def test_the_help_images_exist():
    folder = ROOT / "moncompte/web/static/web/help"
    for name in (
        "carte-vitale",
        "premiere-connexion-1",
        "premiere-connexion-2",
        "premiere-connexion-3",
        "premiere-connexion-4",
    ):
        assert (folder / f"{name}.svg").read_text().startswith("<svg")


def test_the_accessibility_statement_says_non_conforme_and_why(client):
    body = client.get(reverse("web:accessibility")).content.decode()
    assert "<strong>non conforme</strong>" in body and "aucun audit" in body.lower()
    for heading in (
        "État de conformité",
        "Résultats des tests",
        "Contenus non accessibles",
        "Établissement de cette déclaration",
        "Retour d'information et contact",
        "Voies de recours",
    ):
        assert f"<h2>{heading}</h2>" in body, heading
    assert "2 décembre 2026" in body and "axe-core" in body and "Playwright" in body
    assert "Libre réponse 71120, 75342 Paris CEDEX 07" in body
    assert "partiellement conforme" not in body


def test_the_personal_data_page_states_the_durations_the_service_applies(client, settings):
    settings.MONCOMPTE_SESSION_IDLE_SECONDS = 17 * 60
    settings.MONCOMPTE_CODE_TTL_SECONDS = 13 * 60
    settings.MONCOMPTE_INVITATION_DAYS = 11
    body = client.get(reverse("web:personal_data")).content.decode()
    assert "après 17 minutes sans activité" in body
    assert "valable que 13 minutes" in body and "valable que 11 jours" in body
    assert "article 6, paragraphe 1, point e" in body and "cnil.fr" in body
    assert f'href="{reverse("web:own_data")}"' in body and f'href="{reverse("web:own_data")}#titre-signaler"' in body


def test_the_legal_notice_shows_what_the_deployment_states(client, settings):
    body = client.get(reverse("web:legal_notice")).content.decode()
    assert "Cnaf" in body and "lors de sa mise en service" in body
    settings.MONCOMPTE_LEGAL_HOST = "Hébergeur Exemple, 1 rue de l'Exemple, 75000 Paris"
    body = client.get(reverse("web:legal_notice")).content.decode()
    assert "Hébergeur Exemple, 1 rue de l&#x27;Exemple, 75000 Paris" in body
    assert "lors de sa mise en service" not in body


def test_the_sitemap_lists_personal_pages_only_when_signed_in(client, signed_in, family):
    anonymous = client.get(reverse("web:sitemap")).content.decode()
    personal = signed_in.get(reverse("web:sitemap")).content.decode()
    for name in ("web:help", "web:signin", "web:first_connection", "web:signup", "web:cookies"):
        assert f'href="{reverse(name)}"' in anonymous and f'href="{reverse(name)}"' in personal
    for name in ("web:home", "web:own_data", "web:contacts", "web:household", "web:sessions"):
        assert f'href="{reverse(name)}"' not in anonymous
        assert f'href="{reverse(name)}"' in personal
    # The policy gives a child no household page: the map does not link to a page that would not open.
    child = Client()
    assert sign_in(child, *family.child.credentials).status_code == 302
    assert f'href="{reverse("web:household")}"' not in child.get(reverse("web:sitemap")).content.decode()


# --- Cookies: the page names every cookie the service sets ----------------------------------------


def _set_cookie_names_in_code() -> set[str]:
    """The first argument of every ``set_cookie(...)`` call in moncompte/, resolved to its value."""
    names = set()
    for path in (ROOT / "moncompte").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "set_cookie"):
                continue
            argument = node.args[0] if node.args else next(k.value for k in node.keywords if k.arg == "key")
            if isinstance(argument, ast.Constant):
                names.add(argument.value)
            elif isinstance(argument, ast.Name):
                module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
                names.add(getattr(importlib.import_module(module), argument.id))
            elif isinstance(argument, ast.Attribute) and getattr(argument.value, "id", None) == "settings":
                names.add(getattr(settings, argument.attr))
            else:
                pytest.fail(f"{path}:{node.lineno}: a cookie name this test cannot read; name it on the cookies page")
    return names


def _cookies_of_settings() -> set[str]:
    names = {settings.SESSION_COOKIE_NAME}
    if not getattr(settings, "CSRF_USE_SESSIONS", False):
        names.add(settings.CSRF_COOKIE_NAME)
    storage = getattr(settings, "MESSAGE_STORAGE", "django.contrib.messages.storage.fallback.FallbackStorage")
    if storage.endswith(("FallbackStorage", "CookieStorage")):
        from django.contrib.messages.storage.cookie import CookieStorage

        names.add(CookieStorage.cookie_name)
    if "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE:
        names.add(settings.LANGUAGE_COOKIE_NAME)
    return names


def _names_on_the_cookies_page(client) -> set[str]:
    body = client.get(reverse("web:cookies")).content.decode()
    return set(re.findall(r'<h3 id="cookie-\d+" class="fr-h5"><code>([^<]+)</code></h3>', body))


def test_the_cookies_page_names_every_cookie_of_the_settings_and_the_code(client):
    in_code = _set_cookie_names_in_code()
    assert "moncompte_appareil" in in_code  # the scan reads the code's cookies
    on_page = _names_on_the_cookies_page(client)
    assert in_code | _cookies_of_settings() <= on_page, (in_code | _cookies_of_settings()) - on_page


def test_every_cookie_a_browser_receives_is_on_the_cookies_page(client, family, settings):
    received = set()
    for response in (client.get("/connexion/"), sign_in(client, *family.responsible.credentials)):
        received |= set(response.cookies)
    settings.MONCOMPTE_SESSION_IDLE_SECONDS = -1  # the next page ends the session, with a message
    for response in (client.get("/mon-compte/"), client.get("/connexion/")):
        received |= set(response.cookies)
    assert {settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, "moncompte_appareil", "messages"} <= received
    assert received <= _names_on_the_cookies_page(Client())


def test_each_cookie_line_says_what_it_is_for_and_how_long():
    for cookie in cookies_in_use():
        assert len(cookie["purpose"]) > 20 and re.search(r"\d|effacé|fermeture", cookie["lifetime"]), cookie


# --- Phone numbers ----------------------------------------------------------------------------------


def test_no_template_shows_the_help_number_as_plain_text():
    plain = []
    for path in (ROOT / "moncompte/web/templates").rglob("*.html"):
        for line_number, line in enumerate(path.read_text().splitlines(), 1):
            for found in re.finditer(r"09 69 32 52 52", line):
                if not line[: found.start()].endswith('<a href="tel:+33969325252">'):
                    plain.append(f"{path.relative_to(ROOT)}:{line_number}")
    assert plain == []


# --- DEBUG and the 404 under `make run` -------------------------------------------------------------


def _make_run_environment(tmp_path) -> dict[str, str]:
    """The environment of `make run`'s runserver: the variables set on its line of the Makefile,
    and none of this test process's DJANGO_ / MONCOMPTE_ ones."""
    recipe = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    line = next(line for line in recipe.splitlines() if "runserver" in line)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MONCOMPTE_", "DJANGO_", "EMAIL_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(dict(re.findall(r"\b([A-Z_]+)=(\S+)", line.split("$(PY)")[0])))
    env["MONCOMPTE_VAR_DIR"] = str(tmp_path)
    return env


def _settings_value(env, expression: str) -> str:
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_debug_is_off_unless_a_developer_asks_for_it(tmp_path):
    env = _make_run_environment(tmp_path)
    assert env.get("MONCOMPTE_DEMO") == "1" and "DJANGO_DEBUG" not in env
    assert _settings_value(env, "settings.DEBUG") == "False"
    assert _settings_value({**env, "DJANGO_DEBUG": "1"}, "settings.DEBUG") == "True"


@pytest.mark.timeout(180)
def test_under_make_run_a_404_is_the_french_page_and_static_files_and_the_outbox_work(tmp_path):
    env = _make_run_environment(tmp_path)
    migrate = [sys.executable, "manage.py", "migrate", "--noinput"]
    done = subprocess.run(migrate, cwd=ROOT, env=env, capture_output=True, text=True, timeout=150)
    assert done.returncode == 0, done.stderr
    port = free_port()
    log = (tmp_path / "runserver.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                requests.get(base + "/healthz", timeout=2)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        missing = requests.get(base + "/nulle-part/", timeout=10)
        assert missing.status_code == 404
        assert "<h1>Page non trouvée</h1>" in missing.text and "URLconf" not in missing.text
        assert_mandatory_footer(missing.text)
        assert requests.get(f"http://localhost:{port}/nulle-part/", timeout=10).status_code == 404
        style = requests.get(base + "/static/web/layout.css", timeout=10)
        assert style.status_code == 200 and "moncompte-tools-nojs" in style.text
        assert requests.get(base + "/static/web/help/carte-vitale.svg", timeout=10).status_code == 200
        assert requests.get(base + "/dev/messages/", timeout=10).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()
