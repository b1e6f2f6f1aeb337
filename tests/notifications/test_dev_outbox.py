import pytest

from moncompte.notifications.services import message_send


@pytest.fixture
def outbox(settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "moncompte.notifications.email.OutboxEmailBackend"
    settings.MONCOMPTE_SMS_BACKEND = "moncompte.notifications.sms.OutboxSmsGateway"
    with django_capture_on_commit_callbacks(execute=True):
        message_send(
            channel="sms", recipient="+33612345678", template="contact_code", context={"code": "135792", "minutes": 10}
        )
        message_send(
            channel="email",
            recipient="claire.martin@example.fr",
            template="reset_code",
            context={"code": "246801", "minutes": 10},
        )


@pytest.mark.django_db
def test_the_outbox_page_lists_messages_in_debug(client, settings, outbox):
    settings.DEBUG = True
    response = client.get("/dev/messages/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "135792" in page and "+33612345678" in page
    assert "246801" in page and "Votre code pour changer de mot de passe" in page
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_outbox_page_does_not_exist_without_debug(client, settings, outbox):
    settings.DEBUG = False
    response = client.get("/dev/messages/")
    assert response.status_code == 404
    assert "135792" not in response.content.decode()


@pytest.mark.django_db
def test_the_outbox_page_does_not_exist_in_production_even_with_debug(client, settings, outbox):
    settings.DEBUG = True
    settings.PRODUCTION = True
    response = client.get("/dev/messages/")
    assert response.status_code == 404
    assert "135792" not in response.content.decode()
