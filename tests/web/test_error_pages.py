"""The error pages never read the session or the user (issue 8, point 1): a request whose session
cannot be read gets the French 500 page, not the WSGI server's bare one.

The session that cannot be read is a real one, read as the service read its sessions in the
outage the issue describes: Django's ``cached_db`` store in front of a Redis that refuses
connections (plain django-redis, which raises). The cache miss is read from the database, then
putting it back in the cache raises, inside ``request.user``.
"""

import pytest
from django.conf import settings
from django.contrib.auth import get_user
from django.test import Client, RequestFactory
from django.utils.functional import SimpleLazyObject
from redis.exceptions import ConnectionError

from moncompte.web import errors
from tests.conftest import sign_in
from tests.support.server import free_port

pytestmark = pytest.mark.django_db


def _make_sessions_unreadable(settings) -> None:
    settings.CACHES = {
        **settings.CACHES,
        "refusing": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    settings.SESSION_CACHE_ALIAS = "refusing"


@pytest.fixture
def signed_in_then_unreadable(settings, family):
    """A signed-in person's browser, whose session can no longer be read."""
    client = Client(raise_request_exception=False)
    assert sign_in(client, *family.responsible.credentials).status_code == 302
    _make_sessions_unreadable(settings)
    return client


def _is_the_french_page(response, status: int, title: str) -> None:
    body = response.content.decode()
    assert response.status_code == status
    assert f"<h1>{title}</h1>" in body and '<html lang="fr"' in body and "fr-header" in body
    # Nothing personal, nothing that needs the session: no name, no sign-out form, no message.
    assert "Se déconnecter" not in body and "csrfmiddlewaretoken" not in body
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


def test_a_session_that_cannot_be_read_gets_the_french_500_page(signed_in_then_unreadable):
    key = signed_in_then_unreadable.cookies[settings.SESSION_COOKIE_NAME].value
    for path in ("/mon-compte/", "/connexion/", "/nulle-part/"):
        browser = Client(raise_request_exception=False)  # each with the cookie (a 500 drops it)
        browser.cookies[settings.SESSION_COOKIE_NAME] = key
        response = browser.get(path)
        _is_the_french_page(response, 500, "Erreur inattendue")
        assert "Une erreur s'est produite de notre côté." in response.content.decode()


def _request_whose_session_and_user_raise(client: Client):
    from django.contrib.sessions.backends.cached_db import SessionStore

    request = RequestFactory().get("/")
    request.session = SessionStore(client.cookies[settings.SESSION_COOKIE_NAME].value)
    request.user = SimpleLazyObject(lambda: get_user(request))
    return request


@pytest.mark.parametrize(
    ("handler", "status", "title"),
    [
        (errors.not_found, 404, "Page non trouvée"),
        (errors.bad_request, 400, "Demande incorrecte"),
        (errors.forbidden, 403, "Accès refusé"),
        (errors.csrf_failure, 403, "Formulaire expiré"),
    ],
)
def test_the_other_error_pages_read_neither_session_nor_user(signed_in_then_unreadable, handler, status, title):
    request = _request_whose_session_and_user_raise(signed_in_then_unreadable)
    with pytest.raises(ConnectionError):  # redis-py's: the session is unreadable
        request.user.is_authenticated  # noqa: B018
    request = _request_whose_session_and_user_raise(signed_in_then_unreadable)
    response = handler(request, None) if handler is not errors.csrf_failure else handler(request, reason="")
    assert response.status_code == status
    body = response.content.decode()
    assert f"<h1>{title}</h1>" in body and '<html lang="fr"' in body


def test_the_500_handler_reads_neither_session_nor_user(signed_in_then_unreadable):
    response = errors.server_error(_request_whose_session_and_user_raise(signed_in_then_unreadable))
    assert response.status_code == 500 and "<h1>Erreur inattendue</h1>" in response.content.decode()


def test_a_signed_in_persons_404_names_nobody(family):
    client = Client()
    assert sign_in(client, *family.responsible.credentials).status_code == 302
    assert family.responsible.person.display_name in client.get("/mon-compte/").content.decode()
    response = client.get("/nulle-part/")
    _is_the_french_page(response, 404, "Page non trouvée")
    assert family.responsible.person.display_name not in response.content.decode()


def test_a_get_of_a_post_only_address_answers_the_french_page_not_a_blank_one(client, family):
    assert sign_in(client, *family.responsible.credentials).status_code == 302
    response = client.get("/deconnexion/")
    body = response.content.decode()
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "Cette adresse sert à envoyer un formulaire" in body and "Revenir à l'accueil" in body
    assert response["Content-Type"].startswith("text/html")
    # The length a browser reads: CommonMiddleware counted the empty body before the page was put in.
    assert int(response["Content-Length"]) == len(response.content)
