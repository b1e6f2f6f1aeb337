import datetime
from dataclasses import dataclass

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import F
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
from tests.conftest import person_of
from tests.factories import (
    CafFactory,
    DossierFactory,
    LegacyCredentialFactory,
    MemberFactory,
    PersonFactory,
    make_household,
    nir_for,
    typed,
)

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Charonne et 30 tilleuls"
VISITOR = Actor.visitor(channel=Channel.WEB, client_address="198.51.100.7", session_key="s" * 32)
OTHER_VISITOR = Actor.visitor(channel=Channel.WEB, client_address="198.51.100.8", session_key="t" * 32)
# Numéros allocataires no file has (the factories' start with 9).
UNKNOWN_NUMEROS = ("1000001", "1000002", "1000003", "1000004")


@dataclass
class Newcomer:
    """A file of one person, the responsible one, who has no account yet; the file keeps its old
    8-digit code."""

    caf: Caf
    dossier: Dossier
    person: object
    code: str

    @property
    def numero(self) -> str:
        return self.dossier.numero

    @property
    def identifier(self) -> str:  # as typed, key included
        return self.person.raw_identifier


@pytest.fixture
def newcomer(db) -> Newcomer:
    # Département 75: the pages find the Caf from a Paris postal code.
    caf = CafFactory(departement="75")
    dossier = DossierFactory(caf=caf)
    member = MemberFactory(dossier=dossier)
    credential = LegacyCredentialFactory(dossier=dossier, code="40506070")
    return Newcomer(caf, dossier, member.person, credential.raw_code)


@pytest.fixture
def neighbours(newcomer):
    """Another file of the same Caf, without old code: R, spouse, child of 17 with accounts, a child of 10."""
    return make_household(caf=newcomer.caf)


def _other_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**8:08d}"


def _unknown_nir() -> str:
    return typed(nir_for(sex="M", birth_date=datetime.date(1980, 1, 15), birth_place_code="75056"))


def _verify(file: Newcomer, code=None, numero=None, caf=None):
    return legacy_code_verify(actor=VISITOR, caf=caf or file.caf, numero=numero or file.numero, code=code or file.code)


def test_right_code_opens_the_file(newcomer):
    assert _verify(newcomer) == newcomer.dossier


@pytest.mark.parametrize("case", ["wrong-code", "unknown-file", "file-without-code"])
def test_wrong_code_unknown_file_and_file_without_code_answer_the_same(newcomer, neighbours, case):
    numero, code = {
        "wrong-code": (newcomer.numero, _other_code(newcomer.code)),
        "unknown-file": (UNKNOWN_NUMEROS[0], newcomer.code),
        "file-without-code": (neighbours.dossier.numero, newcomer.code),
    }[case]
    with pytest.raises(FirstConnectionError) as error:
        _verify(newcomer, code=code, numero=numero)
    assert error.value.code == "wrong_code"


def test_right_code_in_another_caf_is_refused(newcomer):
    other_caf = CafFactory()
    assert other_caf != newcomer.caf
    with pytest.raises(FirstConnectionError) as error:
        _verify(newcomer, caf=other_caf)
    assert error.value.code == "wrong_code"


