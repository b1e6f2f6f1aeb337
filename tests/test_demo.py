"""The demo data of `make run` (docs/demo.md) still loads and signs its people in.

The only tests that may use the demo's values: every other test builds its own data.
"""

import io

import pytest
from django.core.management import call_command
from django.test import Client

from moncompte.households.models import Dossier
from tests.conftest import CLAIRE, SOFIA, person_of, sign_in

pytestmark = pytest.mark.django_db


def test_the_demo_loads_once_and_claire_signs_in_and_sees_her_file(client, demo):
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    assert "already" in out.getvalue()
    assert Dossier.objects.filter(caf__code="751", numero="1234567").count() == 1

    # A newcomer of the demo sees the first-connection screens once (moncompte.accounts.onboarding).
    response = sign_in(client, *CLAIRE)
    assert response.status_code == 302 and response.url == "/mon-compte/bienvenue/"
    assert sign_in(Client(), *CLAIRE).url == "/mon-compte/"
    page = client.get("/mon-compte/").content.decode()
    assert "1234567" in page
    assert person_of(CLAIRE[0]).account.contact_validated_at is not None


def test_the_demo_accounts_of_other_cafs_sign_in(client, demo):
    response = sign_in(client, *SOFIA)
    assert response.status_code == 302 and response.url == "/mon-compte/bienvenue/"
