import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client, override_settings
from django.utils import timezone

from moncompte.accounts.first_connection import (
    FirstConnectionError,
    first_connection_complete,
    first_connection_person,
    legacy_code_verify,
)
from moncompte.accounts.legacy import (
    LegacyCodeError,
    legacy_code_accepted_by_phone,
    legacy_code_check_by_phone,
    legacy_code_phone_until,
)
from moncompte.accounts.models import Account, LegacyCodeAttempt, LegacyCredential
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import DomainError
from moncompte.households.models import Caf, Dossier, Member, Role
from moncompte.identity.identifiers import parse_identifier
from moncompte.identity.services import person_create
from tests.conftest import CLAIRE, person_of

pytestmark = pytest.mark.django_db

JULIEN = "1 78 02 75 056 123 92"
NEW_PASSWORD = "Charonne et 30 tilleuls"
VISITOR = Actor.visitor(channel=Channel.WEB, client_address="198.51.100.7", session_key="s" * 32)


def _paris():
    return Caf.objects.get(code="751")


def _verify(code="12345678", numero="2345678", caf=None):
    return legacy_code_verify(actor=VISITOR, caf=caf or _paris(), numero=numero, code=code)


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
    assert (
        first_connection_person(actor=VISITOR, dossier=dossier, identifier=parse_identifier(JULIEN)).birth_name
        == "PETIT"
    )
    for other in (CLAIRE[0], "1 13 07 75 112 045 09", "1 80 01 75 056 123 75"):  # another file, a child, unknown
        with pytest.raises(FirstConnectionError) as error:
            first_connection_person(actor=VISITOR, dossier=dossier, identifier=parse_identifier(other))
        assert error.value.code == "not_eligible"


def test_child_of_a_file_is_not_eligible(demo):
    LegacyCredential.objects.create(dossier=Dossier.objects.get(numero="1234567"), code_digest="x")
    dossier = Dossier.objects.get(numero="1234567")
    with pytest.raises(FirstConnectionError) as error:
        first_connection_person(actor=VISITOR, dossier=dossier, identifier=parse_identifier("2 09 03 75 112 031 08"))
    assert error.value.code == "not_eligible"


def test_person_with_an_account_is_told_so(demo):
    LegacyCredential.objects.create(dossier=Dossier.objects.get(numero="1234567"), code_digest="x")
    with pytest.raises(FirstConnectionError) as error:
        first_connection_person(
            actor=VISITOR, dossier=Dossier.objects.get(numero="1234567"), identifier=parse_identifier(CLAIRE[0])
        )
    assert error.value.code == "has_account"


def test_completion_creates_the_account_and_retires_the_code(demo):
    dossier = Dossier.objects.get(numero="2345678")
    julien = person_of(JULIEN)
    account = first_connection_complete(
        actor=VISITOR, dossier_id=dossier.id, person_id=julien.id, password=NEW_PASSWORD
    )
    assert account.person == julien and account.check_password(NEW_PASSWORD)
    assert LegacyCredential.objects.get(dossier=dossier).retired_on_web_at is not None
    # The old code no longer opens the web.
    with pytest.raises(FirstConnectionError) as error:
        _verify()
    assert error.value.code == "already_migrated"
    with pytest.raises(FirstConnectionError):
        first_connection_complete(actor=VISITOR, dossier_id=dossier.id, person_id=julien.id, password=NEW_PASSWORD)
    assert Account.objects.filter(person=julien).count() == 1


def test_completion_rechecks_the_membership(demo):
    """A person id slipped into the state that is not of this file links nothing."""
    dossier = Dossier.objects.get(numero="2345678")
    with pytest.raises(FirstConnectionError):
        first_connection_complete(
            actor=VISITOR, dossier_id=dossier.id, person_id=person_of("1 13 07 75 112 045 09").id, password=NEW_PASSWORD
        )
    assert LegacyCredential.objects.get(dossier=dossier).retired_on_web_at is None


# Who may claim the file's account: the policy's CLAIM_BY_FIRST_CONNECTION -------------------

