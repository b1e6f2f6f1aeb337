"""Delegation (autorisation de gestion) and separation services: moncompte.households.services."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from moncompte.access.policy import Standing, standing
from moncompte.accounts.reauth import WrongPassword
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.core.errors import DomainError, NotAllowed, Throttled
from moncompte.households.models import Member, Role, SituationChange
from moncompte.households.services import (
    DelegationError,
    SeparationError,
    delegation_grant,
    delegation_renounce,
    delegation_revoke,
    separation_declare,
)
from moncompte.notifications.models import Message
from tests.factories import ContactFactory, make_household

pytestmark = pytest.mark.django_db

ADDRESS = {"address_line1": "3 rue des Acacias", "address_line2": "", "postal_code": "69003", "city": "Lyon"}


@pytest.fixture
def people(family):
    """The family's persons by role, its file, and strangers: the responsible person of a file of
    another Caf and of a file of the same Caf. The responsible person has a phone as well."""
    ContactFactory(account=family.responsible.account, phone=True)
    stranger = make_household().responsible
    neighbour = make_household(caf=family.caf).responsible
    return {
        "responsible": family.responsible.person,
        "spouse": family.spouse.person,
        "child": family.child.person,
        "stranger": stranger.person,
        "neighbour": neighbour.person,
        "file": family.dossier,
        "passwords": {
            "responsible": family.responsible.password,
            "spouse": family.spouse.password,
            "child": family.child.password,
            "stranger": stranger.password,
            "neighbour": neighbour.password,
        },
    }


def email_of(person) -> str:
    return person.account.contacts.get(kind="email").value


def phone_of(person) -> str:
    return person.account.contacts.get(kind="phone").value


def web(person) -> Actor:
    """The person acting through the web, signed in to their account."""
    return Actor(channel=Channel.WEB, account=person.account, session_key="k", client_address="192.0.2.7")


def _spouse_member(dossier) -> Member:
    return Member.objects.get(dossier=dossier, role=Role.CONJOINT)


def _grant(people):
    responsible = people["responsible"]
    return delegation_grant(actor=web(responsible), dossier=people["file"], password=people["passwords"]["responsible"])


def test_responsable_grants_the_delegation_and_both_are_told(people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        change = _grant(people)
    assert change.action == "granted"
    assert _spouse_member(people["file"]).delegation_granted_at is not None
    assert standing(people["spouse"], people["file"]) == Standing.SPOUSE_DELEGATED
    sent = sorted(Message.objects.filter(template="delegation_granted").values_list("channel", "recipient"))
    assert sent == sorted(
        [
            ("email", email_of(people["responsible"])),
            ("email", email_of(people["spouse"])),
            ("sms", phone_of(people["responsible"])),
        ]
    )
    assert sorted(m.to[0] for m in mail.outbox) == sorted([email_of(people["responsible"]), email_of(people["spouse"])])
    assert f"autorisé {people['spouse'].display_name} à gérer le dossier" in mail.outbox[0].body
    entry = JournalEntry.objects.get(action="delegation.granted")
    assert entry.actor_person == people["responsible"] and entry.subject_person == people["spouse"]
    assert entry.dossier == people["file"] and entry.detail == {"notified": 3}


def test_sms_texts_fit_in_one_sms(people):
    _grant(people)
    delegation_revoke(
        actor=web(people["responsible"]),
        dossier=people["file"],
        password=people["passwords"]["responsible"],
    )
    separation_declare(
        actor=web(people["responsible"]),
        dossier=people["file"],
        separated_on=timezone.localdate(),
        leaving_person=people["spouse"],
        new_address=ADDRESS,
    )
    for message in Message.objects.filter(channel="sms"):
        assert len(message.get_body()) <= 160, message.template


@pytest.mark.parametrize("who", ["spouse", "child", "stranger", "neighbour"])
def test_only_the_responsable_grants(people, who):
    person = people[who]
    with pytest.raises(DelegationError) as refused:
        delegation_grant(actor=web(person), dossier=people["file"], password=people["passwords"][who])
    assert refused.value.code == "not_allowed"
    assert isinstance(refused.value, NotAllowed)  # an API answers 404
    assert _spouse_member(people["file"]).delegation_granted_at is None
    assert not Message.objects.exists()
    assert not JournalEntry.objects.filter(action__startswith="delegation.").exists()
    # Refused before the password is even looked at: nothing counted against the account.
    assert not JournalEntry.objects.filter(action__startswith="reauth.").exists()


def test_delegated_spouse_cannot_grant(people):
    _grant(people)
    before = _spouse_member(people["file"]).delegation_granted_at
    spouse = people["spouse"]
    with pytest.raises(DelegationError) as refused:
        delegation_grant(actor=web(spouse), dossier=people["file"], password=people["passwords"]["spouse"])
    assert refused.value.code == "not_allowed"
    assert _spouse_member(people["file"]).delegation_granted_at == before


def test_wrong_password_changes_nothing(people):
    responsible = people["responsible"]
    with pytest.raises(WrongPassword) as refused:
        delegation_grant(actor=web(responsible), dossier=people["file"], password="pas le bon")
    assert refused.value.code == "wrong_password" and refused.value.field == "password"
    assert refused.value.message == "Mot de passe incorrect."
    assert _spouse_member(people["file"]).delegation_granted_at is None
    assert not Message.objects.exists()
    # The one re-authentication journals the failure, with the file, even though nothing changed.
    failure = JournalEntry.objects.get(action="reauth.failure")
    assert failure.actor_person == responsible and failure.dossier == people["file"]
    assert failure.client_address == "192.0.2.7"
    assert not JournalEntry.objects.filter(action="delegation.granted").exists()


def test_repeated_wrong_passwords_are_slowed_down(people, settings):
    settings.MONCOMPTE_THROTTLE_FREE_FAILURES_PER_IDENTIFIER = 2
    responsible = people["responsible"]
    codes = []
    for _ in range(4):
        with pytest.raises(DomainError) as refused:
            delegation_grant(actor=web(responsible), dossier=people["file"], password="faux")
        codes.append(refused.value.code)
    assert codes[:3] == ["wrong_password"] * 3 and codes[3] == "throttled"
    with pytest.raises(Throttled) as refused:  # even the right password waits
        _grant(people)
    assert refused.value.code == "throttled" and refused.value.wait_seconds > 0
    assert _spouse_member(people["file"]).delegation_granted_at is None


def test_grant_twice_is_refused(people):
    _grant(people)
    with pytest.raises(DelegationError) as refused:
        _grant(people)
    assert refused.value.code == "already_granted"


def test_responsable_revokes(people, django_capture_on_commit_callbacks):
    _grant(people)
    responsible = people["responsible"]
    with django_capture_on_commit_callbacks(execute=True):
        change = delegation_revoke(
            actor=web(responsible), dossier=people["file"], password=people["passwords"]["responsible"]
        )
    assert change.action == "revoked"
    assert standing(people["spouse"], people["file"]) == Standing.SPOUSE
    revoked = [m for m in mail.outbox if "retirée" in m.subject]
    assert sorted(m.to[0] for m in revoked) == sorted([email_of(people["responsible"]), email_of(people["spouse"])])
    assert f"a retiré à {people['spouse'].display_name} l'autorisation" in revoked[0].body
    assert JournalEntry.objects.filter(action="delegation.revoked", actor_person=responsible).count() == 1


def test_delegated_spouse_renounces(people, django_capture_on_commit_callbacks):
    _grant(people)
    spouse = people["spouse"]
    with django_capture_on_commit_callbacks(execute=True):
        change = delegation_renounce(actor=web(spouse), dossier=people["file"], password=people["passwords"]["spouse"])
    assert change.action == "renounced"
    assert standing(spouse, people["file"]) == Standing.SPOUSE
    renounced = [m for m in mail.outbox if "abandonnée" in m.subject]
    assert sorted(m.to[0] for m in renounced) == sorted([email_of(people["responsible"]), email_of(people["spouse"])])
    assert f"{people['spouse'].display_name} a renoncé" in renounced[0].body
    assert JournalEntry.objects.filter(action="delegation.renounced", actor_person=spouse).count() == 1


@pytest.mark.parametrize("service", [delegation_revoke, delegation_renounce])
def test_spouse_without_delegation_and_child_cannot_withdraw(people, service):
    for who in ("spouse", "child"):
        person = people[who]
        with pytest.raises(DelegationError) as refused:
            service(actor=web(person), dossier=people["file"], password=people["passwords"][who])
        assert refused.value.code == "not_allowed"


def test_the_delegated_spouse_cannot_revoke_and_the_responsable_cannot_renounce(people):
    """Two actions of the policy: REVOKE_DELEGATION (R) and RENOUNCE_DELEGATION (S+)."""
    _grant(people)
    with pytest.raises(DelegationError) as refused:
        delegation_revoke(actor=web(people["spouse"]), dossier=people["file"], password=people["passwords"]["spouse"])
    assert refused.value.code == "not_allowed"
    with pytest.raises(DelegationError) as refused:
        delegation_renounce(
            actor=web(people["responsible"]), dossier=people["file"], password=people["passwords"]["responsible"]
        )
    assert refused.value.code == "not_allowed"
    assert _spouse_member(people["file"]).delegation_granted_at is not None
    assert not JournalEntry.objects.filter(action__in=["delegation.revoked", "delegation.renounced"]).exists()


def test_revoke_without_delegation_is_refused(people):
    responsible = people["responsible"]
    with pytest.raises(DelegationError) as refused:
        delegation_revoke(actor=web(responsible), dossier=people["file"], password=people["passwords"]["responsible"])
    assert refused.value.code == "not_granted"


def test_renounce_after_the_delegation_was_withdrawn_meanwhile(people, monkeypatch):
    """The spouse passed the first check as S+, then the responsible person revoked before the
    locked re-check: nothing left to renounce, and said so."""
    from moncompte.households import services

    _grant(people)
    real = services.reauthenticate

    def revoked_meanwhile(**kwargs):
        real(**kwargs)
        Member.objects.filter(pk=_spouse_member(people["file"]).pk).update(delegation_granted_at=None)

    monkeypatch.setattr(services, "reauthenticate", revoked_meanwhile)
    with pytest.raises(DelegationError) as refused:
        delegation_renounce(actor=web(people["spouse"]), dossier=people["file"], password=people["passwords"]["spouse"])
    assert refused.value.code == "not_granted"


def test_the_standing_is_asked_again_on_the_locked_rows(people, monkeypatch):
    """The responsible person passes the first check, then is no longer responsible: refused."""
    from moncompte.households import services

    real = services.reauthenticate

    def demoted_meanwhile(**kwargs):
        real(**kwargs)
        Member.objects.filter(person=people["responsible"]).update(ended_on=datetime.date.today())

    monkeypatch.setattr(services, "reauthenticate", demoted_meanwhile)
    with pytest.raises(DelegationError) as refused:
        _grant(people)
    assert refused.value.code == "not_allowed"
    assert _spouse_member(people["file"]).delegation_granted_at is None


def test_account_must_be_the_actors(people):
    with pytest.raises(ValueError):
        Actor(channel=Channel.WEB, person=people["responsible"], account=people["spouse"].account)


# Separation -------------------------------------------------------------------------------------


@pytest.mark.parametrize("declared_by", ["responsible", "spouse"])
@pytest.mark.parametrize("leaving", ["responsible", "spouse"])
def test_separation_ends_the_spouse_membership_and_delegation(
    people, declared_by, leaving, django_capture_on_commit_callbacks
):
    _grant(people)
    day = timezone.localdate() - datetime.timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        change = separation_declare(
            actor=web(people[declared_by]),
            dossier=people["file"],
            separated_on=day,
            leaving_person=people[leaving],
            new_address=ADDRESS,
        )
    spouse = _spouse_member(people["file"])
    assert spouse.ended_on == timezone.localdate() and spouse.delegation_granted_at is None
    assert standing(people["spouse"], people["file"]) == Standing.FORMER_SPOUSE
    assert standing(people["responsible"], people["file"]) == Standing.RESPONSABLE
    assert standing(people["child"], people["file"]) == Standing.MEMBER
    assert people["spouse"].account.is_active
    change.refresh_from_db()
    assert change.kind == "separation" and change.state == "to_process"
    assert change.declared_by == people[declared_by] and change.effective_on == day
    assert change.data["new_address"] == ADDRESS
    assert change.data["leaving_role"] == ("responsable" if leaving == "responsible" else "conjoint")
    assert change.data["delegation_removed"] is True
    assert sorted(m.to[0] for m in mail.outbox if "séparation" in m.subject) == sorted(
        [email_of(people["responsible"]), email_of(people["spouse"])]
    )
    assert all("Acacias" not in m.body for m in mail.outbox)  # the new address is not sent around
    entry = JournalEntry.objects.get(action="separation.declared")
    assert entry.detail["situation_change_id"] == change.pk and "Acacias" not in str(entry.detail)


def test_separation_by_a_spouse_without_delegation(people):
    separation_declare(
        actor=web(people["spouse"]),
        dossier=people["file"],
        separated_on=timezone.localdate(),
        leaving_person=people["spouse"],
        new_address=ADDRESS,
    )
    assert standing(people["spouse"], people["file"]) == Standing.FORMER_SPOUSE


@pytest.mark.parametrize("who", ["child", "stranger", "neighbour"])
def test_separation_refused_to_others(people, who):
    with pytest.raises(SeparationError) as refused:
        separation_declare(
            actor=web(people[who]),
            dossier=people["file"],
            separated_on=timezone.localdate(),
            leaving_person=people["spouse"],
            new_address=ADDRESS,
        )
    assert refused.value.code == "not_allowed"
    assert not SituationChange.objects.exists()
    assert _spouse_member(people["file"]).ended_on is None


def test_separation_refuses_bad_inputs(people):
    base = dict(actor=web(people["responsible"]), dossier=people["file"], leaving_person=people["spouse"])
    with pytest.raises(SeparationError) as refused:
        separation_declare(**base, separated_on=timezone.localdate() + datetime.timedelta(days=1), new_address=ADDRESS)
    assert refused.value.field == "separated_on" and "futur" in refused.value.message
    with pytest.raises(SeparationError) as refused:
        separation_declare(**base, separated_on=timezone.localdate(), new_address={**ADDRESS, "city": " "})
    assert refused.value.field == "city"
    with pytest.raises(SeparationError) as refused:
        separation_declare(
            actor=web(people["responsible"]),
            dossier=people["file"],
            leaving_person=people["child"],
            separated_on=timezone.localdate(),
            new_address=ADDRESS,
        )
    assert refused.value.code == "leaving_person"
    assert not SituationChange.objects.exists() and _spouse_member(people["file"]).ended_on is None


def test_after_separation_the_former_spouse_can_do_nothing_more(people):
    separation_declare(
        actor=web(people["responsible"]),
        dossier=people["file"],
        separated_on=timezone.localdate(),
        leaving_person=people["spouse"],
        new_address=ADDRESS,
    )
    spouse = people["spouse"]
    with pytest.raises(SeparationError) as refused:
        separation_declare(
            actor=web(spouse),
            dossier=people["file"],
            separated_on=timezone.localdate(),
            leaving_person=spouse,
            new_address=ADDRESS,
        )
    assert refused.value.code == "not_allowed"
    with pytest.raises(DelegationError):
        _grant(people)  # no current spouse left
