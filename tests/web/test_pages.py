import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.html import escape

from moncompte.households.models import Benefit
from tests.conftest import sign_in
from tests.factories import ContactFactory, make_household, nir_for, typed

pytestmark = pytest.mark.django_db

FRENCH_MONTHS = ("janvier février mars avril mai juin juillet août septembre octobre novembre décembre").split()


def amount(cents: int) -> str:
    """The amount as the pages write it, without the currency: 14852 -> "148,52"."""
    return f"{cents // 100},{cents % 100:02d}"


def monthly_amount(household) -> str:
    return amount(Benefit.objects.get(dossier=household.dossier).monthly_amount_cents)


def unknown_identifiers(count: int) -> list[str]:
    """Valid NIRs, as typed, that nobody in the database holds."""
    import datetime

    return [
        typed(nir_for(sex="M", birth_date=datetime.date(1980, 1, 15), birth_place_code="75056")) for _ in range(count)
    ]


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


def test_every_page_is_private_and_not_stored(client, family):
    paths = _all_simple_paths()
    assert "/mon-compte/" in paths and "/connexion/" in paths
    for signed_in in (False, True):
        if signed_in:
            assert sign_in(client, *family.responsible.credentials).status_code == 302
        for path in paths:
            response = client.get(path)
            assert "no-store" in response["Cache-Control"], path
            assert "private" in response["Cache-Control"], path
            assert "Cookie" in response.get("Vary", ""), path


def test_error_pages_are_private_too(client, family):
    assert sign_in(client, *family.responsible.credentials).status_code == 302
    response = client.get("/nexiste-pas/")
    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]
    assert "Page non trouvée" in response.content.decode()


def test_personal_pages_need_sign_in(client, family):
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


def test_csrf_is_enforced(family):
    from django.test import Client

    identifier, password = family.responsible.credentials
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/connexion/", {"identifier": identifier, "password": password})
    assert response.status_code == 403
    assert "Formulaire expiré" in response.content.decode()
    # The same credentials sign in with the token: the refusal was the CSRF check's.
    assert sign_in(Client(), identifier, password).status_code == 302


def listed_member(household_person) -> str:
    """How the home page lists a member of the file (name, then role)."""
    return f"{escape(household_person.person.display_name)} — "


def test_the_responsible_person_sees_the_file_and_payments(client, family):
    sign_in(client, *family.responsible.credentials)
    body = client.get("/mon-compte/").content.decode()
    assert escape(family.responsible.person.display_name) in body
    assert family.dossier.numero in body
    assert "Derniers paiements" in body
    assert monthly_amount(family) in body
    assert listed_member(family.child) in body  # the household's members
    assert listed_member(family.young_child) in body


@pytest.mark.parametrize("who", ["spouse", "child"], ids=["spouse-without-delegation", "child"])
def test_spouse_without_delegation_and_child_see_only_their_own_data(client, family, who):
    viewer = getattr(family, who)
    sign_in(client, *viewer.credentials)
    body = client.get("/mon-compte/").content.decode()
    assert escape(viewer.person.birth_name) in body
    assert "Derniers paiements" not in body
    assert monthly_amount(family) not in body
    assert family.dossier.numero not in body
    for member in family.people:  # no member list, not even their own line in it
        assert listed_member(member) not in body
    assert escape(family.dossier.address_line1) not in body


def test_delegated_spouse_sees_the_file(client, family):
    from django.utils import timezone

    from moncompte.households.models import Member

    Member.objects.filter(pk=family.spouse.member.pk).update(delegation_granted_at=timezone.now())
    sign_in(client, *family.spouse.credentials)
    body = client.get("/mon-compte/").content.decode()
    assert "Derniers paiements" in body and monthly_amount(family) in body


def test_separated_spouse_sees_nothing_of_the_file(client, delegated_family):
    import datetime

    from moncompte.households.models import Member

    family = delegated_family
    Member.objects.filter(pk=family.spouse.member.pk).update(ended_on=datetime.date.today(), delegation_granted_at=None)
    sign_in(client, *family.spouse.credentials)
    body = client.get("/mon-compte/").content.decode()
    assert family.dossier.numero not in body and "Derniers paiements" not in body
    assert "Mon rattachement" not in body