JULIEN_SPOUSE = "2800775056210"  # 13 characters: the key is optional


def _spouse_of_julien(**membership) -> None:
    spouse = person_create(
        identifier=parse_identifier(JULIEN_SPOUSE),
        first_names="Nadia",
        birth_name="Petit",
        birth_date=datetime.date(1980, 7, 2),
        sex="F",
    )
    Member.objects.create(
        dossier=Dossier.objects.get(numero="2345678"), person=spouse, role=Role.CONJOINT, **membership
    )


@pytest.mark.parametrize(
    "membership",
    [{}, {"delegation_granted_at": timezone.now()}],
    ids=["spouse", "delegated-spouse"],
)
def test_a_current_spouse_may_claim_the_file(demo, membership):
    _spouse_of_julien(**membership)
    dossier = Dossier.objects.get(numero="2345678")
    person = first_connection_person(actor=VISITOR, dossier=dossier, identifier=parse_identifier(JULIEN_SPOUSE))
    assert (
        first_connection_complete(
            actor=VISITOR, dossier_id=dossier.id, person_id=person.id, password=NEW_PASSWORD
        ).person
        == person
    )


def test_a_former_spouse_may_not_claim_the_file(demo):
    _spouse_of_julien(ended_on=datetime.date.today())
    dossier = Dossier.objects.get(numero="2345678")
    with pytest.raises(FirstConnectionError) as error:
        first_connection_person(actor=VISITOR, dossier=dossier, identifier=parse_identifier(JULIEN_SPOUSE))
    assert error.value.code == "not_eligible" and error.value.field == "identifier"
    assert isinstance(error.value, DomainError)
    spouse = Member.objects.get(dossier=dossier, role=Role.CONJOINT).person
    with pytest.raises(FirstConnectionError):
        first_connection_complete(actor=VISITOR, dossier_id=dossier.id, person_id=spouse.id, password=NEW_PASSWORD)
    assert not Account.objects.filter(person=spouse).exists()


