"""moncompte.accounts.recovery: password reset through a validated contact, password change."""

import re

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from moncompte.accounts.models import Account, AccountSession
from moncompte.accounts.recovery import (
    PasswordRefused,
    masked_contacts,
    password_change,
    password_reset_complete,
    password_reset_request,
    password_reset_verify,
    session_rekeyed,
)
from moncompte.audit.models import JournalEntry
from moncompte.core.actors import Actor, Channel
from moncompte.identity.identifiers import nir_key, parse_identifier
from moncompte.notifications.models import Message
from moncompte.verification.models import ContactChallenge
from tests.conftest import person_of, sign_in
from tests.factories import AccountFactory, ContactFactory, PersonFactory

pytestmark = pytest.mark.django_db

ADDRESS = "198.51.100.7"
NEW_PASSWORD = "Marronniers et 41 pivoines"
# Commune 75001 is none of the factories' birth places: nobody holds this NIR.
UNKNOWN = parse_identifier("1 80 01 75 001 001 " + nir_key("1800175001001"))


@pytest.fixture
def holder(db):
    """An account with a validated email and a validated phone: both get codes and notices."""
    account = AccountFactory()
    ContactFactory(account=account, phone=True)
    return account


def email_of(account: Account) -> str:
    return account.contacts.get(kind="email").value


def phone_of(account: Account) -> str:
    return account.contacts.get(kind="phone").value


def credentials(account: Account) -> tuple[str, str]:
    return account.person.raw_identifier, account.raw_password


VISITOR = Actor.visitor(channel=Channel.WEB, client_address=ADDRESS)


def _account(raw: str) -> Account:
    return Account.objects.select_related("person").get(person=person_of(raw))


def _request(raw_or_identifier, **kwargs):
    identifier = raw_or_identifier if not isinstance(raw_or_identifier, str) else parse_identifier(raw_or_identifier)
    return password_reset_request(actor=VISITOR, identifier=identifier, **kwargs)


def _verify(request, code):
    return password_reset_verify(
        actor=VISITOR,
        flow_refs=request.flow_refs,
        account_id=request.account_id,
        throttle_key=request.throttle_key,
        code=code,
    )


def _code_sent_to(recipient: str, django_capture_on_commit_callbacks, request_fn):
    with django_capture_on_commit_callbacks(execute=True):
        result = request_fn()
    body = next(m.body for m in reversed(mail.outbox) if m.to == [recipient])
    return result, re.search(r"\b(\d{6})\b", body).group(1)


# Step 1 -----------------------------------------------------------------------------------------


def test_a_real_account_gets_one_code_per_validated_contact(holder):
    result = _request(holder.person.raw_identifier)
    assert not result.throttled
    assert result.account_id == holder.pk
    challenges = list(ContactChallenge.objects.filter(flow_ref__in=result.flow_refs).order_by("channel"))
    assert [(c.channel, c.destination) for c in challenges] == [
        ("email", email_of(holder)),
        ("phone", phone_of(holder)),
    ]
    assert all(c.purpose == "password_reset" and c.message_id for c in challenges)
    assert len(set(result.flow_refs)) == 2


@pytest.mark.parametrize("who", ["unknown", "person-without-account"])
def test_no_account_gets_two_decoys_and_nothing_is_sent(holder, who):
    result = _request(UNKNOWN if who == "unknown" else PersonFactory().raw_identifier)
    assert result.account_id is None and len(result.flow_refs) == 2
    challenges = ContactChallenge.objects.filter(flow_ref__in=result.flow_refs)
    assert challenges.count() == 2
    assert {c.destination for c in challenges} == {""}
    assert not any(c.message_id for c in challenges)
    assert not Message.objects.exists()


def test_a_missing_channel_gets_a_decoy():
    email_only = AccountFactory()
    result = _request(email_only.person.raw_identifier)
    challenges = {c.channel: c for c in ContactChallenge.objects.filter(flow_ref__in=result.flow_refs)}
    assert challenges["email"].destination == email_of(email_only)
    assert challenges["phone"].destination == "" and challenges["phone"].message_id is None


def test_an_inactive_account_is_treated_as_unknown(holder):
    Account.objects.filter(pk=holder.pk).update(is_active=False)
    result = _request(holder.person.raw_identifier)
    assert result.account_id is None
    assert not Message.objects.exists()


