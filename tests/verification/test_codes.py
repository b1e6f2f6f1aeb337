import threading
import time
from datetime import timedelta

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from moncompte.notifications.models import Message, OutboxEntry
from moncompte.verification.models import ContactChallenge
from moncompte.verification.services import (
    CheckOutcome,
    CodeSendRefused,
    challenge_check,
    challenge_current,
    challenge_issue,
    challenge_resend,
    new_flow_ref,
)
from tests.verification.conftest import last_code

PHONE = "+33612345678"
PURPOSE = "contact_validation"


def issue(flow_ref, destination="06 12 34 56 78", channel="phone", purpose=PURPOSE):
    return challenge_issue(purpose=purpose, channel=channel, destination=destination, flow_ref=flow_ref)


def check(flow_ref, code, purpose=PURPOSE):
    return challenge_check(flow_ref=flow_ref, purpose=purpose, code=code)


def wrong_code(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.mark.django_db
def test_a_code_is_sent_then_accepted_once(deliver):
    flow = new_flow_ref()
    with deliver():
        challenge = issue(flow)
    assert challenge.destination == PHONE
    assert challenge.expires_at - challenge.created_at == timedelta(minutes=10)
    code = last_code(PHONE)
    assert len(code) == 6 and code.isdigit()

    result = check(flow, code[:3] + " " + code[3:])  # spaces typed by the person are fine
    assert result.outcome == CheckOutcome.OK and result.ok
    assert result.message == "Le code est validé."

    again = check(flow, code)
    assert again.outcome == CheckOutcome.USED
    assert again.message == "Ce code a déjà été utilisé."


@pytest.mark.django_db
def test_an_email_code_goes_to_the_normalized_address(deliver):
    flow = new_flow_ref()
    with deliver():
        challenge = issue(flow, destination="  Claire.Martin@EXAMPLE.FR ", channel="email", purpose="password_reset")
    assert challenge.destination == "Claire.Martin@example.fr"
    entry = OutboxEntry.objects.get(recipient="Claire.Martin@example.fr")
    assert entry.subject == "Votre code pour changer de mot de passe"
    assert check(flow, last_code("Claire.Martin@example.fr"), purpose="password_reset").ok
    # A code is bound to its purpose.
    assert check(flow, "000000").outcome == CheckOutcome.NONE


@pytest.mark.django_db
def test_wrong_codes_count_down_then_a_new_code_is_needed(deliver):
    flow = new_flow_ref()
    with deliver():
        issue(flow)
    code = last_code(PHONE)
    remaining = []
    for _ in range(4):
        result = check(flow, wrong_code(code))
        assert result.outcome == CheckOutcome.WRONG
        remaining.append(result.remaining_tries)
    assert remaining == [4, 3, 2, 1]
    assert check(flow, wrong_code(code)).outcome == CheckOutcome.EXHAUSTED  # the fifth wrong code
    assert ContactChallenge.objects.get().attempts == 5
    exhausted = check(flow, code)  # even the right code: 5 tries were used
    assert exhausted.outcome == CheckOutcome.EXHAUSTED
    assert exhausted.message == "Vous avez saisi 5 codes incorrects. Demandez un nouveau code."


@pytest.mark.django_db
def test_the_fifth_wrong_code_says_a_new_code_is_needed(deliver):
    flow = new_flow_ref()
    with deliver():
        issue(flow)
    code = last_code(PHONE)
    messages = [check(flow, wrong_code(code)).message for _ in range(5)]
    assert messages[0] == "Le code saisi est incorrect. Il vous reste 4 essais."
    assert messages[3] == "Le code saisi est incorrect. Il vous reste 1 essai."
    assert messages[4] == "Vous avez saisi 5 codes incorrects. Demandez un nouveau code."
    assert check(flow, "abc").outcome == CheckOutcome.EXHAUSTED


@pytest.mark.django_db
def test_an_expired_code_is_refused(deliver):
    flow = new_flow_ref()
    with deliver():
        challenge = issue(flow)
    code = last_code(PHONE)
    # Move the clock: the code was issued 10 minutes and 1 second ago.
    past = timezone.now() - timedelta(minutes=10, seconds=1)
    ContactChallenge.objects.filter(pk=challenge.pk).update(created_at=past, expires_at=past + timedelta(minutes=10))
    result = check(flow, code)
    assert result.outcome == CheckOutcome.EXPIRED
    assert result.message == "Ce code a expiré. Demandez un nouveau code."
    assert ContactChallenge.objects.get().consumed_at is None


@pytest.mark.django_db
def test_no_challenge_for_an_unknown_flow():
    result = check(new_flow_ref(), "123456")
    assert result.outcome == CheckOutcome.NONE
    assert result.message == "Aucun code n'est en attente. Demandez un nouveau code."


@pytest.mark.django_db
def test_a_new_issue_kills_the_previous_code(deliver):
    flow = new_flow_ref()
    with deliver():
        first = issue(flow)
    first_code = last_code(PHONE)
    with deliver():
        second = issue(flow, destination="07 56 12 34 56")  # the person corrected the number
    second_code = last_code("+33756123456")
    first.refresh_from_db()
    assert first.superseded_at is not None
    assert challenge_current(flow_ref=flow, purpose=PURPOSE) == second
    if first_code != second_code:
        assert check(flow, first_code).outcome == CheckOutcome.WRONG
    assert check(flow, second_code).ok


@pytest.mark.django_db
def test_issuing_again_to_the_same_destination_too_soon_is_refused(deliver):
    flow = new_flow_ref()
    with deliver():
        issue(flow)
    with pytest.raises(CodeSendRefused) as refused:
        issue(flow)
    assert 25 <= refused.value.wait_seconds <= 30
    assert refused.value.message.startswith("Un code vient de vous être envoyé.")
    assert OutboxEntry.objects.count() == 1


@pytest.mark.django_db
def test_resend_waits_grow_and_each_resend_kills_the_old_code(deliver):
    flow = new_flow_ref()
    with deliver():
        challenge = issue(flow)
    refused = challenge_resend(challenge=challenge)
    assert not refused.sent
    assert 25 <= refused.wait_seconds <= 30
    assert refused.message == f"Vous pourrez demander un nouveau code dans {refused.wait_seconds} secondes."

    waits = []
    for _ in range(6):
        old_code = last_code(PHONE)
        # Time passes: the wait is over.
        ContactChallenge.objects.filter(pk=challenge.pk).update(next_send_at=timezone.now() - timedelta(seconds=1))
        with deliver():
            result = challenge_resend(challenge=challenge)
        assert result.sent, result.message
        new = result.challenge
        waits.append(round((new.next_send_at - new.created_at).total_seconds()))
        challenge.refresh_from_db()
        assert challenge.superseded_at is not None
        too_soon = challenge_resend(challenge=new)
        assert not too_soon.sent and too_soon.wait_seconds > 0
        new_code = last_code(PHONE)
        if old_code != new_code:
            assert check(flow, old_code).outcome == CheckOutcome.WRONG
        challenge = new
    assert waits == [60, 120, 300, 600, 900, 900]
    assert challenge.sends == 7
    assert OutboxEntry.objects.count() == 7
    assert check(flow, last_code(PHONE)).ok
    assert not challenge_resend(challenge=challenge).sent  # a used code needs no new one


@pytest.mark.django_db
def test_a_destination_gets_at_most_ten_codes_an_hour(deliver):
    with deliver():
        for _ in range(10):
            issue(new_flow_ref())
    with pytest.raises(CodeSendRefused) as refused:
        issue(new_flow_ref())
    assert refused.value.message.startswith("Trop de codes ont été envoyés à ce destinataire.")
    assert 3500 <= refused.value.wait_seconds <= 3600
    # Another destination is not concerned.
    with deliver():
        issue(new_flow_ref(), destination="07 56 12 34 56")


@pytest.mark.django_db
def test_invalid_destinations_are_refused_in_french():
    with pytest.raises(ValueError, match="numéro de téléphone fixe|téléphone fixe"):
        issue(new_flow_ref(), destination="01 23 45 67 89")
    with pytest.raises(ValueError, match="adresse électronique valide"):
        issue(new_flow_ref(), destination="claire@", channel="email")
    assert not ContactChallenge.objects.exists()
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_codes_are_never_stored_in_clear(deliver):
    codes = []
    for destination, channel in [("06 12 34 56 78", "phone"), ("claire.martin@example.fr", "email")]:
        flow = new_flow_ref()
        with deliver():
            challenge = issue(flow, destination=destination, channel=channel)
        codes.append(last_code(challenge.destination))
    pending = issue(new_flow_ref(), destination="07 56 12 34 56")  # not sent yet: its message is pending
    assert Message.objects.get(pk=pending.message_id).status == "pending"
    codes.append(pending.message.get_body().split("est ")[1][:6])

    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608 (table names from introspection)
            for row in cursor.fetchall():
                for value in row:
                    text = bytes(value).decode("latin-1") if isinstance(value, bytes | memoryview) else str(value)
                    found += [(table, code) for code in codes if code in text]
    assert found == []
    for challenge in ContactChallenge.objects.all():
        assert len(challenge.code_digest) == 64


@pytest.mark.django_db(transaction=True)
def test_concurrent_checks_with_the_right_code_succeed_exactly_once():
    flow = new_flow_ref()
    issue(flow)  # autocommit: sent at once, on commit
    code = last_code(PHONE)
    outcomes = []
    barrier = threading.Barrier(6)

    def attempt():
        try:
            barrier.wait(timeout=5)
            for _ in range(500):
                try:
                    outcomes.append(str(check(flow, code).outcome))
                    return
                except OperationalError as exc:
                    # The suite's in-memory SQLite (shared cache) refuses a second writer at once
                    # instead of waiting: try again, as a person would. PostgreSQL waits on the lock.
                    if "locked" not in str(exc):
                        raise
                    time.sleep(0.005)
            outcomes.append("gave up")
        except Exception as exc:
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == sorted([CheckOutcome.OK] + [CheckOutcome.USED] * 5)
    assert ContactChallenge.objects.get().consumed_at is not None


@pytest.mark.django_db
def test_a_check_rolled_back_with_its_caller_leaves_the_code_usable(deliver):
    flow = new_flow_ref()
    with deliver():
        issue(flow)
    code = last_code(PHONE)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert check(flow, code).ok
        raise RuntimeError("the caller's next step failed")
    assert check(flow, code).ok