def test_each_person_sees_only_their_own_file(client):
    ours = make_household(birth_name="BENALI")
    other_caf = make_household(birth_name="MARTIN")
    same_caf = make_household(caf=ours.caf, birth_name="DURAND")
    assert other_caf.caf != ours.caf
    sign_in(client, *ours.responsible.credentials)
    body = client.get("/mon-compte/").content.decode()
    assert ours.dossier.numero in body and escape(ours.responsible.person.display_name) in body
    for stranger in (other_caf, same_caf):
        assert stranger.dossier.numero not in body
        assert stranger.responsible.person.birth_name not in body


def test_home_shows_identity_and_contacts_but_not_the_full_nir(client, family):
    responsible = family.responsible
    sign_in(client, *responsible.credentials)
    body = client.get("/mon-compte/").content.decode()
    email = responsible.account.contacts.get(kind="email").value
    assert email in body
    born = responsible.person.birth_date
    assert f"{born.day} {FRENCH_MONTHS[born.month - 1]} {born.year}" in body
    groups = responsible.identifier.split()  # "2 85 05 75 115 042 95"
    assert " ".join(groups[4:6]) not in body and responsible.person.identifier_value not in body


def test_healthz_is_public(client):
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json()["status"] == "ok"


def test_phone_numbers_are_shown_the_french_way(client, family):
    ContactFactory(account=family.responsible.account, phone=True, value="+33611223344")
    sign_in(client, *family.responsible.credentials)
    body = client.get("/mon-compte/").content.decode()
    assert "06 11 22 33 44" in body and "+33611223344" not in body


def test_spouse_without_delegation_finds_the_separation_page_from_home(client, family):
    sign_in(client, *family.spouse.credentials)
    assert 'href="/mon-compte/foyer/separation/"' in client.get("/mon-compte/").content.decode()
    child = Client()
    sign_in(child, *family.child.credentials)
    assert 'href="/mon-compte/foyer/separation/"' not in child.get("/mon-compte/").content.decode()


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

    # The API's handlers answer JSON under /api/ and the site's pages everywhere else (tests/api/test_errors.py).
    assert config.urls.handler400 == "moncompte.api.errors.bad_request"
    assert config.urls.handler403 == "moncompte.api.errors.forbidden"
    assert config.urls.handler404 == "moncompte.api.errors.not_found"
    assert config.urls.handler500 == "moncompte.api.errors.server_error"


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
def test_error_pages_are_the_sites_in_french_and_tell_nothing(family, code, title, text):
    for signed_in in (False, True):
        client = Client(raise_request_exception=False)
        if signed_in:
            assert sign_in(client, *family.responsible.credentials).status_code == 302
        response = client.get(f"/test-erreur/{code}/")
        body = response.content.decode()
        assert response.status_code == code
        assert f"<h1>{title}</h1>" in body and text in body
        assert "Traceback" not in body and "on purpose" not in body
        assert response["Cache-Control"] == "private, no-store, max-age=0"


def test_an_unknown_address_gets_the_404_page(client, family):
    assert sign_in(client, *family.responsible.credentials).status_code == 302
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


def test_throttling_counts_the_address_seen_through_the_proxy(family, settings):
    """A spoofed first entry does not give an attacker a fresh address counter."""
    settings.MONCOMPTE_TRUSTED_PROXY_COUNT = 1
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 3
    unknown = unknown_identifiers(4)
    for n, raw in enumerate(unknown):
        attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"6.6.6.{n}, 203.0.113.9")
        sign_in(attacker, raw, "Mauvais2021mot")
    attacker = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.99, 203.0.113.9")
    assert sign_in(attacker, *family.responsible.credentials).status_code == 429
    # Another client behind the same proxy is not concerned.
    neighbour = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert sign_in(neighbour, *family.responsible.credentials).status_code == 302
