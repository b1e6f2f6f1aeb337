import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.conftest import CLAIRE, LEA, MARC, SOFIA, sign_in

pytestmark = pytest.mark.django_db


def _all_simple_paths():
    """Every URL pattern of the site without parameters."""
    paths = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and "<" not in str(p.pattern):
                paths.append("/" + prefix + str(p.pattern))

    walk(get_resolver().url_patterns)
    return paths


def test_every_page_is_private_and_not_stored(client, demo):
    paths = _all_simple_paths()
    assert "/mon-compte/" in paths and "/connexion/" in paths
    for signed_in in (False, True):
        if signed_in:
            sign_in(client, *CLAIRE)
        for path in paths:
            response = client.get(path)
            assert "no-store" in response["Cache-Control"], path
            assert "private" in response["Cache-Control"], path
            assert "Cookie" in response.get("Vary", ""), path


def test_error_pages_are_private_too(client, demo):
    sign_in(client, *CLAIRE)
    response = client.get("/nexiste-pas/")
    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]
    assert "Page non trouvée" in response.content.decode()


def test_personal_pages_need_sign_in(client, demo):
    response = client.get("/mon-compte/")
    assert response.status_code == 302
    assert response["Location"].startswith("/connexion/?next=/mon-compte/")


def test_security_headers(client):
    response = client.get("/connexion/")
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_csrf_is_enforced(demo):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/connexion/", {"identifier": CLAIRE[0], "password": CLAIRE[1]})
    assert response.status_code == 403
    assert "Formulaire expiré" in response.content.decode()


def test_claire_sees_her_file_and_payments(client, demo):
    sign_in(client, *CLAIRE)
    body = client.get("/mon-compte/").content.decode()
    assert "Claire MARTIN" in body
    assert "1234567" in body
    assert "Derniers paiements" in body
    assert "148,52" in body
    assert "Léa MARTIN" in body  # the household's members


@pytest.mark.parametrize("who", [MARC, LEA], ids=["spouse-without-delegation", "child"])
def test_spouse_without_delegation_and_child_see_only_their_own_data(client, demo, who):
    sign_in(client, *who)
    body = client.get("/mon-compte/").content.decode()
    assert "MARTIN" in body
    assert "Derniers paiements" not in body
    assert "148,52" not in body
    assert "1234567" not in body
    assert "Claire" not in body
    assert "12 rue des Lilas" not in body


def test_delegated_spouse_sees_the_file(client, demo):
    from django.utils import timezone

    from moncompte.households.models import Member, Role

    Member.objects.filter(role=Role.CONJOINT, dossier__numero="1234567").update(delegation_granted_at=timezone.now())
    sign_in(client, *MARC)
    body = client.get("/mon-compte/").content.decode()
    assert "Derniers paiements" in body and "148,52" in body


def test_separated_spouse_sees_nothing_of_the_file(client, demo):
    import datetime

    from moncompte.households.models import Member, Role

    Member.objects.filter(role=Role.CONJOINT, dossier__numero="1234567").update(
        ended_on=datetime.date.today(), delegation_granted_at=None
    )
    sign_in(client, *MARC)
    body = client.get("/mon-compte/").content.decode()
    assert "1234567" not in body and "Derniers paiements" not in body
    assert "Mon rattachement" not in body


def test_each_person_sees_only_their_own_file(client, demo):
    sign_in(client, *SOFIA)
    body = client.get("/mon-compte/").content.decode()
    assert "7654321" in body and "Sofia BENALI" in body
    assert "1234567" not in body and "MARTIN" not in body


def test_home_shows_identity_and_contacts_but_not_the_full_nir(client, demo):
    sign_in(client, *CLAIRE)
    body = client.get("/mon-compte/").content.decode()
    assert "claire.martin@example.fr" in body
    assert "14 mai 1985" in body
    assert "115 042" not in body and "2850575115042" not in body