def test_a_destination_that_got_too_many_codes_is_skipped_silently(holder, settings):
    settings.MONCOMPTE_CODE_MAX_SENDS_PER_DESTINATION_PER_HOUR = 1
    _request(holder.person.raw_identifier)
    result = _request(holder.person.raw_identifier)  # no exception, same shape
    assert len(result.flow_refs) == 2 and result.account_id is not None
    assert {c.destination for c in ContactChallenge.objects.filter(flow_ref__in=result.flow_refs)} == {""}
    assert JournalEntry.objects.filter(action="password_reset.request").last().detail == {"sent": 0, "refused": 2}


def test_requests_count_for_known_and_unknown_identifiers_alike(holder):
    for who in (holder.person.raw_identifier, UNKNOWN):
        results = [_request(who) for _ in range(7)]
        assert [r.throttled for r in results] == [False] * 6 + [True]
        assert results[-1].wait_seconds == 1
        assert not results[-1].flow_refs and results[-1].account_id is None


# Step 2 -----------------------------------------------------------------------------------------


def test_the_right_code_proves_the_account(holder, django_capture_on_commit_callbacks):
    result, code = _code_sent_to(
        email_of(holder), django_capture_on_commit_callbacks, lambda: _request(holder.person.raw_identifier)
    )
    check = _verify(result, code)
    assert check.ok and check.account == holder
    again = _verify(result, code)
    assert not again.ok and again.message == "Ce code a déjà été utilisé."


def test_decoys_answer_like_real_codes(holder):
    known, unknown = _request(holder.person.raw_identifier), _request(UNKNOWN)
    wrong = "000000"
    answers = [(_verify(known, wrong).message, _verify(unknown, wrong).message) for _ in range(6)]
    for known_message, unknown_message in answers:
        assert known_message == unknown_message
    assert answers[0][0] == "Le code saisi est incorrect. Il vous reste 4 essais."
    assert "codes incorrects" in answers[4][0]
    # The 6th try waits: the request and 5 wrong codes counted on the identifier.
    assert answers[5][0].startswith("Trop de tentatives")


def test_expired_codes_and_decoys_say_so(holder):
    known, unknown = _request(holder.person.raw_identifier), _request(UNKNOWN)
    ContactChallenge.objects.update(expires_at=timezone.now())
    assert (
        _verify(known, "123456").message
        == _verify(unknown, "123456").message
        == ("Ce code a expiré. Demandez un nouveau code.")
    )


def test_a_code_proves_only_the_account_of_its_flow(holder, django_capture_on_commit_callbacks):
    result, code = _code_sent_to(
        email_of(holder), django_capture_on_commit_callbacks, lambda: _request(holder.person.raw_identifier)
    )
    other = AccountFactory()
    forged = type(result)(flow_refs=result.flow_refs, account_id=other.pk, throttle_key="x")
    assert not _verify(forged, code).ok


# Step 3 -----------------------------------------------------------------------------------------


def test_reset_complete_sets_the_password_ends_every_session_and_tells_the_person(
    holder, django_capture_on_commit_callbacks
):
    laptop, phone = Client(), Client()
    assert sign_in(laptop, *credentials(holder)).status_code == 302
    assert sign_in(phone, *credentials(holder)).status_code == 302
    account = _account(holder.person.raw_identifier)
    before = account.password_changed_at
    with django_capture_on_commit_callbacks(execute=True):
        ended = password_reset_complete(actor=VISITOR, account=account, password=NEW_PASSWORD)
    assert ended == 2
    account.refresh_from_db()
    assert account.check_password(NEW_PASSWORD) and account.password_changed_at > before
    assert set(AccountSession.objects.values_list("end_reason", flat=True)) == {"password_reset"}
    notices = Message.objects.filter(template="password_changed")
    assert sorted(notices.values_list("channel", "recipient")) == [
        ("email", email_of(holder)),
        ("sms", phone_of(holder)),
    ]
    entry = JournalEntry.objects.get(action="password.reset")
    assert entry.subject_person == account.person == entry.actor_person
    assert entry.client_address == ADDRESS
    assert entry.detail == {"sessions_ended": 2, "notified": 2}


