import email
import email.policy
import re

import pytest
from django.db import transaction

from moncompte.notifications.models import Message, MessageStatus, OutboxEntry
from moncompte.notifications.rendering import MESSAGE_TEMPLATES, message_render
from moncompte.notifications.services import message_send
from moncompte.notifications.tasks import MessageDeliveryError, deliver_message

CODE = "482913"
CODE_CONTEXT = {"code": CODE, "minutes": 10}


def send_code(channel="sms", recipient="+33612345678", template="contact_code"):
    return message_send(channel=channel, recipient=recipient, template=template, context=CODE_CONTEXT)


@pytest.mark.django_db
def test_email_arrives_through_a_real_smtp_server(smtp_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = send_code(channel="email", recipient="claire.martin@example.fr")

    assert len(smtp_server.envelopes) == 1
    envelope = smtp_server.envelopes[0]
    assert envelope.rcpt_tos == ["claire.martin@example.fr"]
    received = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert received["Subject"] == "Votre code de validation Mon Compte"
    assert received["Message-ID"] == f"<{message.idempotency_key}@moncompte.localhost>"
    assert received["Auto-Submitted"] == "auto-generated"
    body = received.get_body(preferencelist=("plain",)).get_content()
    assert CODE in body
    assert "valable 10 minutes" in body

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    assert bytes(message.body_sealed) == b""  # erased once sent


@pytest.mark.django_db
def test_sms_goes_to_the_http_gateway_with_token_and_idempotency_key(sms_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = send_code()

    assert len(sms_server.requests) == 1
    request = sms_server.requests[0]
    assert request["path"] == "/v1/sms"
    assert request["headers"]["Authorization"] == "Bearer test-sms-token"
    assert request["headers"]["Content-Type"] == "application/json"
    assert set(request["json"]) == {"to", "text", "idempotency_key"}
    assert request["json"]["to"] == "+33612345678"
    assert request["json"]["idempotency_key"] == str(message.idempotency_key)
    assert CODE in request["json"]["text"]
    assert request["json"]["text"].startswith("Mon Compte Caf : votre code de validation est")

    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert bytes(message.body_sealed) == b""


@pytest.mark.django_db
def test_a_task_that_runs_twice_sends_once(sms_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = send_code()
    assert deliver_message.call(message.pk) == MessageStatus.SENT
    assert deliver_message.call(message.pk) == MessageStatus.SENT
    assert len(sms_server.requests) == 1
    message.refresh_from_db()
    assert message.attempts == 1


@pytest.mark.django_db
def test_a_failing_gateway_counts_attempts_and_never_records_the_body(
    sms_server, settings, django_capture_on_commit_callbacks
):
    sms_server.status = 500
    with django_capture_on_commit_callbacks(execute=True):
        message = send_code()

    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING
    assert message.attempts == 1
    assert "HTTP 500" in message.last_error
    assert CODE not in message.last_error
    assert message.get_body()  # still sealed, for the retry

    # The retries (run by hand here: the immediate backend schedules none) until the limit.
    for attempt in range(2, settings.MONCOMPTE_MESSAGE_MAX_ATTEMPTS + 1):
        with pytest.raises(MessageDeliveryError) as raised:
            deliver_message.call(message.pk)
        assert CODE not in str(raised.value)
        message.refresh_from_db()
        assert message.attempts == attempt

    assert message.status == MessageStatus.FAILED
    assert bytes(message.body_sealed) == b""  # given up: the code does not linger either
    assert CODE not in message.last_error
    assert len(sms_server.requests) == settings.MONCOMPTE_MESSAGE_MAX_ATTEMPTS
    # A given-up message is not retried.
    assert deliver_message.call(message.pk) == MessageStatus.FAILED
    assert len(sms_server.requests) == settings.MONCOMPTE_MESSAGE_MAX_ATTEMPTS


@pytest.mark.django_db
def test_an_unreachable_smtp_server_leaves_the_message_pending(settings, django_capture_on_commit_callbacks):
    from tests.notifications.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    with django_capture_on_commit_callbacks(execute=True):
        message = send_code(channel="email", recipient="claire.martin@example.fr")
    message.refresh_from_db()
    assert message.status == MessageStatus.PENDING
    assert message.attempts == 1
    assert message.last_error.startswith("ConnectionRefusedError")
    assert CODE not in message.last_error


@pytest.mark.django_db
def test_nothing_is_sent_for_a_rolled_back_transaction(sms_server, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            send_code()
            raise RuntimeError("the caller fails after asking for the message")
    assert callbacks == []
    assert sms_server.requests == []
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_the_body_is_stored_sealed():
    message = send_code()  # inside the test's transaction: not sent yet
    stored = bytes(Message.objects.values_list("body_sealed", flat=True).get(pk=message.pk))
    assert CODE.encode() not in stored
    assert b"Mon Compte" not in stored
    assert CODE in Message.objects.get(pk=message.pk).get_body()
    # Bound to its row: the same ciphertext does not open as another message's body.
    other = send_code()
    other.body_sealed = stored
    with pytest.raises(Exception, match="does not open"):
        other.get_body()


@pytest.mark.django_db
def test_the_outbox_gateways_store_sealed_bodies(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "moncompte.notifications.email.OutboxEmailBackend"
    settings.MONCOMPTE_SMS_BACKEND = "moncompte.notifications.sms.OutboxSmsGateway"
    with django_capture_on_commit_callbacks(execute=True):
        sms = send_code()
        mail = send_code(channel="email", recipient="claire.martin@example.fr")
    entries = {entry.channel: entry for entry in OutboxEntry.objects.all()}
    assert entries["sms"].reference == str(sms.idempotency_key)
    assert entries["email"].reference == f"<{mail.idempotency_key}@moncompte.localhost>"
    assert entries["email"].subject == "Votre code de validation Mon Compte"
    for entry in entries.values():
        assert CODE in entry.get_body()
        assert CODE.encode() not in bytes(entry.body_sealed)


def test_every_template_renders_in_french_and_fits_one_sms():
    from datetime import UTC, datetime

    contexts = {
        "contact_code": CODE_CONTEXT,
        "reset_code": CODE_CONTEXT,
        "unlock_code": CODE_CONTEXT,
        "phone_code": {"code": CODE, "minutes": 30},
        "password_changed": {"changed_at": datetime(2021, 10, 10, 20, 30, tzinfo=UTC)},
        "provisional_identifier": {"identifier": "P-7K3M9-QX2T4"},
        "delegation_granted": {
            "responsable": "Claire MARTIN",
            "spouse": "Marc MARTIN",
            "at": datetime(2021, 10, 10, 20, 30, tzinfo=UTC),
        },
        "delegation_revoked": {
            "responsable": "Claire MARTIN",
            "spouse": "Marc MARTIN",
            "at": datetime(2021, 10, 10, 20, 30, tzinfo=UTC),
            "renounced": True,
        },
        "invitation": {
            "inviter": "Claire MARTIN",
            "member_first_name": "Pierre",
            "link": "https://moncompte.caf.fr/invitation/#7K3M-9QX2-T4BN-8WCD",
            "code": "7K3M-9QX2-T4BN-8WCD",
            "expires_at": datetime(2021, 10, 10, 20, 30, tzinfo=UTC),
        },
        "signup_claim_received": {"identifier": "P-7K3M9-QX2T4"},
        "signup_claim_holder_notice": {"asked_at": datetime(2021, 10, 10, 20, 30, tzinfo=UTC)},
        "identity_check_accepted": {"bound": True},
        "identity_check_attached": {},
        "contact_replaced": {
            "kind": "phone",
            "changed_at": datetime(2021, 10, 10, 20, 30, tzinfo=UTC),
            "new_destination": "06 ** ** ** 44",
            "help_link": "https://moncompte.caf.fr/aide/#nous-contacter",
        },
        "contact_removed": {
            "kind": "phone",
            "removed_at": datetime(2021, 10, 10, 20, 30, tzinfo=UTC),
            "help_link": "https://moncompte.caf.fr/aide/#nous-contacter",
        },
        "identifier_reminder": {
            "reminders": [
                {"provisional": False, "shown": "1 •• •• •• ••• ••• 04", "first": "1", "key": "04"},
                {"provisional": True, "shown": "P-7K3M9-QX2T4"},
            ]
        },
        "invitation_requested": {
            "member_first_name": "Pierre",
            "link": "https://moncompte.caf.fr/mon-compte/foyer/inviter/",
            "requested_at": datetime(2021, 10, 10, 20, 30, tzinfo=UTC),
        },
        "procedure_submitted": {
            "label": "Demande d'aide au logement",
            "reference": "AL-2026-7K3M9Q2X",
            "at": datetime(2021, 10, 10, 20, 30, tzinfo=UTC),
        },
        "procedure_draft_reminder": {
            "label": "Déclaration de changement de ressources",
            "expires_at": datetime(2021, 10, 10, 20, 30, tzinfo=UTC),
        },
        "caf_request_waiting": {"title": "Justificatif de domicile", "due_on": datetime(2026, 12, 1).date()},
        "identity_check_rejected": {"reason": "Document illisible"},
        "identifier_replaced": {"valid_until": datetime(2022, 4, 8, 20, 30, tzinfo=UTC)},
        "separation_declared": {
            "declared_by": "Marc MARTIN",
            "separated_on": datetime(2021, 10, 10, 20, 30, tzinfo=UTC).date(),
            "at": datetime(2021, 10, 10, 20, 30, tzinfo=UTC),
        },
        # QUEUES (issue 12)
        "rectification_processed": {"field_label": "Nom de naissance", "accepted": False, "corrected": False},
        "separation_processed": {
            "separated_on": datetime(2021, 10, 10, 20, 30, tzinfo=UTC).date(),
            "at": datetime(2021, 10, 10, 20, 30, tzinfo=UTC),
            "outcome": "left_new_file",
        },
        "caf_request_closed": {"title": "Justificatif de domicile", "answered": True},
    }
    gsm7 = set(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
        "abcdefghijklmnopqrstuvwxyzäöñüà"
    )
    assert set(contexts) == set(MESSAGE_TEMPLATES)
    for name, context in contexts.items():
        sms = message_render(channel="sms", template=name, context=context)
        assert len(sms.body) <= 160, name
        assert set(sms.body) <= gsm7, (name, set(sms.body) - gsm7)
        mail = message_render(channel="email", template=name, context=context)
        assert mail.subject and "\n" not in mail.subject
        assert "{{" not in mail.body and "{%" not in mail.body
    changed = message_render(channel="email", template="password_changed", context=contexts["password_changed"])
    assert "10 octobre 2021 à 22:30" in changed.body  # Paris time, French month
    assert "09 69 32 52 52" in changed.body


@pytest.mark.django_db
def test_bad_requests_are_refused_before_anything_is_stored():
    with pytest.raises(ValueError, match="needs"):
        message_send(channel="sms", recipient="+33612345678", template="contact_code", context={"code": CODE})
    with pytest.raises(ValueError, match="Unknown message template"):
        message_send(channel="sms", recipient="+33612345678", template="nope", context={})
    with pytest.raises(ValueError, match="E.164"):
        send_code(recipient="06 12 34 56 78")
    with pytest.raises(ValueError, match="one plain address"):
        send_code(channel="email", recipient="a@example.fr\r\nBcc: b@example.fr")
    assert not Message.objects.exists()


@pytest.mark.django_db
def test_an_expired_message_is_given_up_not_sent(sms_server):
    from datetime import timedelta

    from django.utils import timezone

    message = message_send(
        channel="sms",
        recipient="+33612345678",
        template="contact_code",
        context=CODE_CONTEXT,
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert deliver_message.call(message.pk) == MessageStatus.FAILED
    assert sms_server.requests == []
    message.refresh_from_db()
    assert bytes(message.body_sealed) == b""
    assert re.search("Expiré", message.last_error)
