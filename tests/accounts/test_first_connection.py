import datetime

import pytest
from django.test import Client
from django.utils import timezone

from moncompte.accounts.first_connection import (
    FirstConnectionError,
    first_connection_complete,
    first_connection_person,
    legacy_code_verify,
)
from moncompte.accounts.models import Account, LegacyCodeAttempt, LegacyCredential
from moncompte.households.models import Caf, Dossier
from moncompte.identity.identifiers import parse_identifier
from tests.conftest import CLAIRE, person_of

pytestmark = pytest.mark.django_db

JULIEN = "1 78 02 75 056 123 92"
NEW_PASSWORD = "Charonne et 30 tilleuls"


def _paris():
    return Caf.objects.get(code="751")


def _verify(code="12345678", numero="2345678", caf=None):
    return legacy_code_verify(caf=caf or _paris(), numero=numero, code=code, client_address="198.51.100.7")


def test_right_code_opens_the_file(demo):
    assert _verify().numero == "2345678"


@pytest.mark.parametrize("numero, code", [("2345678", "12345679"), ("2345679", "12345678"), ("1234567", "12345678")])
def test_wrong_code_unknown_file_and_file_without_code_answer_the_same(demo, numero, code):
    with pytest.raises(FirstConnectionError) as error:
        _verify(code=code, numero=numero)
    assert error.value.code == "wrong_code"


def test_right_code_in_another_caf_is_refused(demo):
    with pytest.raises(FirstConnectionError) as error:
        _verify(caf=Caf.objects.get(code="131"))
    assert error.value.code == "wrong_code"


