import io

import pytest
from django.core.management import call_command
from django.utils.html import escape

from moncompte.identity.models import Person
from moncompte.identity.protection import generate_encryption_key, generate_hmac_key
from tests.conftest import sign_in
from tests.factories import make_household

pytestmark = pytest.mark.django_db


def test_rotation_rekeys_every_identifier_and_sign_in_still_works(client, family, settings):
    make_household()  # a second file: several households to re-key
    old_digests = dict(Person.objects.values_list("id", "identifier_digest"))
    settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS = [generate_hmac_key("new"), *settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS]
    settings.MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS = [
        generate_encryption_key("new"),
        *settings.MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS,
    ]
    # During the rotation, look-ups find people under the old digest.
    assert sign_in(client, *family.responsible.credentials).status_code == 302
    out = io.StringIO()
    call_command("rotate_identifier_keys", stdout=out)
    assert f"{len(old_digests)} identifiers re-keyed" in out.getvalue()
    for person in Person.objects.all():
        assert person.identifier_digest != old_digests[person.id]
        assert person.identifier_encrypted.startswith("new$")
    # Then the old keys can go.
    settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS = settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS[:1]
    settings.MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS = settings.MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS[:1]
    client.post("/deconnexion/")
    assert sign_in(client, *family.responsible.credentials).status_code == 302
    assert escape(family.responsible.person.display_name) in client.get("/mon-compte/").content.decode()
    again = io.StringIO()
    call_command("rotate_identifier_keys", stdout=again)
    assert "0 identifiers re-keyed" in again.getvalue()


def test_missing_keys_fail_the_system_check(settings):
    from moncompte.identity.checks import identifier_keys_check

    assert identifier_keys_check(None) == []
    settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS = []
    assert [e.id for e in identifier_keys_check(None)] == ["identity.E001"]
