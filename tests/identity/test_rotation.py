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


def test_rotation_rekeys_former_identifiers_and_sign_up_claims_too(settings):
    from moncompte.accounts.signup import identity_check_accept
    from moncompte.core.actors import Actor
    from moncompte.identity.models import FormerIdentifier, IdentityCheck
    from tests.accounts.test_signup import NEW_NIR, complete, nir

    # An accepted sign-up: its provisional identifier became a former one. A pending one: its
    # NIR is a sealed claim waiting for the identity check.
    accepted = complete(identifier=nir(NEW_NIR))
    identity_check_accept(actor=Actor.system(), check=accepted.identity_check, decided_by="Agent Durand")
    pending = complete(identifier=nir("2 91 05 69 383 029"), contact_destination="paul@example.fr")
    settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS = [generate_hmac_key("new"), *settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS]
    settings.MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS = [
        generate_encryption_key("new"),
        *settings.MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS,
    ]
    call_command("rotate_identifier_keys", stdout=io.StringIO())
    # The old keys go: the former identifier and the claim are still found and read.
    settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS = settings.MONCOMPTE_IDENTIFIER_HMAC_KEYS[:1]
    settings.MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS = settings.MONCOMPTE_IDENTIFIER_ENCRYPTION_KEYS[:1]
    former = FormerIdentifier.objects.with_identifier(accepted.provisional_identifier.value).get()
    assert former.identifier_encrypted.startswith("new$")
    check = IdentityCheck.objects.claiming(nir("2 91 05 69 383 029").value).get()
    assert check.pk == pending.identity_check.pk
    assert check.claimed_identifier == nir("2 91 05 69 383 029")
