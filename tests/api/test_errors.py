"""Every answer under /api/ is JSON, an error included, and private.

- the project's error handlers (config/urls.py → moncompte.api.errors): an unknown address, a
  bug, a bad Host, a refusal outside any view answer ``{"code", "message", "field"}`` under /api/,
  and the site's French pages elsewhere;
- a 405 stays the API's JSON: MethodNotAllowedPageMiddleware (which gives the site's empty 405s a
  page) leaves /api/ alone;
- ``Cache-Control: private, no-store`` on every answer of every API endpoint, whatever the method,
  with or without a token (the global middleware);
- the rate limits count per token: past its rate a token gets 429 in JSON with Retry-After,
  another token from the same address goes on.
"""

import re

import pytest
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, include, path

from moncompte.web.middleware import MethodNotAllowedPageMiddleware
from tests.api.api_clients import api_client, assert_error

pytestmark = pytest.mark.django_db


def _fail(kind):
    def view(request):
        if kind == "400":
            raise SuspiciousOperation("test")
        if kind == "403":
            raise PermissionDenied
        if kind == "404":
            raise Http404
        raise RuntimeError("a bug, on purpose; its details must not reach the answer")

    return login_not_required(view)


CODES = {"400": "malformed", "403": "forbidden", "404": "not_found", "500": "server_error"}
# Django reads these from the module given as ROOT_URLCONF (this one, in the tests below).
urlpatterns = [
    *(path(f"api/v1/test-erreur/{code}/", _fail(code)) for code in CODES),
    *(path(f"test-erreur/{code}/", _fail(code)) for code in CODES),
    path("", include("config.urls")),
]
handler400 = "moncompte.api.errors.bad_request"
handler403 = "moncompte.api.errors.forbidden"
handler404 = "moncompte.api.errors.not_found"
handler500 = "moncompte.api.errors.server_error"


def test_the_project_declares_the_api_handlers():
    import config.urls

    for name in ("handler400", "handler403", "handler404", "handler500"):
        assert getattr(config.urls, name) == globals()[name]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("code", list(CODES))
def test_errors_outside_the_views_answer_json_under_api_and_the_page_elsewhere(code):
    client = Client(raise_request_exception=False)
    response = client.get(f"/api/v1/test-erreur/{code}/")
    body = assert_error(response, int(code), CODES[code])
    assert "on purpose" not in response.content.decode()
    assert "private" in response["Cache-Control"]
    if code == "500":
        assert body["message"] == "Une erreur inattendue s'est produite. Réessayez dans quelques instants."
    page = client.get(f"/test-erreur/{code}/")
    assert page.status_code == int(code) and page["Content-Type"].startswith("text/html")
    assert "<html" in page.content.decode()


def test_an_unknown_api_address_answers_json_and_an_unknown_page_the_site_page(family):
    for client in (Client(), api_client(family.responsible.account)):
        for method in ("get", "post", "delete"):
            response = getattr(client, method)("/api/v1/nexiste-pas/")
            body = assert_error(response, 404, "not_found")
            assert body["message"] == "Cette page n'existe pas ou vous n'y avez pas accès."
        assert_error(client.get("/api/v2/me/"), 404, "not_found")
    page = Client().get("/nexiste-pas/")
    assert page.status_code == 404 and "Page non trouvée" in page.content.decode()


def test_a_bad_host_under_api_answers_json():
    response = Client(raise_request_exception=False).get("/api/v1/me/", HTTP_HOST="mal.example")
    assert_error(response, 400, "malformed")


def test_a_method_the_endpoint_does_not_take_answers_json_with_allow(family):
    api = api_client(family.responsible.account)
    response = api.put("/api/v1/me/", {})
    body = assert_error(response, 405, "method_not_allowed")
    assert body["message"] == "Cette opération n'est pas possible ici."
    assert "GET" in response["Allow"]


def test_the_405_page_middleware_leaves_the_api_alone():
    """An empty 405 becomes the site's page, except under /api/ (a view of the API answering an
    empty 405 keeps it, never an HTML page)."""
    factory = RequestFactory()
    empty = HttpResponseNotAllowed(["POST"])
    middleware = MethodNotAllowedPageMiddleware(lambda request: empty)
    api = middleware(factory.get("/api/v1/delegation/grant/"))
    assert api is empty and api.content == b""
    web = middleware(factory.get("/mon-compte/appareils/fermer-tout/"))
    assert web.status_code == 405 and web["Content-Type"].startswith("text/html") and b"<html" in web.content
    assert MethodNotAllowedPageMiddleware(lambda request: HttpResponse("ok"))(factory.get("/api/")).content == b"ok"


# Every endpoint, private and not stored ---------------------------------------------------------


def _api_routes(patterns=None, prefix=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/"):
            yield route


def _filled(route: str) -> str:
    route = re.sub(r"<int:\w+>", "1", route)
    return "/" + re.sub(r"<(?:str|slug|path|uuid):\w+>", "x", route)


def test_every_answer_of_every_api_endpoint_is_private_and_not_stored(family):
    routes = list(_api_routes())
    assert "api/v1/me/" in routes and "api/v1/files/<int:file_id>/payments/" in routes
    clients = {"with a token": api_client(family.responsible.account), "without": Client()}
    seen = set()
    for route in routes:
        for who, client in clients.items():
            for method in ("get", "post", "put", "delete"):
                response = getattr(client, method)(_filled(route))
                assert response.status_code < 500, (who, method, route, response.status_code)
                cache_control = response.get("Cache-Control", "")
                assert "private" in cache_control and "no-store" in cache_control, (who, method, route)
                seen.add(response.status_code)
    assert {200, 401, 404, 405} <= seen


# Rate limits per token ---------------------------------------------------------------------------


def test_the_write_rate_counts_per_token_and_answers_429_in_json(family, settings):
    """REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token_write"]: that many writes a minute per token
    (refused ones count: they cost the server too), then 429; another token of the same person,
    from the same address, is not held back by the first one's count."""
    allowed = int(settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["token_write"].split("/")[0])
    account = family.responsible.account
    first, second = api_client(account), api_client(account)
    for _ in range(allowed):
        assert first.post("/api/v1/me/contacts/", {}, format="json").status_code == 400
    refused = first.post("/api/v1/me/contacts/", {}, format="json")
    body = assert_error(refused, 429, "throttled")
    assert int(refused["Retry-After"]) == body["wait_seconds"] > 0
    assert second.post("/api/v1/me/contacts/", {}, format="json").status_code == 400
    # Reads have their own, larger rate: the first token still reads.
    assert first.get("/api/v1/me/").status_code == 200