def test_five_wrong_codes_a_day_then_even_the_right_one_is_refused(demo, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 1000
    for _ in range(5):
        with pytest.raises(FirstConnectionError):
            _verify(code="00000000")
    with pytest.raises(FirstConnectionError) as error:
        _verify()
    assert error.value.code == "capped"
    assert "09 69 32 52 52" in error.value.message


def test_ten_wrong_codes_a_week(demo, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 1000
    credential = LegacyCredential.objects.get(dossier__numero="2345678")
    two_days_ago = timezone.now() - datetime.timedelta(days=2)
    for _ in range(4):
        with pytest.raises(FirstConnectionError):
            _verify(code="00000000")
    LegacyCodeAttempt.objects.filter(credential=credential).update(at=two_days_ago)
    assert _verify().numero == "2345678"  # 4 yesterday's failures: still allowed
    for _ in range(4):
        with pytest.raises(FirstConnectionError):
            _verify(code="00000000")
    LegacyCodeAttempt.objects.filter(credential=credential).update(at=two_days_ago)
    for _ in range(2):
        with pytest.raises(FirstConnectionError):
            _verify(code="00000000")
    with pytest.raises(FirstConnectionError) as error:
        _verify()
    assert error.value.code == "capped"


def test_per_address_throttling_on_unknown_files(demo, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 3
    for numero in ("1000001", "1000002", "1000003", "1000004"):
        with pytest.raises(FirstConnectionError):
            _verify(numero=numero)
    with pytest.raises(FirstConnectionError) as error:
        _verify()
    assert error.value.code == "throttled"


def test_nir_must_be_the_responsible_person_or_spouse_of_that_file(demo):
    dossier = Dossier.objects.get(numero="2345678")
    assert first_connection_person(dossier=dossier, identifier=parse_identifier(JULIEN)).birth_name == "PETIT"
    for other in (CLAIRE[0], "1 13 07 75 112 045 09", "1 80 01 75 056 123 75"):  # another file, a child, unknown
        with pytest.raises(FirstConnectionError) as error:
            first_connection_person(dossier=dossier, identifier=parse_identifier(other))
        assert error.value.code == "not_eligible"


def test_child_of_a_file_is_not_eligible(demo):
    LegacyCredential.objects.create(dossier=Dossier.objects.get(numero="1234567"), code_digest="x")
    dossier = Dossier.objects.get(numero="1234567")
    with pytest.raises(FirstConnectionError) as error:
        first_connection_person(dossier=dossier, identifier=parse_identifier("2 09 03 75 112 031 08"))
    assert error.value.code == "not_eligible"


def test_person_with_an_account_is_told_so(demo):
    LegacyCredential.objects.create(dossier=Dossier.objects.get(numero="1234567"), code_digest="x")
    with pytest.raises(FirstConnectionError) as error:
        first_connection_person(dossier=Dossier.objects.get(numero="1234567"), identifier=parse_identifier(CLAIRE[0]))
    assert error.value.code == "has_account"


def test_completion_creates_the_account_and_retires_the_code(demo):
    dossier = Dossier.objects.get(numero="2345678")
    julien = person_of(JULIEN)
    account = first_connection_complete(dossier_id=dossier.id, person_id=julien.id, password=NEW_PASSWORD)
    assert account.person == julien and account.check_password(NEW_PASSWORD)
    assert LegacyCredential.objects.get(dossier=dossier).retired_at is not None
    # The old code no longer opens the web.
    with pytest.raises(FirstConnectionError) as error:
        _verify()
    assert error.value.code == "already_migrated"
    with pytest.raises(FirstConnectionError):
        first_connection_complete(dossier_id=dossier.id, person_id=julien.id, password=NEW_PASSWORD)
    assert Account.objects.filter(person=julien).count() == 1


def test_completion_rechecks_the_membership(demo):
    """A person id slipped into the state that is not of this file links nothing."""
    dossier = Dossier.objects.get(numero="2345678")
    with pytest.raises(FirstConnectionError):
        first_connection_complete(
            dossier_id=dossier.id, person_id=person_of("1 13 07 75 112 045 09").id, password=NEW_PASSWORD
        )
    assert LegacyCredential.objects.get(dossier=dossier).retired_at is None


class TestPages:
    def _step1(self, client, **overrides):
        data = {"place": "75011", "numero": "234 56 78", "code": "1234 5678", **overrides}
        return client.post("/premiere-connexion/dossier/", data)

    def test_whole_flow_up_to_contact_validation(self, demo):
        client = Client()
        assert "Commencer" in client.get("/premiere-connexion/").content.decode()
        before = client.session.session_key
        response = self._step1(client)
        assert response.status_code == 302 and response["Location"] == "/premiere-connexion/numero-securite-sociale/"
        assert client.session.session_key != before
        response = client.post("/premiere-connexion/numero-securite-sociale/", {"identifier": JULIEN})
        assert response["Location"] == "/premiere-connexion/mot-de-passe/"
        response = client.post(
            "/premiere-connexion/mot-de-passe/", {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
        )
        assert response.status_code == 302
        assert response["Location"] == "/mon-compte/coordonnees/valider/"
        assert Account.objects.filter(person=person_of(JULIEN)).exists()
        # Signed in, but the account is not usable before a contact is validated.
        assert client.get("/mon-compte/")["Location"] == "/mon-compte/coordonnees/valider/"

    def test_steps_cannot_be_skipped(self, demo):
        client = Client()
        assert client.get("/premiere-connexion/numero-securite-sociale/")["Location"] == "/premiere-connexion/dossier/"
        assert client.get("/premiere-connexion/mot-de-passe/")["Location"] == "/premiere-connexion/dossier/"

    def test_wrong_code_keeps_what_was_typed(self, demo):
        response = self._step1(Client(), code="87654321")
        body = response.content.decode()
        assert response.status_code == 400
        assert "Numéro allocataire ou code confidentiel incorrect" in body
        assert 'value="75011"' in body and 'value="2345678"' in body
        assert "87654321" not in body

    @pytest.mark.parametrize(
        "overrides, message",
        [
            ({"numero": "234567"}, "Le numéro allocataire compte 7 chiffres."),
            ({"code": "1234567"}, "Le code confidentiel compte 8 chiffres."),
            ({"place": "00"}, "Saisissez un numéro de département"),
            ({"place": "976"}, "Nous ne trouvons pas de Caf"),
        ],
    )
    def test_bad_input_gets_a_french_message(self, demo, overrides, message):
        response = self._step1(Client(), **overrides)
        assert response.status_code == 400
        assert message in response.content.decode()

    def test_weak_password_is_refused_with_reasons(self, demo):
        client = Client()
        self._step1(client)
        client.post("/premiere-connexion/numero-securite-sociale/", {"identifier": JULIEN})
        response = client.post("/premiere-connexion/mot-de-passe/", {"password": "petit1978", "password_confirm": "x"})
        body = response.content.decode()
        assert response.status_code == 400
        assert "au moins 12 caractères" in body
        assert not Account.objects.filter(person=person_of(JULIEN)).exists()

    def test_nir_of_a_child_is_refused(self, demo):
        client = Client()
        self._step1(client)
        response = client.post("/premiere-connexion/numero-securite-sociale/", {"identifier": CLAIRE[0]})
        assert response.status_code == 400
        assert "responsable du dossier ni de son conjoint" in response.content.decode()
