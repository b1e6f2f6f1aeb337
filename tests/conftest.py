import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from moncompte.identity.identifiers import parse_identifier
from moncompte.identity.models import Person

CLAIRE = ("2 85 05 75 115 042 95", "Soleil2021bleu")
MARC = ("1 83 11 69 383 117 49", "Lyon1983rouge")
LEA = ("2 09 03 75 112 031 08", "Etoile2009verte")
SOFIA = ("2 90 02 2A 004 021 09", "Corse1990mer")


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttling counters live in the cache: each test starts from none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=io.StringIO())


def person_of(raw: str) -> Person:
    return Person.objects.with_identifier(parse_identifier(raw).value).get()


def sign_in(client, raw: str, password: str, **extra):
    return client.post("/connexion/", {"identifier": raw, "password": password}, **extra)


@pytest.fixture
def deliver_messages(monkeypatch, django_capture_on_commit_callbacks):
    """Each test-client request's after-commit work (sending emails and SMS) runs when the
    request ends, as it would after a real commit; the test's transaction wraps the rest."""
    original = Client.request

    def request(self, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return original(self, **kwargs)

    monkeypatch.setattr(Client, "request", request)
