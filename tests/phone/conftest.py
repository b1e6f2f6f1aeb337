import base64

import pytest
from django.core import signals
from django.db import close_old_connections

from moncompte.core.actors import Actor
from moncompte.telephony.services import telephony_client_create


@pytest.fixture
def platform(db):
    """The telephony platform's client and its HTTP Basic header."""
    client, secret = telephony_client_create(actor=Actor.system(), name="Plateforme de test")
    token = base64.b64encode(f"{client.client_id}:{secret}".encode()).decode()
    client.headers = {"HTTP_AUTHORIZATION": f"Basic {token}"}
    client.secret = secret
    return client


def basic(client_id: str, secret: str) -> dict:
    token = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Schemathesis calls the WSGI application itself (``from_wsgi``): keep the test's database
    connection as Django's test client does, or a request's end closes it
    (``close_old_connections``), on PostgreSQL in the middle of the test's transaction
    (tests/api/conftest.py does the same)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)
