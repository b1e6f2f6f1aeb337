"""Who a FranceConnect identity is here, the link, its confirmation (moncompte.franceconnect.services)."""

import dataclasses

import pytest
from django.db import IntegrityError, transaction

from moncompte.accounts.models import Account
from moncompte.accounts.recovery import PasswordRefused
from moncompte.audit.actions import JournalAction
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.franceconnect.identity import PivotIdentity
from moncompte.franceconnect.models import FranceConnectLink
from moncompte.franceconnect.services import (
    FranceConnectRefused,
    PasswordAlreadySet,
    Recognition,
    franceconnect_link_confirm,
    franceconnect_password_set,
    franceconnect_recognise,
)
from moncompte.households.invitations import invitation_send
from moncompte.households.models import Invitation, Role
from moncompte.identity.matching import FRANCE
from tests.factories import AccountFactory, MemberFactory, PersonFactory, birth_date_for_age, make_household, nir_for

pytestmark = pytest.mark.django_db

VISITOR = Actor.visitor(channel=Channel.WEB, client_address="192.0.2.10")
SUB = "sub-of-the-test"
# No run of letters a name could contain (the password may not hold the person's random names).
PASSWORD = "Wq7-Zx4k-Pv9m-Jh2t"


def identity_of(person, **changes) -> PivotIdentity:
    """What FranceConnect would give for ``person`` (every first name, the birth name...)."""
    identity = PivotIdentity(
        first_names=person.first_names,
        birth_name=person.birth_name,
        birth_date=person.birth_date,
        sex=person.sex,
        birth_place_code=person.birth_place_code if person.birth_country_code == FRANCE else "",
        birth_country_code=person.birth_country_code,
    )
    return dataclasses.replace(identity, **changes)


def recognise(identity, sub=SUB):
    return franceconnect_recognise(actor=VISITOR, sub=sub, identity=identity)


def journaled(action) -> list[str]:
    return [e.detail.get("reason") for e in JournalEntry.objects.filter(action=action).order_by("id")]


# Matching --------------------------------------------------------------------------------------


def test_one_person_with_that_identity_is_recognised():
    person = PersonFactory()
    recognised = recognise(identity_of(person))
    assert (recognised.outcome, recognised.person) == (Recognition.TO_CONFIRM, person)
    assert recognised.account is None


@pytest.mark.parametrize(
    ("stored", "given"),
    [
        (
            {"first_names": "Léa-Marie Jeanne", "birth_name": "D'ARC"},
            {"first_names": "LEA MARIE", "birth_name": "d arc"},
        ),
        ({"first_names": "Hélène", "birth_name": "LEFÈVRE"}, {"first_names": "HELENE", "birth_name": "Lefevre"}),
        ({"first_names": "Zoé", "birth_name": "ŒUVRARD"}, {"first_names": "zoe anne", "birth_name": "OEUVRARD"}),
        (
            {"first_names": "Jean-Pierre", "birth_name": "MARTIN-DUPONT"},
            {"first_names": "Jean", "birth_name": "Martin Dupont"},
        ),
    ],
)
def test_names_are_compared_normalised(stored, given):
    person = PersonFactory(**stored)
    assert recognise(identity_of(person, **given)).person == person


def test_an_arrondissement_is_its_city():
    person = PersonFactory(birth_place_code="75115")
    assert recognise(identity_of(person, birth_place_code="75056")).person == person


def test_born_abroad_matches_on_the_country():
    born = birth_date_for_age(35)
    person = PersonFactory(
        sex="M",
        birth_date=born,
        birth_place_code="",
        birth_country_code="99350",
        identifier=nir_for(sex="M", birth_date=born, birth_place_code="99350"),
    )
    assert recognise(identity_of(person)).person == person
    # Born in France according to FranceConnect: not this person.
    assert recognise(identity_of(person, birth_place_code="75115", birth_country_code=FRANCE)).person is None