def test_five_wrong_codes_a_day_then_even_the_right_one_is_refused_to_that_client(newcomer, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 1000
    for _ in range(5):
        with pytest.raises(FirstConnectionError):
            _verify(newcomer, code="00000000")
    with pytest.raises(FirstConnectionError) as error:
        _verify(newcomer)
    assert error.value.code == "capped" and error.value.status == 429
    assert "09 69 32 52 52" in error.value.message and "réessayez dans 24 heures" in error.value.message
    # Another client is not concerned: five wrong codes a day on the file are free.
    assert legacy_code_verify(actor=OTHER_VISITOR, caf=newcomer.caf, numero=newcomer.numero, code=newcomer.code)


def test_ten_wrong_codes_a_week_from_one_client(newcomer, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 1000
    two_days_ago = timezone.now() - datetime.timedelta(days=2)
    for _ in range(4):
        with pytest.raises(FirstConnectionError):
            _verify(newcomer, code="00000000")
    LegacyCodeAttempt.objects.update(at=two_days_ago)
    assert _verify(newcomer) == newcomer.dossier  # 4 failures two days ago: still allowed
    for _ in range(4):
        with pytest.raises(FirstConnectionError):
            _verify(newcomer, code="00000000")
    LegacyCodeAttempt.objects.update(at=two_days_ago)
    for _ in range(2):
        with pytest.raises(FirstConnectionError):
            _verify(newcomer, code="00000000")
    with pytest.raises(FirstConnectionError) as error:
        _verify(newcomer)
    assert error.value.code == "capped"
    assert 4 * 86400 < error.value.wait_seconds <= 5 * 86400  # until the oldest leaves the week


def test_per_address_throttling_on_unknown_files(newcomer, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 3
    for numero in UNKNOWN_NUMEROS:
        with pytest.raises(FirstConnectionError):
            _verify(newcomer, numero=numero)
    with pytest.raises(FirstConnectionError) as error:
        _verify(newcomer)
    assert error.value.code == "throttled"


def test_nir_must_be_the_responsible_person_or_spouse_of_that_file(newcomer, neighbours):
    dossier = newcomer.dossier
    assert (
        first_connection_person(actor=VISITOR, dossier=dossier, identifier=parse_identifier(newcomer.identifier))
        == newcomer.person
    )
    own_child = MemberFactory(dossier=dossier, child=True).person.raw_identifier
    others = (neighbours.responsible.identifier, neighbours.young_child.identifier, own_child, _unknown_nir())
    for other in others:  # R of another file, a child of another file, a child of this one, unknown
        with pytest.raises(FirstConnectionError) as error:
            first_connection_person(actor=VISITOR, dossier=dossier, identifier=parse_identifier(other))
        assert error.value.code == "not_eligible"


def test_child_of_a_file_is_not_eligible(neighbours):
    LegacyCredentialFactory(dossier=neighbours.dossier)
    with pytest.raises(FirstConnectionError) as error:
        first_connection_person(
            actor=VISITOR, dossier=neighbours.dossier, identifier=parse_identifier(neighbours.child.identifier)
        )
    assert error.value.code == "not_eligible"


def test_person_with_an_account_is_told_so(neighbours):
    LegacyCredentialFactory(dossier=neighbours.dossier)
    with pytest.raises(FirstConnectionError) as error:
        first_connection_person(
            actor=VISITOR, dossier=neighbours.dossier, identifier=parse_identifier(neighbours.responsible.identifier)
        )
    assert error.value.code == "has_account"


def test_completion_creates_the_account_and_retires_the_code(newcomer):
    dossier = newcomer.dossier
    person = person_of(newcomer.identifier)
    account = first_connection_complete(
        actor=VISITOR, dossier_id=dossier.id, person_id=person.id, password=NEW_PASSWORD
    )
    assert account.person == person and account.check_password(NEW_PASSWORD)
    assert LegacyCredential.objects.get(dossier=dossier).retired_on_web_at is not None
    # The old code no longer opens the web.
    with pytest.raises(FirstConnectionError) as error:
        _verify(newcomer)
    assert error.value.code == "already_migrated"
    with pytest.raises(FirstConnectionError):
        first_connection_complete(actor=VISITOR, dossier_id=dossier.id, person_id=person.id, password=NEW_PASSWORD)
    assert Account.objects.filter(person=person).count() == 1


def test_completion_rechecks_the_membership(newcomer, neighbours):
    """A person id slipped into the state that is not of this file links nothing."""
    dossier = newcomer.dossier
    with pytest.raises(FirstConnectionError):
        first_connection_complete(
            actor=VISITOR, dossier_id=dossier.id, person_id=neighbours.young_child.person.id, password=NEW_PASSWORD
        )
    assert LegacyCredential.objects.get(dossier=dossier).retired_on_web_at is None


# Who may claim the file's account: the policy's CLAIM_BY_FIRST_CONNECTION -------------------


def _spouse_of(file: Newcomer, **membership) -> str:
    """Adds a spouse to the file; returns their identifier as 13 characters (the key is optional)."""
    spouse = PersonFactory(sex="F", birth_name=file.person.birth_name)
    Member.objects.create(
        dossier=file.dossier, person=spouse, role=Role.CONJOINT, joined_on=datetime.date(2015, 1, 1), **membership
    )
    assert len(spouse.identifier_value) == 13
    return spouse.identifier_value


@pytest.mark.parametrize(
    "membership",
    [{}, {"delegation_granted_at": timezone.now()}],
    ids=["spouse", "delegated-spouse"],
)
def test_a_current_spouse_may_claim_the_file(newcomer, membership):
    spouse_identifier = _spouse_of(newcomer, **membership)
    dossier = newcomer.dossier
    person = first_connection_person(actor=VISITOR, dossier=dossier, identifier=parse_identifier(spouse_identifier))
    assert (
        first_connection_complete(
            actor=VISITOR, dossier_id=dossier.id, person_id=person.id, password=NEW_PASSWORD
        ).person
        == person
    )


def test_a_former_spouse_may_not_claim_the_file(newcomer):
    spouse_identifier = _spouse_of(newcomer, ended_on=datetime.date.today())
    dossier = newcomer.dossier
    with pytest.raises(FirstConnectionError) as error:
        first_connection_person(actor=VISITOR, dossier=dossier, identifier=parse_identifier(spouse_identifier))
    assert error.value.code == "not_eligible" and error.value.field == "identifier"
    assert isinstance(error.value, DomainError)
    spouse = Member.objects.get(dossier=dossier, role=Role.CONJOINT).person
    with pytest.raises(FirstConnectionError):
        first_connection_complete(actor=VISITOR, dossier_id=dossier.id, person_id=spouse.id, password=NEW_PASSWORD)
    assert not Account.objects.filter(person=spouse).exists()


def test_the_throttled_answer_says_the_wait_once(newcomer, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS = 1
    for numero in UNKNOWN_NUMEROS[:2]:
        with pytest.raises(FirstConnectionError):
            _verify(newcomer, numero=numero)
    with pytest.raises(FirstConnectionError) as error:
        _verify(newcomer)
    assert error.value.status == 429 and error.value.wait_seconds > 0
    assert "minute(s)" not in error.value.message and "Réessayez dans" in error.value.message


# The old code per channel: the web retires it at the first connection, the phone keeps it -----
# until MONCOMPTE_LEGACY_CODE_PHONE_UNTIL (that day excluded).

PHONE = Actor.visitor(channel=Channel.PHONE)
TODAY = timezone.localdate()  # the phone's end date is a local date (TIME_ZONE), not the machine's
LATER = (TODAY + datetime.timedelta(days=30)).isoformat()


def _phone(file: Newcomer, code=None, numero=None, caf=None):
    return legacy_code_check_by_phone(
        actor=PHONE, caf=caf or file.caf, dossier_numero=numero or file.numero, code=code or file.code
    )


def _phone_refusal(file: Newcomer, **kwargs) -> LegacyCodeError:
    with pytest.raises(LegacyCodeError) as error:
        _phone(file, **kwargs)
    assert isinstance(error.value, DomainError)
    return error.value


@override_settings(MONCOMPTE_LEGACY_CODE_PHONE_UNTIL=LATER)
def test_the_web_retirement_does_not_end_the_phone(newcomer):
    dossier = newcomer.dossier
    first_connection_complete(actor=VISITOR, dossier_id=dossier.id, person_id=newcomer.person.id, password=NEW_PASSWORD)
    credential = LegacyCredential.objects.get(dossier=dossier)
    assert credential.retired_on_web_at is not None and credential.retired_on_phone_at is None
    with pytest.raises(FirstConnectionError) as error:
        _verify(newcomer)
    assert error.value.code == "already_migrated"
    assert _phone(newcomer) == dossier
    entry = JournalEntry.objects.filter(action="legacy_code.phone_success").get()
    assert entry.dossier == dossier and entry.actor_person is None


@pytest.mark.parametrize("until", [TODAY.isoformat(), "2022-04-01"], ids=["end-date-today", "default-end-date"])
def test_from_the_end_date_the_phone_refuses_even_an_unretired_code(newcomer, until):
    with override_settings(MONCOMPTE_LEGACY_CODE_PHONE_UNTIL=until):
        assert not legacy_code_accepted_by_phone()
        error = _phone_refusal(newcomer)
        assert error.code == "phone_code_ended" and "n'est plus accepté par téléphone" in error.message
        # Nothing was looked up nor counted against the file; the web still accepts the code.
        assert not LegacyCodeAttempt.objects.exists()
        assert JournalEntry.objects.filter(action="legacy_code.phone_failure", detail={"reason": "ended"}).exists()
        assert LegacyCredential.objects.get(dossier=newcomer.dossier).retired_on_web_at is None
        assert _verify(newcomer) == newcomer.dossier


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
@pytest.mark.parametrize("case", ["wrong-code", "unknown-file"])
def test_the_phone_answers_the_same_for_a_wrong_code_and_an_unknown_file(newcomer, case):
    numero, code = {
        "wrong-code": (newcomer.numero, _other_code(newcomer.code)),
        "unknown-file": (UNKNOWN_NUMEROS[0], newcomer.code),
    }[case]
    error = _phone_refusal(newcomer, numero=numero, code=code)
    assert error.code == "wrong_code"
    assert (
        JournalEntry.objects.filter(action="legacy_code.phone_failure", detail={"reason": "wrong"}).count()
        + (JournalEntry.objects.filter(action="legacy_code.phone_failure", detail={"reason": "unknown"}).count())
        == 1
    )


@override_settings(MONCOMPTE_LEGACY_CODE_PHONE_UNTIL=LATER, MONCOMPTE_THROTTLE_FREE_FAILURES_PER_ADDRESS=1000)
def test_the_files_waits_are_shared_by_the_web_and_the_phone(newcomer):
    for _ in range(3):
        with pytest.raises(FirstConnectionError):
            _verify(newcomer, code="00000000")
    for _ in range(3):
        assert _phone_refusal(newcomer, code="00000000").code == "wrong_code"
    # Six wrong codes today, whatever the channel: the next try, even right, waits on both.
    refusal = _phone_refusal(newcomer)
    assert refusal.code == "capped" and 0 < refusal.wait_seconds <= 60 and refusal.status == 429
    assert "Réessayez dans 1 minute" in refusal.message
    with pytest.raises(FirstConnectionError) as error:
        legacy_code_verify(actor=OTHER_VISITOR, caf=newcomer.caf, numero=newcomer.numero, code=newcomer.code)
    assert error.value.code == "capped"
    # A wait, not a lock-out: once it is over, the right code opens the file on both.
    LegacyCodeAttempt.objects.update(at=F("at") - datetime.timedelta(seconds=60))
    assert _phone(newcomer) == newcomer.dossier
    assert _verify(newcomer) == newcomer.dossier


@override_settings(MONCOMPTE_LEGACY_CODE_PHONE_UNTIL=LATER)
def test_the_phone_answers_the_same_for_a_capped_file_and_an_unknown_numero(newcomer):
    for numero in (newcomer.numero, UNKNOWN_NUMEROS[0]):
        for _ in range(6):
            assert _phone_refusal(newcomer, numero=numero, code="00000000").code == "wrong_code"
    known, unknown = _phone_refusal(newcomer), _phone_refusal(newcomer, numero=UNKNOWN_NUMEROS[0])
    assert (known.code, known.message, known.status) == (unknown.code, unknown.message, unknown.status)
    assert known.code == "capped"


@override_settings(MONCOMPTE_LEGACY_CODE_PHONE_UNTIL=LATER)
def test_a_code_retired_on_the_phone_for_one_file(newcomer):
    LegacyCredential.objects.filter(dossier=newcomer.dossier).update(retired_on_phone_at=timezone.now())
    assert _phone_refusal(newcomer, code="00000000").code == "wrong_code"  # the code is proved first
    assert _phone_refusal(newcomer).code == "phone_code_retired"
    assert _verify(newcomer) == newcomer.dossier  # the web keeps its own retirement


@override_settings(MONCOMPTE_LEGACY_CODE_PHONE_UNTIL=LATER)
def test_the_phone_check_is_for_the_phone_channel(newcomer):
    with pytest.raises(ValueError):
        legacy_code_check_by_phone(actor=VISITOR, caf=newcomer.caf, dossier_numero=newcomer.numero, code=newcomer.code)


class TestPages:
    def _step1(self, client, file: Newcomer, **overrides):
        # Typed as people do: a postal code, the numbers with spaces.
        numero, code = file.numero, file.code
        data = {
            "place": "75011",
            "numero": f"{numero[:3]} {numero[3:5]} {numero[5:]}",
            "code": f"{code[:4]} {code[4:]}",
        }
        return client.post("/premiere-connexion/dossier/", {**data, **overrides})

    def test_whole_flow_up_to_contact_validation(self, newcomer):
        client = Client()
        assert "Commencer" in client.get("/premiere-connexion/").content.decode()
        before = client.session.session_key
        response = self._step1(client, newcomer)
        assert response.status_code == 302 and response["Location"] == "/premiere-connexion/numero-securite-sociale/"
        assert client.session.session_key != before
        response = client.post("/premiere-connexion/numero-securite-sociale/", {"identifier": newcomer.identifier})
        assert response["Location"] == "/premiere-connexion/mot-de-passe/"
        response = client.post(
            "/premiere-connexion/mot-de-passe/", {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
        )
        assert response.status_code == 302
        assert response["Location"] == "/mon-compte/coordonnees/valider/"
        assert Account.objects.filter(person=newcomer.person).exists()
        # Signed in, but the account is not usable before a contact is validated.
        assert client.get("/mon-compte/")["Location"] == "/mon-compte/coordonnees/valider/"

    def test_steps_cannot_be_skipped(self, newcomer):
        client = Client()
        assert client.get("/premiere-connexion/numero-securite-sociale/")["Location"] == "/premiere-connexion/dossier/"
        assert client.get("/premiere-connexion/mot-de-passe/")["Location"] == "/premiere-connexion/dossier/"

    def test_wrong_code_keeps_what_was_typed(self, newcomer):
        wrong = _other_code(newcomer.code)
        response = self._step1(Client(), newcomer, code=wrong)
        body = response.content.decode()
        assert response.status_code == 400
        assert "Numéro allocataire ou code confidentiel incorrect" in body
        assert 'value="75011"' in body and f'value="{newcomer.numero}"' in body
        assert wrong not in body

    @pytest.mark.parametrize(
        "overrides, message",
        [
            ({"numero": "234567"}, "Le numéro allocataire compte 7 chiffres."),
            ({"code": "1234567"}, "Le code confidentiel compte 8 chiffres."),
            ({"place": "00"}, "Saisissez un numéro de département"),
            ({"place": "976"}, "Nous ne trouvons pas de Caf"),
        ],
    )
    def test_bad_input_gets_a_french_message(self, newcomer, overrides, message):
        response = self._step1(Client(), newcomer, **overrides)
        assert response.status_code == 400
        assert message in response.content.decode()

    def test_weak_password_is_refused_with_reasons(self, newcomer):
        client = Client()
        self._step1(client, newcomer)
        client.post("/premiere-connexion/numero-securite-sociale/", {"identifier": newcomer.identifier})
        response = client.post(
            "/premiere-connexion/mot-de-passe/", {"password": "tilleul1978", "password_confirm": "x"}
        )
        body = response.content.decode()
        assert response.status_code == 400
        assert "au moins 12 caractères" in body
        assert not Account.objects.filter(person=newcomer.person).exists()

    def test_nir_of_a_child_is_refused(self, newcomer, neighbours):
        child = MemberFactory(dossier=newcomer.dossier, child=True).person.raw_identifier
        # A child of the file, and the responsible person of another file.
        for identifier in (child, neighbours.responsible.identifier):
            client = Client()
            assert self._step1(client, newcomer).status_code == 302
            response = client.post("/premiere-connexion/numero-securite-sociale/", {"identifier": identifier})
            assert response.status_code == 400
            assert "responsable du dossier ni de son conjoint" in response.content.decode()
