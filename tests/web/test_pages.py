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