@pytest.mark.parametrize(
    "change",
    [
        {"birth_name": "AUTRE"},
        {"first_names": "Autre"},
        {"sex": "M"},
        {"birth_place_code": "13055"},
        {"birth_place_code": "", "birth_country_code": "99131"},
    ],
)
def test_a_different_identity_is_not_recognised(change):
    person = PersonFactory(birth_place_code="69383", sex="F")
    recognised = recognise(identity_of(person, **change))
    assert recognised.outcome is Recognition.NOT_RECOGNISED and recognised.person is None
    assert journaled(JournalAction.FRANCECONNECT_NO_MATCH) == ["no_match"]


def test_a_person_whose_nir_contradicts_the_identity_is_not_recognised():
    born = birth_date_for_age(40)
    # The file says a woman born in Paris 15e; the NIR says a man (first digit), or Lyon 3e.
    for nir in (
        nir_for(sex="M", birth_date=born, birth_place_code="75115"),
        nir_for(sex="F", birth_date=born, birth_place_code="69383"),
    ):
        person = PersonFactory(sex="F", birth_date=born, birth_place_code="75115", identifier=nir)
        assert recognise(identity_of(person)).outcome is Recognition.NOT_RECOGNISED
        person.delete()
    assert journaled(JournalAction.FRANCECONNECT_NO_MATCH) == ["nir_cross_check", "nir_cross_check"]


def test_a_provisional_identifier_has_no_digits_to_cross_check():
    person = PersonFactory(provisional=True)
    assert recognise(identity_of(person)).person == person


def test_several_persons_with_that_identity_are_not_recognised():
    person = PersonFactory()
    PersonFactory(
        first_names=person.first_names,
        birth_name=person.birth_name,
        birth_date=person.birth_date,
        sex=person.sex,
        birth_place_code=person.birth_place_code,
    )
    recognised = recognise(identity_of(person))
    assert recognised.outcome is Recognition.NOT_RECOGNISED and recognised.person is None
    assert journaled(JournalAction.FRANCECONNECT_SEVERAL) == ["several"]
    assert journaled(JournalAction.FRANCECONNECT_NO_MATCH) == []


# Refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize("age", [13, 15])
def test_persons_of_15_or_under_are_refused(age):
    person = PersonFactory(age=age)
    with pytest.raises(FranceConnectRefused) as refused:
        recognise(identity_of(person))
    assert refused.value.reason == "too_young"
    assert "16 ans" in refused.value.message
    assert journaled(JournalAction.FRANCECONNECT_REFUSED) == ["too_young"]


def test_a_person_of_16_is_recognised():
    person = PersonFactory(age=16)
    assert recognise(identity_of(person)).person == person


def test_the_link_signs_in_the_linked_person():
    account = AccountFactory()
    FranceConnectLink.objects.create(sub=SUB, person=account.person)
    recognised = recognise(identity_of(account.person))
    assert (recognised.outcome, recognised.account) == (Recognition.LINKED, account)


def test_a_linked_person_whose_identity_changed_is_refused():
    account = AccountFactory()
    FranceConnectLink.objects.create(sub=SUB, person=account.person)
    with pytest.raises(FranceConnectRefused) as refused:
        recognise(identity_of(account.person, birth_name="AUTRE"))
    assert refused.value.reason == "link_mismatch"
    assert "Nous ne pouvons pas vous connecter avec FranceConnect" in refused.value.message


def test_a_person_linked_to_another_franceconnect_identity_is_refused():
    person = PersonFactory()
    FranceConnectLink.objects.create(sub="another-sub", person=person)
    with pytest.raises(FranceConnectRefused) as refused:
        recognise(identity_of(person))
    assert refused.value.reason == "person_linked_elsewhere"


def test_a_deactivated_account_is_refused():
    account = AccountFactory(is_active=False)
    with pytest.raises(FranceConnectRefused) as refused:
        recognise(identity_of(account.person))
    assert refused.value.reason == "account_inactive"


# Confirmation ----------------------------------------------------------------------------------