def test_healthz_is_public(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_phone_numbers_are_shown_the_french_way(client, demo):
    sign_in(client, *CLAIRE)
    assert "06 11 22 33 44" in client.get("/mon-compte/").content.decode()


def test_spouse_without_delegation_finds_the_separation_page_from_home(client, demo):
    sign_in(client, *MARC)
    assert 'href="/mon-compte/foyer/separation/"' in client.get("/mon-compte/").content.decode()
    lea = Client()
    sign_in(lea, *LEA)
    assert 'href="/mon-compte/foyer/separation/"' not in lea.get("/mon-compte/").content.decode()


# Error pages --------------------------------------------------------------------------------------
# A URLconf of its own: the site's URLs, plus views that fail each way, with config/urls.py's handlers.


def _fail_400(request):
    from django.core.exceptions import SuspiciousOperation

    raise SuspiciousOperation("test")


def _fail_403(request):
    from django.core.exceptions import PermissionDenied

    raise PermissionDenied


def _fail_404(request):
    from django.http import Http404

    raise Http404


def _fail_500(request):
    raise RuntimeError("a bug, on purpose; its details must not reach the page")


def _error_urlpatterns():
    from django.contrib.auth.decorators import login_not_required
    from django.urls import include, path

    views = {"400": _fail_400, "403": _fail_403, "404": _fail_404, "500": _fail_500}
    return [path(f"test-erreur/{code}/", login_not_required(view)) for code, view in views.items()] + [
        path("", include("config.urls"))
    ]


def __getattr__(name):
    # Django reads these from the module given as ROOT_URLCONF (this one, in the tests below).
    if name == "urlpatterns":
        return _error_urlpatterns()
    if name.startswith("handler") and name[7:] in {"400", "403", "404", "500"}:
        import config.urls

        return getattr(config.urls, name)
    raise AttributeError(name)


def test_the_site_declares_its_error_pages():
    import config.urls

    assert config.urls.handler400 == "moncompte.web.errors.bad_request"
    assert config.urls.handler403 == "moncompte.web.errors.forbidden"
    assert config.urls.handler404 == "moncompte.web.errors.not_found"
    assert config.urls.handler500 == "moncompte.web.errors.server_error"


@pytest.mark.urls("tests.web.test_pages")
@pytest.mark.parametrize(
    "code, title, text",
    [
        (400, "Demande incorrecte", "Votre demande n'a pas pu être traitée."),
        (403, "Accès refusé", "Votre demande n'a pas pu être traitée."),
        (404, "Page non trouvée", "La page que vous cherchez n'existe pas"),
        (500, "Erreur inattendue", "Une erreur s'est produite de notre côté."),
    ],
)
def test_error_pages_are_the_sites_in_french_and_tell_nothing(demo, code, title, text):
    for signed_in in (False, True):
        client = Client(raise_request_exception=False)
        if signed_in:
            sign_in(client, *CLAIRE)
        response = client.get(f"/test-erreur/{code}/")
        body = response.content.decode()
        assert response.status_code == code
        assert f"<h1>{title}</h1>" in body and text in body
        assert "Traceback" not in body and "on purpose" not in body
        assert response["Cache-Control"] == "private, no-store, max-age=0"


def test_an_unknown_address_gets_the_404_page(client, demo):
    sign_in(client, *CLAIRE)
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404 and "<h1>Page non trouvée</h1>" in response.content.decode()


# The client's address behind proxies -------------------------------------------------------------


@pytest.mark.parametrize(
    "proxies, forwarded, expected",
    [
        # No trusted proxy: the header is whatever the client sent, never believed.
        (0, None, "192.0.2.10"),
        (0, "203.0.113.5", "192.0.2.10"),
        # One proxy: it appended the address it saw; anything before is the client's own say.
        (1, "203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),
        (1, "6.6.6.6,7.7.7.7 ,  203.0.113.5", "203.0.113.5"),
        # Two proxies: the client is the second entry from the end.
        (2, "203.0.113.5, 10.0.0.2", "203.0.113.5"),
        (2, "6.6.6.6, 203.0.113.5, 10.0.0.2", "203.0.113.5"),
        # A header shorter than the chain did not come through it: the connection's address.
        (1, None, "192.0.2.10"),
        (2, "203.0.113.5", "192.0.2.10"),
        (2, " , ", "192.0.2.10"),
    ],
)
def test_client_address_behind_trusted_proxies(settings, proxies, forwarded, expected):
    from django.test import RequestFactory

    from moncompte.web.actors import actor_of, client_address

    settings.MONCOMPTE_TRUSTED_PROXY_COUNT = proxies
    extra = {"REMOTE_ADDR": "192.0.2.10"}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    request = RequestFactory().get("/", **extra)
    assert client_address(request) == expected
    assert actor_of(request).client_address == expected


def test_throttling_counts_the_address_seen_through_the_proxy(demo, settings):
    """A spoofed first entry does not give an attacker a fresh address counter."""
    settings.MONCOMPTE_TRUSTED_PROXY_COUNT = 1
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 3
    unknown = ["1 80 01 75 056 123 75", "1 81 01 75 056 123 26", "1 82 01 75 056 123 74", "1 83 01 75 056 123 25"]
    for n, raw in enumerate(unknown):
        attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 203.0.113.9")
        sign_in(attacker, raw, "Mauvais2021mot")
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.99, 203.0.113.9")
    assert sign_in(attacker, *CLAIRE).status_code == 429
    # Another client behind the same proxy is not concerned.
    assert sign_in(Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7"), *CLAIRE).status_code == 302
