import io

import pytest
from django.core.cache import cache
from django.core.management import call_command

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
