import base64

import pytest

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