def test_the_throttled_answer_says_the_wait_once(demo, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 1
    for numero in ("1000001", "1000002"):
        with pytest.raises(FirstConnectionError):
            _verify(numero=numero)
    with pytest.raises(FirstConnectionError) as error:
        _verify()
    assert error.value.status == 429 and error.value.wait_seconds > 0
    assert "minute(s)" not in error.value.message and "Réessayez dans" in error.value.message


# The old code per channel: the web retires it at the first connection, the phone keeps it -----
# until MONCOMPTE_LEGACY_CODE_PHONE_UNTIL (that day excluded).

PHONE = Actor.visitor(channel=Channel.PHONE)
TODAY = datetime.date.today()
LATER = (TODAY + datetime.timedelta(days=30)).isoformat()


def _phone(code="12345678", numero="2345678", caf=None):
    return legacy_code_check_by_phone(actor=PHONE, caf=caf or _paris(), dossier_numero=numero, code=code)


def _phone_refusal(**kwargs) -> LegacyCodeError:
    with pytest.raises(LegacyCodeError) as error:
        _phone(**kwargs)
    assert isinstance(error.value, DomainError)
    return error.value


@override_settings(MONCOMPTE_LEGACY_CODE_PHONE_UNTIL=LATER)
def test_the_web_retirement_does_not_end_the_phone(demo):
    dossier = Dossier.objects.get(numero="2345678")
    first_connection_complete(
        actor=VISITOR, dossier_id=dossier.id, person_id=person_of(JULIEN).id, password=NEW_PASSWORD
    )
    credential = LegacyCredential.objects.get(dossier=dossier)
    assert credential.retired_on_web_at is not None and credential.retired_on_phone_at is None
    with pytest.raises(FirstConnectionError) as error:
        _verify()
    assert error.value.code == "already_migrated"
    assert _phone() == dossier
    entry = JournalEntry.objects.filter(action="legacy_code.phone_success").get()
    assert entry.dossier == dossier and entry.actor_person is None


@pytest.mark.parametrize("until", [TODAY.isoformat(), "2022-04-01"], ids=["end-date-today", "default-end-date"])
def test_from_the_end_date_the_phone_refuses_even_an_unretired_code(demo, until):
    with override_settings(MONCOMPTE_LEGACY_CODE_PHONE_UNTIL=until):
        assert not legacy_code_accepted_by_phone()
        error = _phone_refusal()
        assert error.code == "phone_code_ended" and "n'est plus accepté par téléphone" in error.message
        # Nothing was looked up nor counted against the file; the web still accepts the code.
        assert not LegacyCodeAttempt.objects.exists()
        assert JournalEntry.objects.filter(action="legacy_code.phone_failure", detail={"reason": "ended"}).exists()
        assert LegacyCredential.objects.get(dossier__numero="2345678").retired_on_web_at is None
        assert _verify().numero == "2345678"


def test_the_end_date_is_excluded():
    with override_settings(MONCOMPTE_LEGACY_CODE_PHONE_UNTIL=(TODAY + datetime.timedelta(days=1)).isoformat()):
        assert legacy_code_accepted_by_phone()
        assert not legacy_code_accepted_by_phone(TODAY + datetime.timedelta(days=1))


@pytest.mark.parametrize("value", ["", "2022-13-01", "01/04/2022", None, 20220401])
def test_a_malformed_end_date_is_a_configuration_error(value):
    with override_settings(MONCOMPTE_LEGACY_CODE_PHONE_UNTIL=value), pytest.raises(ImproperlyConfigured):
        legacy_code_phone_until()


def test_the_end_date_may_be_a_date():
    with override_settings(MONCOMPTE_LEGACY_CODE_PHONE_UNTIL=datetime.date(2030, 1, 2)):
        assert legacy_code_phone_until() == datetime.date(2030, 1, 2)


@override_settings(MONCOMPTE_LEGACY_CODE_PHONE_UNTIL=LATER)
@pytest.mark.parametrize(
    "numero, code", [("2345678", "12345679"), ("2345679", "12345678")], ids=["wrong-code", "unknown-file"]
)
def test_the_phone_answers_the_same_for_a_wrong_code_and_an_unknown_file(demo, numero, code):
    error = _phone_refusal(numero=numero, code=code)
    assert error.code == "wrong_code"
    assert (
        JournalEntry.objects.filter(action="legacy_code.phone_failure", detail={"reason": "wrong"}).count()
        + (JournalEntry.objects.filter(action="legacy_code.phone_failure", detail={"reason": "unknown"}).count())
        == 1
    )


@override_settings(MONCOMPTE_LEGACY_CODE_PHONE_UNTIL=LATER, MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS=1000)
def test_the_caps_per_file_are_shared_by_the_web_and_the_phone(demo):
    for _ in range(3):
        with pytest.raises(FirstConnectionError):
            _verify(code="00000000")
    for _ in range(2):
        assert _phone_refusal(code="00000000").code == "wrong_code"
    # Five wrong codes today, whatever the channel: even the right one is refused on both.
    assert _phone_refusal().code == "capped"
    with pytest.raises(FirstConnectionError) as error:
        _verify()
    assert error.value.code == "capped"


@override_settings(MONCOMPTE_LEGACY_CODE_PHONE_UNTIL=LATER)
def test_a_code_retired_on_the_phone_for_one_file(demo):
    LegacyCredential.objects.filter(dossier__numero="2345678").update(retired_on_phone_at=timezone.now())
    assert _phone_refusal(code="00000000").code == "wrong_code"  # the code is proved first
    assert _phone_refusal().code == "phone_code_retired"
    assert _verify().numero == "2345678"  # the web keeps its own retirement


@override_settings(MONCOMPTE_LEGACY_CODE_PHONE_UNTIL=LATER)
def test_the_phone_check_is_for_the_phone_channel(demo):
    with pytest.raises(ValueError):
        legacy_code_check_by_phone(actor=VISITOR, caf=_paris(), dossier_numero="2345678", code="12345678")


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
