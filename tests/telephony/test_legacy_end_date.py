"""The old 8-digit code on the phone, before and after MONCOMPTE_LEGACY_CODE_PHONE_UNTIL (frozen
clocks): accepted before the date whether or not the file's first connection was done on the
web, the person identified being the file's responsible person; refused from the date on,
before anything is looked up, with a message telling how to get a phone code."""

import pytest
import time_machine

from moncompte.accounts.first_connection import FirstConnectionError, first_connection_complete, legacy_code_verify
from moncompte.accounts.models import LegacyCodeAttempt, LegacyCredential
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.telephony.models import PhoneAttempt, PhoneAuthentication
from moncompte.telephony.services import PhoneAuthenticationError, phone_authenticate_legacy
from tests.factories import make_household
from tests.telephony.helpers import AFTER_END, BEFORE_END, LEGACY_CODE, LINE, phone_actor

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Nouveau2024ciel-bleu"


def _legacy(family, code=LEGACY_CODE):
    return phone_authenticate_legacy(
        actor=phone_actor(), caf_code=family.caf.code, numero=family.dossier.numero, code=code, calling_line=LINE
    )


def _web_first_connection(family):
    """The responsible person's first connection on the web, as the pages end it."""
    first_connection_complete(
        actor=Actor.visitor(channel=Channel.WEB, client_address="203.0.113.9"),
        dossier_id=family.dossier.pk,
        person_id=family.responsible.person.pk,
        password=NEW_PASSWORD,
    )
    assert LegacyCredential.objects.get(dossier=family.dossier).retired_on_web_at is not None


@pytest.fixture
def family(db):
    with time_machine.travel(BEFORE_END, tick=False):
        return make_household(accounts=False, legacy_code=LEGACY_CODE)


@pytest.mark.parametrize("migrated_on_web", [False, True], ids=["no-first-connection", "first-connection-done"])
def test_before_the_end_date_the_old_code_identifies_the_responsible_person(family, migrated_on_web):
    with time_machine.travel(BEFORE_END, tick=False):
        if migrated_on_web:
            _web_first_connection(family)
            with pytest.raises(FirstConnectionError):  # the web no longer takes it
                legacy_code_verify(
                    actor=Actor.visitor(channel=Channel.WEB, client_address="203.0.113.9"),
                    caf=family.caf,
                    numero=family.dossier.numero,
                    code=LEGACY_CODE,
                )
        authentication = _legacy(family)
    assert authentication.person == family.responsible.person
    assert authentication.dossier == family.dossier and authentication.method == "legacy_code"
    assert authentication.reference.startswith("TEL-") and len(authentication.reference) == 13
    stored = PhoneAuthentication.objects.get()
    assert authentication.reference not in stored.reference_digest
    entry = JournalEntry.objects.get(action="phone_auth.success")
    assert entry.subject_person == family.responsible.person and entry.dossier == family.dossier
    assert entry.channel == "phone" and entry.detail["method"] == "legacy_code"
    assert PhoneAttempt.objects.get().outcome == "right"


@pytest.mark.parametrize("migrated_on_web", [False, True], ids=["no-first-connection", "first-connection-done"])
def test_from_the_end_date_the_old_code_is_refused_with_the_way_to_a_phone_code(family, migrated_on_web):
    if migrated_on_web:
        with time_machine.travel(BEFORE_END, tick=False):
            _web_first_connection(family)
    attempts_before = LegacyCodeAttempt.objects.count()
    with time_machine.travel(AFTER_END, tick=False), pytest.raises(PhoneAuthenticationError) as error:
        _legacy(family)
    assert error.value.code == "legacy_code_ended" and error.value.status == 400
    message = error.value.message
    assert message.startswith("L'ancien code confidentiel n'est plus accepté par téléphone.")
    assert "rubrique « Code téléphone »" in message and "par SMS" in message
    # Refused before anything is looked up: nothing counted, nothing identified.
    assert LegacyCodeAttempt.objects.count() == attempts_before
    assert not PhoneAttempt.objects.exists() and not PhoneAuthentication.objects.exists()
    entry = JournalEntry.objects.get(action="phone_auth.ended")
    assert entry.dossier is None and entry.subject_person is None and entry.detail["method"] == "legacy_code"


def test_the_end_date_refuses_even_a_wrong_code_and_an_unknown_file_the_same(family):
    with time_machine.travel(AFTER_END, tick=False):
        answers = set()
        for numero, code in ((family.dossier.numero, "00000000"), ("1999999", LEGACY_CODE)):
            with pytest.raises(PhoneAuthenticationError) as error:
                phone_authenticate_legacy(
                    actor=phone_actor(), caf_code=family.caf.code, numero=numero, code=code, calling_line=LINE
                )
            answers.add((error.value.code, error.value.message, error.value.status))
    assert len(answers) == 1 and next(iter(answers))[0] == "legacy_code_ended"


def test_the_end_date_is_a_setting(family, settings):
    settings.MONCOMPTE_LEGACY_CODE_PHONE_UNTIL = "2022-03-15"
    with time_machine.travel(BEFORE_END, tick=False), pytest.raises(PhoneAuthenticationError) as error:
        _legacy(family)
    assert error.value.code == "legacy_code_ended"
    settings.MONCOMPTE_LEGACY_CODE_PHONE_UNTIL = "2030-01-01"
    with time_machine.travel(AFTER_END, tick=False):
        assert _legacy(family).person == family.responsible.person


def test_a_code_retired_on_the_phone_for_one_file(family):
    LegacyCredential.objects.filter(dossier=family.dossier).update(retired_on_phone_at=BEFORE_END)
    with time_machine.travel(BEFORE_END, tick=False):
        with pytest.raises(PhoneAuthenticationError) as wrong:
            _legacy(family, code="00000000")
        with pytest.raises(PhoneAuthenticationError) as retired:
            _legacy(family)
    assert wrong.value.code == "wrong_credentials"  # the code is proved first
    assert retired.value.code == "legacy_code_retired" and "Code téléphone" in retired.value.message
    assert not PhoneAuthentication.objects.exists()


def test_the_phone_authentications_are_the_phone_channels(family):
    with time_machine.travel(BEFORE_END, tick=False), pytest.raises(ValueError):
        phone_authenticate_legacy(
            actor=Actor.visitor(channel=Channel.WEB),
            caf_code=family.caf.code,
            numero=family.dossier.numero,
            code=LEGACY_CODE,
            calling_line=LINE,
        )
