"""The factories build data the application accepts as real."""

import pytest

from moncompte.identity.identifiers import IdentifierKind, parse_identifier
from moncompte.identity.matching import nir_identity_problems
from moncompte.identity.models import IdentifierType, Person
from tests.factories import (
    AccountFactory,
    ContactFactory,
    LegacyCredentialFactory,
    MemberFactory,
    PersonFactory,
    make_household,
    password_hash,
)

pytestmark = pytest.mark.django_db


def test_persons_get_valid_nirs_that_agree_with_their_identity():
    for _ in range(30):
        person = PersonFactory()
        parsed = parse_identifier(person.raw_identifier)
        assert parsed.kind is IdentifierKind.NIR and len(person.raw_identifier.replace(" ", "")) == 15
        assert parsed.value == person.identifier_value
        assert (
            nir_identity_problems(
                parsed, sex=person.sex, birth_date=person.birth_date, birth_place_code=person.birth_place_code
            )
            == []
        )
        # Stored as the model requires: found by its keyed digest, decrypted back.
        assert Person.objects.with_identifier(parsed.value).get() == person
        assert Person.objects.get(pk=person.pk).identifier == parsed
        assert parsed.value not in person.identifier_encrypted


def test_provisional_identifiers_and_nnps_parse():
    provisional = PersonFactory(provisional=True)
    assert parse_identifier(provisional.raw_identifier).is_provisional
    assert provisional.identifier_type == IdentifierType.PROVISIONAL
    nnp = PersonFactory(nnp=True)
    assert parse_identifier(nnp.raw_identifier).kind is IdentifierKind.NNP
    assert nnp.identifier_type == IdentifierType.NNP


def test_sign_in_works_with_a_factory_account(client):
    account = AccountFactory()
    response = client.post(
        "/connexion/", {"identifier": account.person.raw_identifier, "password": account.raw_password}
    )
    assert response.status_code == 302 and response.url == "/mon-compte/"


def test_an_account_without_a_validated_contact_is_not_usable_yet(client):
    account = AccountFactory(with_contact=False)
    assert not account.contacts.exists() and account.contact_validated_at is None
    assert AccountFactory().contact_validated_at is not None
    response = client.post(
        "/connexion/", {"identifier": account.person.raw_identifier, "password": account.raw_password}, follow=True
    )
    assert response.redirect_chain[-1][0] != "/mon-compte/"


def test_a_wrong_password_does_not_sign_in(client):
    account = AccountFactory()
    response = client.post("/connexion/", {"identifier": account.person.raw_identifier, "password": "Autre2024motx"})
    assert response.status_code != 302


def test_password_hashes_are_computed_once_per_raw_password():
    first, second = AccountFactory(), AccountFactory()
    assert first.password == second.password == password_hash(first.raw_password)
    assert AccountFactory(password="Different2024mot").password != first.password
    assert first.check_password(first.raw_password)


def test_household_members_sign_in_with_their_own_credentials(client):
    family = make_household(delegated=True)
    assert family.spouse.member.delegation_granted_at is not None
    assert family.young_child.account is None and family.young_child.password is None
    for member in (family.responsible, family.spouse, family.child):
        client.logout()
        response = client.post("/connexion/", dict(zip(("identifier", "password"), member.credentials, strict=True)))
        assert response.status_code == 302 and response.url == "/mon-compte/", member
    client.logout()
    response = client.post("/connexion/", {"identifier": family.child.identifier, "password": family.spouse.password})
    assert response.status_code != 302


def test_two_households_never_share_people():
    first = make_household()
    second = make_household(caf=first.caf, birth_name=first.responsible.person.birth_name)
    assert first.dossier != second.dossier and first.caf == second.caf
    first_people = {p.person.pk for p in first.people}
    second_people = {p.person.pk for p in second.people}
    assert len(first_people) == len(second_people) == 4
    assert not first_people & second_people
    assert not {p.identifier for p in first.people} & {p.identifier for p in second.people}
    assert not set(first.dossier.members.values_list("person", flat=True)) & set(
        second.dossier.members.values_list("person", flat=True)
    )


def test_member_traits():
    former = MemberFactory(spouse=True, ended=True)
    assert former.ended_on is not None and former.role == "conjoint"
    import datetime

    from moncompte.accounts.services import age_on

    child = MemberFactory(young_child=True)
    assert age_on(child.person.birth_date, datetime.date.today()) == 10
    assert age_on(MemberFactory(child=True).person.birth_date, datetime.date.today()) == 17


def test_contacts_and_legacy_codes():
    phone = ContactFactory(phone=True, unverified=True)
    assert phone.kind == "phone" and phone.verified_at is None and phone.value.startswith("+336")
    from moncompte.accounts.legacy import legacy_code_matches

    credential = LegacyCredentialFactory(code="87654321")
    assert credential.raw_code == "87654321"
    assert legacy_code_matches("87654321", credential.code_digest)