def test_confirming_links_an_existing_account():
    account = AccountFactory()
    confirmed = franceconnect_link_confirm(
        actor=VISITOR, sub=SUB, identity=identity_of(account.person), person_id=account.person.pk
    )
    assert (confirmed.account, confirmed.account_created) == (account, False)
    assert FranceConnectLink.objects.get(sub=SUB).person == account.person
    entry = JournalEntry.objects.get(action=JournalAction.FRANCECONNECT_LINK_CONFIRMED)
    assert entry.subject_person == account.person and entry.detail == {"account_created": False}


def test_confirming_creates_the_account_without_a_usable_password():
    person = PersonFactory()
    confirmed = franceconnect_link_confirm(actor=VISITOR, sub=SUB, identity=identity_of(person), person_id=person.pk)
    assert confirmed.account_created and confirmed.account.person == person
    assert not confirmed.account.has_usable_password()
    assert confirmed.account.contact_validated_at is None  # a contact is validated next
    assert FranceConnectLink.objects.filter(sub=SUB, person=person).exists()


def test_a_second_confirmation_is_refused_and_makes_no_second_link():
    person = PersonFactory()
    franceconnect_link_confirm(actor=VISITOR, sub=SUB, identity=identity_of(person), person_id=person.pk)
    with pytest.raises(FranceConnectRefused) as refused:
        franceconnect_link_confirm(actor=VISITOR, sub=SUB, identity=identity_of(person), person_id=person.pk)
    assert refused.value.reason == "already_linked"
    assert FranceConnectLink.objects.count() == 1 and Account.objects.filter(person=person).count() == 1


def test_one_link_per_sub_and_one_per_person_whatever_writes_them():
    person, other = PersonFactory(), PersonFactory()
    FranceConnectLink.objects.create(sub=SUB, person=person)
    for sub, whom in ((SUB, other), ("another-sub", person)):
        with pytest.raises(IntegrityError), transaction.atomic():
            FranceConnectLink.objects.create(sub=sub, person=whom)
    assert FranceConnectLink.objects.count() == 1


def test_confirming_another_person_than_the_one_recognised_is_refused():
    person, other = PersonFactory(), PersonFactory()
    with pytest.raises(FranceConnectRefused) as refused:
        franceconnect_link_confirm(actor=VISITOR, sub=SUB, identity=identity_of(person), person_id=other.pk)
    assert refused.value.reason == "no_longer_recognised"
    assert not FranceConnectLink.objects.exists()


# The optional password -------------------------------------------------------------------------


def _created_account():
    person = PersonFactory()
    return franceconnect_link_confirm(actor=VISITOR, sub=SUB, identity=identity_of(person), person_id=person.pk).account


def test_the_first_password_follows_the_policy():
    account = _created_account()
    actor = Actor(channel=Channel.WEB, account=account)
    with pytest.raises(PasswordRefused):
        franceconnect_password_set(actor=actor, password="azerty123")
    franceconnect_password_set(actor=actor, password=PASSWORD)
    account.refresh_from_db()
    assert account.check_password(PASSWORD)
    assert JournalEntry.objects.filter(action=JournalAction.FRANCECONNECT_PASSWORD_SET).count() == 1


def test_an_account_with_a_password_changes_it_the_usual_way():
    account = AccountFactory()
    with pytest.raises(PasswordAlreadySet):
        franceconnect_password_set(actor=Actor(channel=Channel.WEB, account=account), password=PASSWORD)
    account.refresh_from_db()
    assert account.check_password(account.raw_password)


def test_the_invitations_of_a_person_close_with_the_account_created_through_franceconnect():
    household = make_household()
    invited = MemberFactory(dossier=household.dossier, person=PersonFactory(age=21), role=Role.AUTRE)
    invitation_send(
        actor=Actor(channel=Channel.WEB, account=household.responsible.account),
        member=invited,
        channel="email",
        destination="invite@example.fr",
    )
    franceconnect_link_confirm(
        actor=VISITOR, sub=SUB, identity=identity_of(invited.person), person_id=invited.person.pk
    )
    invitation = Invitation.objects.get(member=invited)
    assert invitation.cancel_reason == Invitation.CancelReason.ACCOUNT_EXISTS