def test_reset_complete_refuses_a_weak_password_and_changes_nothing():
    person = PersonFactory(first_names="Claire Anne", sex="F")
    account = AccountFactory(person=person)
    hashed = account.password
    weak = f"Claire{person.birth_date.year}"
    with pytest.raises(PasswordRefused) as refused:
        password_reset_complete(actor=VISITOR, account=account, password=weak)
    assert refused.value.code == "weak" and refused.value.field == "password"
    assert len(refused.value.messages) >= 2  # too short, contains a name
    account.refresh_from_db()
    assert account.password == hashed
    assert not Message.objects.exists()
    assert not JournalEntry.objects.filter(action="password.reset").exists()


def test_masked_contacts():
    account = AccountFactory(with_contact=False)
    ContactFactory(account=account, value="claire.martin@example.fr")
    ContactFactory(account=account, phone=True, value="+33611223344")
    ContactFactory(account=account, unverified=True, value="pas.encore@example.fr")  # not validated: not listed
    assert masked_contacts(account) == ["c•••@e•••.fr", "06 •• •• •• 44"]


# Change -----------------------------------------------------------------------------------------


def _change(account, current, new, keep=None):
    actor = Actor(channel=Channel.WEB, account=account, session_key=keep, client_address=ADDRESS)
    return password_change(actor=actor, current_password=current, new_password=new)


def test_change_with_a_wrong_current_password_is_refused_and_counted(holder):
    account = _account(holder.person.raw_identifier)
    hashed = account.password
    for _ in range(6):
        with pytest.raises(PasswordRefused) as refused:
            _change(account, "Pas le bon 2021", NEW_PASSWORD)
        assert refused.value.code == "wrong_current" and refused.value.field == "current_password"
    with pytest.raises(PasswordRefused) as refused:
        _change(account, holder.raw_password, NEW_PASSWORD)
    assert refused.value.code == "throttled" and refused.value.wait_seconds == 1
    account.refresh_from_db()
    assert account.password == hashed
    # The one re-authentication counted and journaled them (moncompte.accounts.reauth).
    failures = JournalEntry.objects.filter(action="reauth.failure")
    assert failures.count() == 6 and all(e.detail == {"purpose": "password_change"} for e in failures)
    assert JournalEntry.objects.filter(action="reauth.throttled").count() == 1


def test_wrong_passwords_elsewhere_count_against_the_change_too(holder):
    from moncompte.accounts.reauth import WrongPassword, reauthenticate

    account = _account(holder.person.raw_identifier)
    actor = Actor(channel=Channel.WEB, account=account, client_address="203.0.113.9")
    for _ in range(6):
        with pytest.raises(WrongPassword):
            reauthenticate(actor=actor, password="Pas le bon 2021", purpose="contact_change")
    with pytest.raises(PasswordRefused) as refused:
        _change(account, holder.raw_password, NEW_PASSWORD)
    assert refused.value.code == "throttled" and refused.value.status == 429


def test_change_refuses_weak_and_unchanged_passwords(holder):
    account = _account(holder.person.raw_identifier)
    with pytest.raises(PasswordRefused) as refused:
        _change(account, holder.raw_password, "azerty123")
    assert refused.value.code == "weak"
    with pytest.raises(PasswordRefused) as refused:
        _change(account, holder.raw_password, holder.raw_password)
    assert refused.value.code == "same"


def test_change_keeps_the_given_session_and_ends_the_others(holder, django_capture_on_commit_callbacks):
    laptop, phone = Client(), Client()
    assert sign_in(laptop, *credentials(holder)).status_code == 302
    assert sign_in(phone, *credentials(holder)).status_code == 302
    keep = laptop.session.session_key
    with django_capture_on_commit_callbacks(execute=True):
        ended = _change(_account(holder.person.raw_identifier), holder.raw_password, NEW_PASSWORD, keep=keep)
    assert ended == 1
    assert AccountSession.objects.get(session_key=keep).ended_at is None
    assert AccountSession.objects.exclude(session_key=keep).get().end_reason == "password_changed"
    assert Message.objects.filter(template="password_changed").count() == 2
    assert JournalEntry.objects.get(action="password.change").detail == {"sessions_ended": 1, "notified": 2}
    assert _account(holder.person.raw_identifier).check_password(NEW_PASSWORD)


def test_session_rekeyed_moves_the_record_to_the_new_key(holder):
    client = Client()
    assert sign_in(client, *credentials(holder)).status_code == 302
    old = client.session.session_key
    session_rekeyed(old_key=old, new_key="n" * 32)
    assert AccountSession.objects.get(session_key="n" * 32).account == holder
    assert not AccountSession.objects.filter(session_key=old).exists()
